package escpos_test

import (
	"bytes"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/devices/escpos/escpossim"
)

// printed decodes a ticket job as the printer simulator does and returns its items.
func printed(t *testing.T, job []byte) *escpossim.Ticket {
	t.Helper()
	var d escpossim.Decoder
	for _, ev := range d.Feed(job) {
		if c, ok := ev.(escpossim.Cut); ok {
			return c.Ticket
		}
	}
	t.Fatalf("no cut in the job")
	return nil
}

func items(tk *escpossim.Ticket, kind string) []escpossim.Item {
	var out []escpossim.Item
	for _, it := range tk.Items {
		if it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

// longURL is a URL of n bytes. In a level-M QR code 200 bytes need version 10: 57
// modules, 65 with the 4-module quiet zone on each side.
func longURL(n int) string {
	const head = "https://zwfw.example.gov.cn/q?t="
	return (head + strings.Repeat("a1", n))[:n]
}

func TestLayoutDots(t *testing.T) {
	for _, c := range []struct {
		l          escpos.Layout
		cols, dots int
	}{
		{escpos.Layout{Paper: escpos.Paper58}, 32, 384},
		{escpos.Layout{Paper: escpos.Paper80}, 48, 576},
		{escpos.Layout{Paper: escpos.Paper80, Columns: 42}, 42, 504},
		{escpos.Layout{Paper: escpos.Paper58, Columns: 64}, 32, 384}, // capped by the paper
		{escpos.Layout{Paper: 76}, 0, 0},
	} {
		if cols, dots := c.l.Cols(), c.l.Dots(); cols != c.cols || dots != c.dots {
			t.Errorf("%+v: Cols, Dots = %d, %d; want %d, %d", c.l, cols, dots, c.cols, c.dots)
		}
	}
}

// The logo is scaled to the columns the profile prints, not to the paper: a 42-column
// Epson head (512 dots) would clip a 576-dot logo.
func TestLogoScaledToColumns(t *testing.T) {
	tk := ticket()
	logo := image.NewGray(image.Rect(0, 0, 576, 100))
	tk.Logo = logo
	for _, c := range []struct {
		l    escpos.Layout
		want int
	}{
		{escpos.Layout{Paper: escpos.Paper80}, 576},
		{escpos.Layout{Paper: escpos.Paper80, Columns: 42}, 504},
		{escpos.Layout{Paper: escpos.Paper58}, 384},
	} {
		job, err := escpos.EncodeTicketFor(tk, c.l)
		if err != nil {
			t.Fatal(err)
		}
		r := items(printed(t, job), escpossim.KindRaster)
		if len(r) != 1 {
			t.Fatalf("%+v: %d raster images; want the logo", c.l, len(r))
		}
		if w := r[0].Raster.Bounds().Dx(); w != c.want {
			t.Errorf("%+v: logo %d dots wide; want %d", c.l, w, c.want)
		}
	}
}

// A raster QR code that would be wider than the paper at its usual module is drawn with
// smaller modules, and still scans.
func TestRasterQRShrunkToFit(t *testing.T) {
	tk := ticket()
	tk.QR = longURL(200) // version 10 at level M: 57 modules + 8 quiet = 65; x6 = 390 > 384
	job, err := escpos.EncodeTicketFor(tk, escpos.Layout{Paper: escpos.Paper58, RasterQR: true})
	if err != nil {
		t.Fatal(err)
	}
	p := printed(t, job)
	r := items(p, escpossim.KindRaster)
	if len(r) != 1 {
		t.Fatalf("%d raster images; want the QR code", len(r))
	}
	if w := r[0].Raster.Bounds().Dx(); w > 384 {
		t.Errorf("raster QR %d dots wide; the 58 mm head prints 384", w)
	}
	png, err := escpossim.RenderPNG(p, escpos.Paper58.Dots())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("zbarimg", "-q", "--raw", "--nodbus", path).Output()
	if err != nil || strings.TrimSpace(string(out)) != tk.QR {
		t.Errorf("zbarimg on the shrunk QR = %q, %v; want %q", out, err, tk.QR)
	}
}

// The printer's own QR code gets the same module budget.
func TestNativeQRModuleFits(t *testing.T) {
	for _, c := range []struct {
		l      escpos.Layout
		n      int
		module int
	}{
		{escpos.Layout{Paper: escpos.Paper58}, 20, 6},  // short: the usual module
		{escpos.Layout{Paper: escpos.Paper58}, 200, 5}, // 65 modules x 5 = 325 <= 384
		{escpos.Layout{Paper: escpos.Paper80}, 20, 8},
		{escpos.Layout{Paper: escpos.Paper80, Columns: 42}, 200, 7}, // 65 x 7 = 455 <= 504
	} {
		tk := ticket()
		tk.QR = longURL(c.n)
		job, err := escpos.EncodeTicketFor(tk, c.l)
		if err != nil {
			t.Fatal(err)
		}
		q := items(printed(t, job), escpossim.KindQR)
		if len(q) != 1 || q[0].QR != tk.QR || q[0].QRModule != c.module {
			mods := []int{}
			for _, it := range q {
				mods = append(mods, it.QRModule)
			}
			t.Errorf("%+v, %d-byte QR: modules %v; want one QR with module %d", c.l, c.n, mods, c.module)
		}
	}
}

// A QR code that does not fit even at the smallest module is refused with a clear error,
// and nothing is appended to the encoder.
func TestQRTooWideRefused(t *testing.T) {
	tk := ticket()
	tk.QR = longURL(1200)
	for _, raster := range []bool{true, false} {
		var e escpos.Encoder
		e.Raw('x')
		err := e.TicketFor(tk, escpos.Layout{Paper: escpos.Paper58, RasterQR: raster})
		if !errors.Is(err, escpos.ErrQRTooWide) {
			t.Fatalf("raster %v: TicketFor(1200-byte QR on 58 mm) = %v; want ErrQRTooWide", raster, err)
		}
		for _, w := range []string{"escpos: ticket QR", "1200 bytes", "384 dots", "shorten"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		if !bytes.Equal(e.Bytes(), []byte("x")) {
			t.Errorf("a refused ticket left %d bytes in the encoder", len(e.Bytes()))
		}
	}
	// The same code fits 80 mm paper at a smaller module.
	if _, err := escpos.EncodeTicketFor(tk, escpos.Layout{Paper: escpos.Paper80, RasterQR: true}); err != nil {
		t.Errorf("1200-byte QR on 80 mm = %v; want it to fit", err)
	}
}

// Columns above what the paper prints are capped: text wraps at the paper's columns.
func TestColumnsCappedByPaper(t *testing.T) {
	tk := ticket()
	tk.Footer = strings.Repeat("x", 40)
	job, err := escpos.EncodeTicketFor(tk, escpos.Layout{Paper: escpos.Paper58, Columns: 64})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items(printed(t, job), escpossim.KindText) {
		if w := escpos.DisplayWidth(it.Text) * it.W; w > 32 {
			t.Errorf("line %q is %d columns; 58 mm prints 32", it.Text, w)
		}
	}
}

// € has a GB18030-only code (A2 E3) that GBK printer fonts lack: it prints as EUR.
func TestEuroPrintsAsEUR(t *testing.T) {
	tk := ticket()
	tk.Footer = "手续费 €5"
	job, err := escpos.EncodeTicketFor(tk, escpos.Layout{Paper: escpos.Paper80})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(job, []byte{0xA2, 0xE3}) {
		t.Errorf("job holds A2 E3, the GB18030 euro sign GBK fonts do not have")
	}
	var found bool
	for _, it := range items(printed(t, job), escpossim.KindText) {
		found = found || it.Text == "手续费 EUR5"
	}
	if !found {
		t.Errorf("no printed line %q", "手续费 EUR5")
	}
}
