package escpos_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenTicket is the ticket of the golden files.
func goldenTicket(lang string) escpos.Ticket {
	shanghai := time.FixedZone("CST", 8*3600)
	t := escpos.Ticket{
		HallName:      "市民中心政务服务大厅",
		CategoryName:  "不动产登记",
		Number:        "A023",
		Ahead:         3,
		EstimatedWait: 11*time.Minute + 20*time.Second,
		IssuedAt:      time.Date(2026, 11, 22, 1, 15, 30, 0, time.UTC).In(shanghai),
		QR:            "https://hall.example.gov.cn/q?t=A023&d=20261122",
		MaskedName:    "张*",
		Footer:        "请留意叫号屏幕，过号需重新取号。",
		Lang:          lang,
	}
	if lang == "en" {
		t.HallName = "Civic Centre Government Service Hall"
		t.CategoryName = "Real estate registration"
		t.Footer = "Please watch the call screen; a missed number must be taken again."
	}
	return t
}

// hexDump formats b 16 bytes a line, for readable golden files and diffs.
func hexDump(b []byte) []byte {
	var out bytes.Buffer
	for i := 0; i < len(b); i += 16 {
		out.WriteString(strings.ToUpper(hex.EncodeToString(b[i:min(i+16, len(b))])))
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// The exact bytes of the ticket at both widths and in both languages. Run with -update after
// a deliberate layout change and review the diff of testdata/*.hex.
func TestEncodeTicketGolden(t *testing.T) {
	for _, c := range []struct {
		lang  string
		paper escpos.Paper
	}{{"zh", escpos.Paper58}, {"zh", escpos.Paper80}, {"en", escpos.Paper58}, {"en", escpos.Paper80}} {
		got, err := escpos.EncodeTicket(goldenTicket(c.lang), c.paper)
		if err != nil {
			t.Fatalf("EncodeTicket(%s, %v) = %v", c.lang, c.paper, err)
		}
		path := filepath.Join("testdata", "ticket_"+c.lang+"_"+c.paper.String()+".hex")
		dump := hexDump(got)
		if *update {
			if err := os.WriteFile(path, dump, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(dump, want) {
			t.Errorf("EncodeTicket(%s, %v) differs from %s (run with -update if the change is deliberate)", c.lang, c.paper, path)
		}
	}
}

func TestEncodeTicketLayout(t *testing.T) {
	b, err := escpos.EncodeTicket(goldenTicket("zh"), escpos.Paper80)
	if err != nil {
		t.Fatal(err)
	}
	gb := func(s string) []byte {
		var e escpos.Encoder
		return e.Text(s).Bytes()
	}
	for _, want := range [][]byte{
		parseHex(t, "1B 40 1B 61 01"),                   // init, centre
		parseHex(t, "1B 45 01 1D 21 33 41 30 32 33 0A"), // bold 4x4 number
		gb("前面还有 3 人"),
		gb("预计等待约 12 分钟"), // 11m20s rounds up
		gb("取号时间 2026-11-22 09:15"),
		gb("取号人 张*"),
		parseHex(t, "1D 56 42 03"), // partial cut last
	} {
		if !bytes.Contains(b, want) {
			t.Errorf("EncodeTicket(zh, 80mm) lacks % X", want)
		}
	}
	if !bytes.HasSuffix(b, parseHex(t, "1D 56 42 03")) {
		t.Errorf("EncodeTicket does not end with a partial cut: % X", b[len(b)-8:])
	}

	en, err := escpos.EncodeTicket(goldenTicket("en"), escpos.Paper58)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3 people ahead\n", "Estimated wait about 12 min\n", "Issued 2026-11-22 09:15\n"} {
		if !bytes.Contains(en, []byte(want)) {
			t.Errorf("EncodeTicket(en, 58mm) lacks %q", want)
		}
	}
}

func TestEncodeTicketNumberSize(t *testing.T) {
	cases := []struct {
		number string
		paper  escpos.Paper
		size   byte
		text   string
	}{
		{"A023", escpos.Paper58, 0x33, "A023"},           // 16 of 32 columns
		{"VIP0123", escpos.Paper58, 0x33, "VIP0123"},     // 28
		{"VIP01234", escpos.Paper58, 0x33, "VIP01234"},   // 32
		{"VIP012345", escpos.Paper58, 0x22, "VIP012345"}, // 27 at 3x3
		{strings.Repeat("9", 40), escpos.Paper58, 0x00, strings.Repeat("9", 32)},
	}
	for _, c := range cases {
		tk := goldenTicket("zh")
		tk.Number = c.number
		b, err := escpos.EncodeTicket(tk, c.paper)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]byte{0x1B, 0x45, 0x01, 0x1D, 0x21, c.size}, c.text+"\n"...)
		if !bytes.Contains(b, want) {
			t.Errorf("EncodeTicket(number %q, %v) lacks % X", c.number, c.paper, want)
		}
	}
}

func TestEncodeTicketOptional(t *testing.T) {
	tk := escpos.Ticket{Number: "B001"}
	b, err := escpos.EncodeTicket(tk, escpos.Paper58)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte{0x1D, 0x28, 0x6B}) || bytes.Contains(b, []byte{0x1D, 0x76, 0x30}) {
		t.Errorf("EncodeTicket without QR or logo sends one: % X", b)
	}
	var e escpos.Encoder
	if bytes.Contains(b, e.Text("取号时间").Bytes()) || bytes.Contains(b, e.Text("预计").Bytes()) {
		t.Errorf("EncodeTicket prints a zero issue time or wait")
	}

	logo := image.NewGray(image.Rect(0, 0, 800, 100))
	for i := range logo.Pix {
		logo.Pix[i] = 0xFF
	}
	logo.Set(0, 0, color.Black)
	tk.Logo = logo
	b, err = escpos.EncodeTicket(tk, escpos.Paper58)
	if err != nil {
		t.Fatal(err)
	}
	// 800 dots scaled to 384: 48 bytes by 48 rows.
	if !bytes.Contains(b, parseHex(t, "1D 76 30 00 30 00 30 00 80")) {
		t.Errorf("EncodeTicket logo not scaled to 384 dots")
	}
}

func TestEncodeTicketErrors(t *testing.T) {
	cases := []struct {
		name  string
		t     escpos.Ticket
		paper escpos.Paper
		want  error
	}{
		{"no number", escpos.Ticket{Number: " "}, escpos.Paper80, escpos.ErrNoNumber},
		{"paper", escpos.Ticket{Number: "A1"}, 76, escpos.ErrUnknownPaper},
		{"lang", escpos.Ticket{Number: "A1", Lang: "fr"}, escpos.Paper80, escpos.ErrUnknownLang},
		{"qr", escpos.Ticket{Number: "A1", QR: strings.Repeat("x", 8000)}, escpos.Paper80, escpos.ErrQRTooLong},
	}
	for _, c := range cases {
		if b, err := escpos.EncodeTicket(c.t, c.paper); !errors.Is(err, c.want) || b != nil {
			t.Errorf("EncodeTicket(%s) = %d bytes, %v; want nil, %v", c.name, len(b), err, c.want)
		}
	}
	var e escpos.Encoder
	e.Init()
	if err := e.Ticket(escpos.Ticket{Number: "A1", QR: strings.Repeat("x", 8000)}, escpos.Paper80); err == nil || len(e.Bytes()) != 2 {
		t.Errorf("Encoder.Ticket on error left %d bytes; want the 2 before it", len(e.Bytes()))
	}
}

func TestPaper(t *testing.T) {
	for _, c := range []struct {
		p          escpos.Paper
		cols, dots int
	}{{escpos.Paper58, 32, 384}, {escpos.Paper80, 48, 576}, {0, 0, 0}} {
		if c.p.Columns() != c.cols || c.p.Dots() != c.dots {
			t.Errorf("Paper(%d) = %d columns, %d dots; want %d, %d", c.p, c.p.Columns(), c.p.Dots(), c.cols, c.dots)
		}
	}
}

func BenchmarkEncodeTicket(b *testing.B) {
	tk := goldenTicket("zh")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := escpos.EncodeTicket(tk, escpos.Paper80); err != nil {
			b.Fatal(err)
		}
	}
}
