package escpos_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
)

// parseHex turns "1B 40 ..." into bytes.
func parseHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// Every encoder command against the bytes of DEVICES.md 3.1 and 3.2.
func TestEncoderCommands(t *testing.T) {
	cases := []struct {
		name string
		do   func(e *escpos.Encoder)
		want string
	}{
		{"Init", func(e *escpos.Encoder) { e.Init() }, "1B 40"},
		{"Align left", func(e *escpos.Encoder) { e.Align(escpos.AlignLeft) }, "1B 61 00"},
		{"Align center", func(e *escpos.Encoder) { e.Align(escpos.AlignCenter) }, "1B 61 01"},
		{"Align right", func(e *escpos.Encoder) { e.Align(escpos.AlignRight) }, "1B 61 02"},
		{"Align bad", func(e *escpos.Encoder) { e.Align(7) }, "1B 61 00"},
		{"Size 1x1", func(e *escpos.Encoder) { e.Size(1, 1) }, "1D 21 00"},
		{"Size 2x2", func(e *escpos.Encoder) { e.Size(2, 2) }, "1D 21 11"},
		{"Size 4x4", func(e *escpos.Encoder) { e.Size(4, 4) }, "1D 21 33"},
		{"Size 1x2", func(e *escpos.Encoder) { e.Size(1, 2) }, "1D 21 01"},
		{"Size 8x8", func(e *escpos.Encoder) { e.Size(8, 8) }, "1D 21 77"},
		{"Size clamp", func(e *escpos.Encoder) { e.Size(0, 99) }, "1D 21 07"},
		{"Bold on", func(e *escpos.Encoder) { e.Bold(true) }, "1B 45 01"},
		{"Bold off", func(e *escpos.Encoder) { e.Bold(false) }, "1B 45 00"},
		{"Feed 3", func(e *escpos.Encoder) { e.Feed(3) }, "1B 64 03"},
		{"Feed clamp", func(e *escpos.Encoder) { e.Feed(1000) }, "1B 64 FF"},
		{"Cut full", func(e *escpos.Encoder) { e.Cut(false) }, "1D 56 41 03"},
		{"Cut partial", func(e *escpos.Encoder) { e.Cut(true) }, "1D 56 42 03"},
		{"Text ASCII", func(e *escpos.Encoder) { e.Text("A023") }, "41 30 32 33"},
		{"Line", func(e *escpos.Encoder) { e.Line("ok") }, "6F 6B 0A"},
		{"Text Chinese", func(e *escpos.Encoder) { e.Text("取号") }, "1C 26 C8 A1 BA C5 1C 2E"},
		{"Text mixed", func(e *escpos.Encoder) { e.Text("A号1") }, "41 1C 26 BA C5 1C 2E 31"},
		{"Text newline kept", func(e *escpos.Encoder) { e.Text("a\nb") }, "61 0A 62"},
		{"Text control replaced", func(e *escpos.Encoder) { e.Text("a\x1b@\tb\x7f") }, "61 3F 40 3F 62 3F"},
		{"Text Ext B replaced", func(e *escpos.Encoder) { e.Text("𠀀") }, "1C 26 3F 1C 2E"},
		{"Text emoji replaced", func(e *escpos.Encoder) { e.Text("张😀三") }, "1C 26 D5 C5 3F C8 FD 1C 2E"},
		{"Text private use replaced", func(e *escpos.Encoder) { e.Text("\uE000") }, "1C 26 3F 1C 2E"},
		{"Text invalid UTF-8", func(e *escpos.Encoder) { e.Text("a\xffb") }, "61 1C 26 3F 1C 2E 62"},
		{"Text U+0080 (4-byte in GB18030)", func(e *escpos.Encoder) { e.Text("\u0080") }, "1C 26 3F 1C 2E"},
		// A2 E3 is GB18030 only; GBK printer fonts have no euro sign.
		{"Text euro as EUR", func(e *escpos.Encoder) { e.Text("€") }, "45 55 52"},
		{"Text euro amid Chinese", func(e *escpos.Encoder) { e.Text("费€元") }, "1C 26 B7 D1 1C 2E 45 55 52 1C 26 D4 AA 1C 2E"},
		{"StatusRequest", func(e *escpos.Encoder) { e.Raw(escpos.StatusRequest(4)...) }, "10 04 04"},
	}
	for _, c := range cases {
		var e escpos.Encoder
		c.do(&e)
		if got, want := e.Bytes(), parseHex(t, c.want); !bytes.Equal(got, want) {
			t.Errorf("%s = % X; want % X", c.name, got, want)
		}
	}
}

func TestEncoderQR(t *testing.T) {
	var e escpos.Encoder
	if err := e.QR("HK", 6, escpos.ECM); err != nil {
		t.Fatal(err)
	}
	want := parseHex(t, "1D 28 6B 04 00 31 41 32 00"+ // model 2
		"1D 28 6B 03 00 31 43 06"+ // module 6
		"1D 28 6B 03 00 31 45 31"+ // EC M
		"1D 28 6B 05 00 31 50 30 48 4B"+ // store, pL = 2+3
		"1D 28 6B 03 00 31 51 30") // print
	if got := e.Bytes(); !bytes.Equal(got, want) {
		t.Errorf("QR(%q, 6, ECM) = % X; want % X", "HK", got, want)
	}

	e.Reset()
	long := strings.Repeat("9", 300)
	if err := e.QR(long, 40, escpos.ECH); err != nil {
		t.Fatal(err)
	}
	b := e.Bytes()
	if !bytes.Contains(b, parseHex(t, "1D 28 6B 03 00 31 43 10")) {
		t.Errorf("QR module 40 not clamped to 16: % X", b[:30])
	}
	if !bytes.Contains(b, parseHex(t, "1D 28 6B 03 00 31 45 33")) {
		t.Errorf("QR EC H not 0x33")
	}
	if !bytes.Contains(b, parseHex(t, "1D 28 6B 2F 01 31 50 30")) { // 303 = 0x012F
		t.Errorf("QR store length of 300 bytes not 2F 01")
	}

	errs := []struct {
		data string
		ec   escpos.ECLevel
		want error
	}{
		{"", escpos.ECM, escpos.ErrQREmpty},
		{strings.Repeat("1", 7090), escpos.ECL, escpos.ErrQRTooLong},
		{"x", 4, escpos.ErrBadECLevel},
	}
	for _, c := range errs {
		e.Reset()
		if err := e.QR(c.data, 4, c.ec); !errors.Is(err, c.want) {
			t.Errorf("QR(%d bytes, %d) = %v; want %v", len(c.data), c.ec, err, c.want)
		}
		if len(e.Bytes()) != 0 {
			t.Errorf("QR(%d bytes, %d) appended % X on error", len(c.data), c.ec, e.Bytes())
		}
	}
	if err := e.QR(strings.Repeat("1", 7089), 4, escpos.ECL); err != nil {
		t.Errorf("QR(7089 bytes) = %v; want nil", err)
	}
}

func TestEncoderRaster(t *testing.T) {
	// 10x2: row 0 black at x=0 and x=9, row 1 all black; transparent counts as white.
	img := image.NewNRGBA(image.Rect(0, 0, 10, 2))
	for x := 0; x < 10; x++ {
		img.Set(x, 0, color.White)
		img.Set(x, 1, color.Black)
	}
	img.Set(0, 0, color.Black)
	img.Set(9, 0, color.Gray{Y: 100})
	img.Set(5, 1, color.NRGBA{A: 0})
	var e escpos.Encoder
	if err := e.Raster(img); err != nil {
		t.Fatal(err)
	}
	want := parseHex(t, "1D 76 30 00 02 00 02 00 80 40 FB C0")
	if got := e.Bytes(); !bytes.Equal(got, want) {
		t.Errorf("Raster(10x2) = % X; want % X", got, want)
	}
	if err := e.Raster(image.NewGray(image.Rect(0, 0, 0, 5))); !errors.Is(err, escpos.ErrBadImage) {
		t.Errorf("Raster(empty) = %v; want ErrBadImage", err)
	}
	if err := e.Raster(nil); !errors.Is(err, escpos.ErrBadImage) {
		t.Errorf("Raster(nil) = %v; want ErrBadImage", err)
	}
}

func TestDisplayWidth(t *testing.T) {
	cases := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"A023", 4},
		{"前面还有 3 人", 13},
		{"张*", 3},
		{"𠀀", 1},
		{"😀", 1},
		{"a\nb", 2},
		{"€", 3}, // printed as EUR
		{"ｱ", 1},
	}
	for _, c := range cases {
		if got := escpos.DisplayWidth(c.s); got != c.want {
			t.Errorf("DisplayWidth(%q) = %d; want %d", c.s, got, c.want)
		}
	}
}

func TestWrap(t *testing.T) {
	cases := []struct {
		s    string
		cols int
		want []string
	}{
		{"", 10, []string{""}},
		{"hello world", 20, []string{"hello world"}},
		{"hello world", 8, []string{"hello", "world"}},
		{"hello  big world", 9, []string{"hello", "big world"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"go abcdefghij", 4, []string{"go a", "bcde", "fghi", "j"}},
		{"市民中心政务服务大厅", 8, []string{"市民中心", "政务服务", "大厅"}},
		{"市民中心政务服务大厅", 7, []string{"市民中", "心政务", "服务大", "厅"}},
		{"A 区 1 号", 4, []string{"A 区", "1 号"}},
		{"a\nb", 10, []string{"a", "b"}},
		{"a\n\nb", 10, []string{"a", "", "b"}},
		{"中", 1, []string{"中"}},
		{"ab", 0, []string{"a", "b"}},
	}
	for _, c := range cases {
		got := escpos.Wrap(c.s, c.cols)
		if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("Wrap(%q, %d) = %q; want %q", c.s, c.cols, got, c.want)
		}
		for _, l := range got {
			if w := escpos.DisplayWidth(l); w > max(c.cols, 1) && escpos.DisplayWidth(l) > 2 {
				t.Errorf("Wrap(%q, %d): line %q is %d wide", c.s, c.cols, l, w)
			}
		}
	}
}

func TestTruncate(t *testing.T) {
	cases := []struct {
		s    string
		cols int
		want string
	}{
		{"A023", 10, "A023"},
		{"A023", 2, "A0"},
		{"张三丰", 5, "张三"},
		{"张三", 4, "张三"},
	}
	for _, c := range cases {
		if got := escpos.Truncate(c.s, c.cols); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q; want %q", c.s, c.cols, got, c.want)
		}
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"A023", "取号 A023", "𠀀😀", "a\x1b@", "\xff\xfe", "\uE000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var e escpos.Encoder
		b := e.Text(s).Bytes()
		// No command byte other than FS & / FS . may leak from text.
		for i := 0; i < len(b); i++ {
			switch b[i] {
			case 0x1C:
				if i+1 >= len(b) || (b[i+1] != '&' && b[i+1] != '.') {
					t.Fatalf("Text(%q) = % X: stray FS", s, b)
				}
				i++
			case 0x1B, 0x1D, 0x10, 0x00:
				t.Fatalf("Text(%q) = % X: control byte %#x", s, b, b[i])
			}
		}
		for _, l := range escpos.Wrap(s, 32) {
			if w := escpos.DisplayWidth(l); w > 32 {
				t.Fatalf("Wrap(%q, 32) line %q is %d wide", s, l, w)
			}
		}
	})
}
