package idcard_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/hallkiosk/hallkiosk/devices/idcard"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Fictitious people. The ID numbers are the valid test vectors of DEVICES.md 2.1.
func residentCard() *idcard.Card {
	return &idcard.Card{Type: idcard.CardResident, Name: "张三", Sex: "2", Nation: "01", Birth: "1949-12-31",
		Address: "北京市朝阳区建国路88号院3号楼1单元502室", IDNumber: "11010519491231002X",
		Issuer: "北京市公安局朝阳分局", ValidFrom: "2015-06-01", ValidTo: idcard.LongTerm, Photo: photo(1)}
}

func gatCard() *idcard.Card {
	return &idcard.Card{Type: idcard.CardGATResidence, Name: "陈嘉欣", Sex: "2", Birth: "1994-08-23",
		Address: "广东省深圳市福田区福华一路1号", IDNumber: "810000199408230021", Issuer: "深圳市公安局福田分局",
		ValidFrom: "2019-03-01", ValidTo: "2024-03-01", PassNumber: "H01234567", IssueCount: "01", Photo: photo(2)}
}

func foreignCard() *idcard.Card {
	return &idcard.Card{Type: idcard.CardForeignPermanent, Name: "史密斯", NameEN: "SMITH, JOHN", Sex: "1",
		Nation: "USA", Birth: "1985-01-01", IDNumber: "USA310085010112", Issuer: "1500",
		ValidFrom: "2018-07-01", ValidTo: "2028-07-01", CardVersion: "20", Photo: photo(3)}
}

func allCards() map[string]*idcard.Card {
	return map[string]*idcard.Card{"resident": residentCard(), "gat": gatCard(), "foreign": foreignCard()}
}

// photo is 1024 opaque bytes: no open WLT codec exists, so tests never look inside.
func photo(seed byte) []byte {
	p := make([]byte, idcard.PhotoSize)
	for i := range p {
		p[i] = byte(i)*31 + seed
	}
	return p
}

// block builds a text block by hand from DEVICES.md 1.6 offsets, independently of the
// package's layout tables.
type block []byte

func newBlock() block {
	b := make(block, 256)
	for i := 0; i < 256; i += 2 {
		b[i] = ' '
	}
	return b
}

func (b block) put(off, size int, s string) block {
	var enc []byte
	for _, u := range utf16.Encode([]rune(s)) {
		enc = binary.LittleEndian.AppendUint16(enc, u)
	}
	if len(enc) > size {
		panic(fmt.Sprintf("%q does not fit %d bytes", s, size))
	}
	copy(b[off:off+size], enc)
	return b
}

func residentBlock() block {
	return newBlock().put(0, 30, "张三").put(30, 2, "2").put(32, 4, "01").put(36, 16, "19491231").
		put(52, 70, "北京市朝阳区建国路88号院3号楼1单元502室").put(122, 36, "11010519491231002X").
		put(158, 30, "北京市公安局朝阳分局").put(188, 16, "20150601").put(204, 16, "长期")
}

func gatBlock() block {
	return newBlock().put(0, 30, "陈嘉欣").put(30, 2, "2").put(36, 16, "19940823").
		put(52, 70, "广东省深圳市福田区福华一路1号").put(122, 36, "810000199408230021").
		put(158, 30, "深圳市公安局福田分局").put(188, 16, "20190301").put(204, 16, "20240301").
		put(220, 18, "H01234567").put(238, 4, "01").put(248, 2, "J")
}

func foreignBlock() block {
	return newBlock().put(0, 120, "SMITH, JOHN").put(120, 2, "1").put(122, 30, "USA310085010112").
		put(152, 6, "USA").put(158, 30, "史密斯").put(188, 16, "20180701").put(204, 16, "20280701").
		put(220, 16, "19850101").put(236, 4, "20").put(240, 8, "1500").put(248, 2, "I")
}

// textOnly drops what the text block does not carry.
func textOnly(c *idcard.Card) *idcard.Card {
	d := *c
	d.Photo, d.Fingerprint, d.AppendedAddress = nil, nil, ""
	return &d
}

func sameCard(a, b *idcard.Card) bool { return reflect.DeepEqual(a, b) }

// fields renders every field in clear, for failure messages of fictitious cards only.
func fields(c *idcard.Card) string {
	d := *c
	d.Photo, d.Fingerprint = nil, nil
	return fmt.Sprintf("%+v (photo %d, fingerprint %d bytes)", struct {
		T, N, NE, S, Na, B, A, ID, I, VF, VT, P, IC, CV, AA string
	}{string(d.Type), d.Name, d.NameEN, d.Sex, d.Nation, d.Birth, d.Address, d.IDNumber, d.Issuer,
		d.ValidFrom, d.ValidTo, d.PassNumber, d.IssueCount, d.CardVersion, d.AppendedAddress}, len(c.Photo), len(c.Fingerprint))
}

func TestDecodeText(t *testing.T) {
	cases := []struct {
		name  string
		block block
		want  *idcard.Card
	}{
		{"resident", residentBlock(), residentCard()},
		{"gat", gatBlock(), gatCard()},
		{"foreign", foreignBlock(), foreignCard()},
	}
	for _, c := range cases {
		got, err := idcard.DecodeText(c.block)
		if err != nil {
			t.Errorf("%s: DecodeText = %v", c.name, err)
			continue
		}
		if want := textOnly(c.want); !sameCard(got, want) {
			t.Errorf("%s: DecodeText = %s; want %s", c.name, fields(got), fields(want))
		}
		enc, err := c.want.EncodeText()
		if err != nil || !bytes.Equal(enc, c.block) {
			t.Errorf("%s: EncodeText = %v\n% X\nwant\n% X", c.name, err, enc, []byte(c.block))
		}
	}
}

func TestDecodeTextPadding(t *testing.T) {
	// NUL padding instead of spaces, and a NUL card-type flag, are resident cards too.
	b := residentBlock()
	for i := 0; i < 30; i += 2 {
		if b[i] == ' ' && b[i+1] == 0 {
			b[i] = 0
		}
	}
	b[248], b[249] = 0, 0
	got, err := idcard.DecodeText(b)
	if err != nil || got.Name != "张三" || got.Type != idcard.CardResident {
		t.Errorf("DecodeText(NUL padded) = %v, %v; want the resident card", got, err)
	}
	// A character outside the BMP (a rare name character) survives as a surrogate pair.
	c := residentCard()
	c.Name = "张𠀀"
	enc, err := c.EncodeText()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := idcard.DecodeText(enc); err != nil || got.Name != c.Name {
		t.Errorf("DecodeText(surrogate pair) name = %q, %v; want %q", got.Name, err, c.Name)
	}
}

func TestDecodeTextErrors(t *testing.T) {
	cases := []struct {
		name  string
		block []byte
		want  string // in the error message
		is    error
	}{
		{"empty", nil, "256", nil},
		{"short", residentBlock()[:255], "256", nil},
		{"long", append(residentBlock(), 0, 0), "256", nil},
		{"birth not digits", residentBlock().put(36, 16, "1949123A"), "birth", nil},
		{"birth short", residentBlock().put(36, 16, "1949123 "), "birth", nil},
		{"birth blank", residentBlock().put(36, 16, "        "), "birth", nil},
		{"valid from 长期", residentBlock().put(188, 16, "长期      "), "valid from", nil},
		{"valid to garbage", residentBlock().put(204, 16, "2035013 "), "valid to", nil},
		{"sex", residentBlock().put(30, 2, "男"), "sex", nil},
		{"nation", residentBlock().put(32, 4, "汉 "), "nation", nil},
		{"id blank", residentBlock().put(122, 36, strings.Repeat(" ", 18)), "id number", nil},
		{"id lowercase", residentBlock().put(122, 36, "11010519491231002x"), "id number", nil},
		{"control char", residentBlock().put(0, 30, "张\x01三"), "name", nil},
		{"unpaired surrogate", residentBlock().putRaw(52, 0x00, 0xD8), "address", nil},
		{"nationality", foreignBlock().put(152, 6, "U5A"), "nationality", nil},
		{"foreign birth", foreignBlock().put(220, 16, "1985-1-1"), "birth", nil},
		{"gat date", gatBlock().put(188, 16, "2019030 "), "valid from", nil},
		{"flag Y", residentBlock().put(248, 2, "Y"), "'Y'", idcard.ErrUnsupportedCard},
		{"flag K", residentBlock().put(248, 2, "K"), "U+004B", idcard.ErrUnsupportedCard},
	}
	for _, c := range cases {
		got, err := idcard.DecodeText(c.block)
		if err == nil {
			t.Errorf("%s: DecodeText = %v, nil; want an error mentioning %q", c.name, got, c.want)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || !strings.HasPrefix(msg, "idcard: ") {
			t.Errorf("%s: DecodeText error %q; want it to start with idcard: and mention %q", c.name, msg, c.want)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: DecodeText = %v; want %v", c.name, err, c.is)
		}
		// Errors name fields, never personal values.
		for _, v := range []string{"1949", "张", "11010519491231002", "SMITH", "2019030"} {
			if strings.Contains(msg, v) {
				t.Errorf("%s: DecodeText error %q quotes the card's data (%q)", c.name, msg, v)
			}
		}
	}
}

func (b block) putRaw(off int, v ...byte) block {
	copy(b[off:], v)
	return b
}

func TestEncodeTextErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(*idcard.Card)
		want string
	}{
		{"name too long", func(c *idcard.Card) { c.Name = strings.Repeat("张", 16) }, "name"},
		{"address too long", func(c *idcard.Card) { c.Address = strings.Repeat("路", 36) }, "address"},
		{"birth format", func(c *idcard.Card) { c.Birth = "19491231" }, "birth"},
		{"valid to", func(c *idcard.Card) { c.ValidTo = "long" }, "valid to"},
		{"sex", func(c *idcard.Card) { c.Sex = "M" }, "sex"},
		{"nation", func(c *idcard.Card) { c.Nation = "1" }, "nation"},
		{"id", func(c *idcard.Card) { c.IDNumber = "" }, "id number"},
		{"pass number on resident", func(c *idcard.Card) { c.PassNumber = "H01234567" }, "pass number"},
		{"english name on resident", func(c *idcard.Card) { c.NameEN = "ZHANG SAN" }, "english name"},
		{"trailing space", func(c *idcard.Card) { c.Issuer += " " }, "issuer"},
		{"control char", func(c *idcard.Card) { c.Address = "北京\n" }, "address"},
		{"type", func(c *idcard.Card) { c.Type = "passport" }, "passport"},
		{"no type", func(c *idcard.Card) { c.Type = "" }, "unsupported"},
	}
	for _, c := range cases {
		card := residentCard()
		c.edit(card)
		if _, err := card.EncodeText(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: EncodeText = %v; want an error mentioning %q", c.name, err, c.want)
		}
		if _, err := idcard.EncodeBase(card); err == nil {
			t.Errorf("%s: EncodeBase = nil error; want one", c.name)
		}
	}
	// Fields the other types lack.
	g := gatCard()
	g.Nation = "01"
	if _, err := g.EncodeText(); err == nil {
		t.Errorf("EncodeText(gat card with a nation) = nil error; want one")
	}
	f := foreignCard()
	f.Address = "北京市朝阳区"
	if _, err := f.EncodeText(); err == nil {
		t.Errorf("EncodeText(foreign card with an address) = nil error; want one")
	}
	g = gatCard()
	g.PassNumber = "H0123456789" // 11 characters; the card holds 9 (letter and 8 digits)
	if _, err := g.EncodeText(); err == nil {
		t.Errorf("EncodeText(gat card with an 11-character pass number) = nil error; want one")
	}
	if _, err := idcard.EncodeBase(nil); err == nil {
		t.Errorf("EncodeBase(nil) = nil error; want one")
	}
}

func TestRoundTrip(t *testing.T) {
	for name, c := range allCards() {
		data, err := idcard.EncodeBase(c)
		if err != nil {
			t.Fatalf("%s: EncodeBase = %v", name, err)
		}
		frame := idcard.BuildResponse(0, 0, 0x90, data)
		if len(frame) != 1295 {
			t.Errorf("%s: frame is %d bytes; want 1295", name, len(frame))
		}
		if h := unhex(t, "AA AA AA 96 69 05 08 00 00 90 01 00 04 00"); !bytes.HasPrefix(frame, h) {
			t.Errorf("%s: frame header % X; want % X", name, frame[:14], h)
		}
		r, _, err := idcard.ParseResponse(frame)
		if err != nil {
			t.Fatalf("%s: ParseResponse = %v", name, err)
		}
		got, err := idcard.DecodeBase(r.Data)
		if err != nil {
			t.Fatalf("%s: DecodeBase = %v", name, err)
		}
		if !sameCard(got, c) {
			t.Errorf("%s: round trip = %s; want %s", name, fields(got), fields(c))
		}
		// heavyii IdReader.getId reads the number at frame offset 136 on every card type.
		id := utf16.Decode(u16(frame[136 : 136+2*len(c.IDNumber)]))
		if string(id) != c.IDNumber {
			t.Errorf("%s: number at frame offset 136 = %q; want %q", name, string(id), c.IDNumber)
		}
	}
}

func u16(b []byte) []uint16 {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return u
}

func TestPhotoPaddedOrCut(t *testing.T) {
	for _, n := range []int{0, 10, 1024, 2000} {
		c := residentCard()
		c.Photo = bytes.Repeat([]byte{7}, n)
		data, err := idcard.EncodeBase(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := idcard.DecodeBase(data)
		if err != nil {
			t.Fatal(err)
		}
		want := append(bytes.Repeat([]byte{7}, min(n, 1024)), make([]byte, 1024-min(n, 1024))...)
		if !bytes.Equal(got.Photo, want) {
			t.Errorf("photo of %d bytes came back as %d bytes, equal=%v", n, len(got.Photo), bytes.Equal(got.Photo, want))
		}
	}
}

func TestFingerprintVariants(t *testing.T) {
	for _, c := range []struct{ fp, frame int }{{1024, 2321}, {512, 1809}, {0, 1297}} {
		card := foreignCard()
		if c.fp > 0 {
			card.Fingerprint = bytes.Repeat([]byte{0x43}, c.fp)
		}
		data, err := idcard.EncodeWithFingerprint(card)
		if err != nil {
			t.Fatalf("EncodeWithFingerprint(fp %d) = %v", c.fp, err)
		}
		frame := idcard.BuildResponse(0, 0, 0x90, data)
		if len(frame) != c.frame {
			t.Errorf("fingerprint %d: frame is %d bytes; want %d", c.fp, len(frame), c.frame)
		}
		if c.fp == 1024 {
			if h := unhex(t, "AA AA AA 96 69 09 0A 00 00 90 01 00 04 00 04 00"); !bytes.HasPrefix(frame, h) {
				t.Errorf("frame header % X; want % X", frame[:16], h)
			}
		}
		r, _, err := idcard.ParseResponse(frame)
		if err != nil {
			t.Fatal(err)
		}
		got, err := idcard.DecodeWithFingerprint(r.Data)
		if err != nil {
			t.Fatalf("DecodeWithFingerprint(fp %d) = %v", c.fp, err)
		}
		if !sameCard(got, card) {
			t.Errorf("fingerprint %d: round trip = %s; want %s", c.fp, fields(got), fields(card))
		}
		// A base decoder must refuse fingerprint data rather than misread it.
		if _, err := idcard.DecodeBase(r.Data); err == nil {
			t.Errorf("DecodeBase(30 10 data, fp %d) = nil error; want one", c.fp)
		}
	}
	card := residentCard()
	card.Fingerprint = make([]byte, 100)
	if _, err := idcard.EncodeWithFingerprint(card); err == nil {
		t.Errorf("EncodeWithFingerprint(100-byte fingerprint) = nil error; want one")
	}
}

func TestDecodeBaseErrors(t *testing.T) {
	good, err := idcard.EncodeBase(residentCard())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"lengths only", good[:4]},
		{"short photo", good[:len(good)-1]},
		{"extra byte", append(append([]byte{}, good...), 0)},
		{"text length 255", append([]byte{0x00, 0xFF, 0x04, 0x01}, good[4:]...)},
		{"huge lengths", append([]byte{0xFF, 0xFF, 0xFF, 0xFF}, good[4:]...)},
	}
	for _, c := range cases {
		if got, err := idcard.DecodeBase(c.data); err == nil || !strings.HasPrefix(err.Error(), "idcard: ") {
			t.Errorf("DecodeBase(%s) = %v, %v; want an idcard: error", c.name, got, err)
		}
		if got, err := idcard.DecodeWithFingerprint(c.data); err == nil {
			t.Errorf("DecodeWithFingerprint(%s) = %v, nil; want an error", c.name, got)
		}
	}
}

// TestGoldenFrames pins the full 30 01 answers for the three fixture cards. Run with
// -update after a deliberate change to the encoding.
func TestGoldenFrames(t *testing.T) {
	for name, c := range allCards() {
		data, err := idcard.EncodeBase(c)
		if err != nil {
			t.Fatal(err)
		}
		got := []byte(hex.Dump(idcard.BuildResponse(0, 0, 0x90, data)))
		path := filepath.Join("testdata", "read_base_"+name+".hex")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: frame differs from %s (run with -update if the change is deliberate)", name, path)
		}
	}
}

func TestAppendedAddress(t *testing.T) {
	b, err := idcard.EncodeAppendedAddress("广东省深圳市南山区科技园南区8栋")
	if err != nil || len(b) != idcard.AppendedAddressSize {
		t.Fatalf("EncodeAppendedAddress = %d bytes, %v; want %d", len(b), err, idcard.AppendedAddressSize)
	}
	if s, err := idcard.DecodeAppendedAddress(b); err != nil || s != "广东省深圳市南山区科技园南区8栋" {
		t.Errorf("DecodeAppendedAddress = %q, %v", s, err)
	}
	if _, err := idcard.DecodeAppendedAddress(b[:5]); err == nil {
		t.Errorf("DecodeAppendedAddress(5 bytes) = nil error; want one")
	}
	if _, err := idcard.EncodeAppendedAddress(strings.Repeat("路", 36)); err == nil {
		t.Errorf("EncodeAppendedAddress(36 characters) = nil error; want one")
	}
}

func TestWipe(t *testing.T) {
	c := residentCard()
	c.Fingerprint = bytes.Repeat([]byte{1}, 512)
	ph, fp := c.Photo, c.Fingerprint
	c.Wipe()
	if !sameCard(c, &idcard.Card{}) {
		t.Errorf("after Wipe card = %s; want the zero card", fields(c))
	}
	if !bytes.Equal(ph, make([]byte, len(ph))) || !bytes.Equal(fp, make([]byte, len(fp))) {
		t.Errorf("Wipe left photo or fingerprint bytes in memory")
	}
	var nilCard *idcard.Card
	nilCard.Wipe() // must not panic
}

func TestIDValid(t *testing.T) {
	cases := []struct {
		t    idcard.CardType
		id   string
		want bool
	}{
		{idcard.CardResident, "11010519491231002X", true},
		{idcard.CardResident, "110105194912310021", false},
		{idcard.CardGATResidence, "810000199408230021", true},
		{idcard.CardGATResidence, "830000199201300022", true},
		{idcard.CardForeignPermanent, "USA310085010112", true},
		{idcard.CardForeignPermanent, "US1310085010112", false},
		{idcard.CardForeignPermanent, "USA31008501011A", false},
		{idcard.CardForeignPermanent, "932682198501010017", true},
		{idcard.CardForeignPermanent, "932682198501010018", false},
		{idcard.CardResident, "USA310085010112", false},
		{idcard.CardResident, "", false},
	}
	for _, c := range cases {
		card := &idcard.Card{Type: c.t, IDNumber: c.id}
		if got := card.IDValid(); got != c.want {
			t.Errorf("IDValid(%s %q) = %v; want %v", c.t, c.id, got, c.want)
		}
	}
	if (*idcard.Card)(nil).IDValid() {
		t.Errorf("IDValid(nil) = true; want false")
	}
}

func TestNationAndSex(t *testing.T) {
	cases := []struct{ code, want string }{
		{"01", "汉"}, {"02", "蒙古"}, {"05", "维吾尔"}, {"10", "朝鲜"}, {"29", "柯尔克孜"}, {"43", "乌孜别克"},
		{"46", "德昂"}, {"56", "基诺"}, {"97", "其他"}, {"98", "外国血统中国籍人士"},
		{"57", ""}, {"00", ""}, {"1", ""}, {"USA", ""}, {"", ""},
	}
	for _, c := range cases {
		if got := idcard.NationName(c.code); got != c.want {
			t.Errorf("NationName(%q) = %q; want %q", c.code, got, c.want)
		}
	}
	n := 0
	for i := 0; i < 100; i++ {
		if idcard.NationName(fmt.Sprintf("%02d", i)) != "" {
			n++
		}
	}
	if n != 58 {
		t.Errorf("NationName knows %d codes; want 56 nations + 97 + 98 = 58", n)
	}
	for _, c := range []struct{ code, want string }{{"0", "未知"}, {"1", "男"}, {"2", "女"}, {"9", "未说明"}, {"3", ""}, {"", ""}} {
		if got := idcard.SexName(c.code); got != c.want {
			t.Errorf("SexName(%q) = %q; want %q", c.code, got, c.want)
		}
	}
}

func TestFormatSAMID(t *testing.T) {
	cases := []struct {
		data string
		want string
	}{
		// The simulator's fictitious SAM.
		{"05 00 01 00 40 E2 01 00 15 CD 5B 07 B1 68 DE 3A", "05.01-123456-123456789-987654321"},
		{"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", "00.00-0-000000000-000000000"},
		// Top bits set: unsigned, so no minus sign inside the dashed form.
		{"63 00 63 00 FF FF FF FF FF FF FF FF 01 00 00 80", "99.99-4294967295-4294967295-2147483649"},
		// Extra bytes are ignored.
		{"05 00 01 00 40 E2 01 00 15 CD 5B 07 B1 68 DE 3A 90", "05.01-123456-123456789-987654321"},
	}
	for _, c := range cases {
		got, err := idcard.FormatSAMID(unhex(t, c.data))
		if err != nil || got != c.want {
			t.Errorf("FormatSAMID(%s) = %q, %v; want %q", c.data, got, err, c.want)
		}
	}
	if got, err := idcard.FormatSAMID(make([]byte, 15)); err == nil {
		t.Errorf("FormatSAMID(15 bytes) = %q, nil; want an error", got)
	}
}

func FuzzDecodeText(f *testing.F) {
	f.Add([]byte(residentBlock()))
	f.Add([]byte(gatBlock()))
	f.Add([]byte(foreignBlock()))
	f.Add([]byte(residentBlock().put(248, 2, "Y")))
	f.Add(make([]byte, 256))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := idcard.DecodeText(text)
		if err != nil {
			if c != nil {
				t.Fatalf("DecodeText returned a card and %v", err)
			}
			return
		}
		// Whatever decodes must encode and decode to the same card.
		enc, err := c.EncodeText()
		if err != nil {
			t.Fatalf("decoded card %s does not encode: %v", fields(c), err)
		}
		again, err := idcard.DecodeText(enc)
		if err != nil || !sameCard(again, c) {
			t.Fatalf("re-decoded card %s, %v; want %s", fields(again), err, fields(c))
		}
		_ = c.String()
		_ = c.LogValue()
	})
}

func BenchmarkDecodeBase(b *testing.B) {
	data, err := idcard.EncodeBase(residentCard())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		c, err := idcard.DecodeBase(data)
		if err != nil {
			b.Fatal(err)
		}
		c.Wipe()
	}
}
