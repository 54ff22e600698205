package escpos_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/devices/escpos/escpossim"
)

// A printer without GS ( k gets the QR code as a raster image that still scans.
func TestLayoutRasterQRAndFullCut(t *testing.T) {
	job, err := escpos.EncodeTicketFor(ticket(), escpos.Layout{Paper: escpos.Paper58, Cutter: "full", RasterQR: true})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(job, []byte{0x1D, 0x28, 0x6B}) {
		t.Error("raster-QR layout still sends GS ( k")
	}
	var d escpossim.Decoder
	var cut *escpossim.Cut
	for _, ev := range d.Feed(job) {
		if c, ok := ev.(escpossim.Cut); ok {
			cut = &c
		}
	}
	if cut == nil || cut.Partial {
		t.Fatalf("cut = %+v; want one full cut", cut)
	}
	png, err := escpossim.RenderPNG(cut.Ticket, escpos.Paper58.Dots())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "t.png")
	os.WriteFile(path, png, 0o644)
	out, err := exec.Command("zbarimg", "-q", "--raw", "--nodbus", path).Output()
	if err != nil || strings.TrimSpace(string(out)) != ticket().QR {
		t.Errorf("zbarimg on the raster QR = %q, %v; want %q", out, err, ticket().QR)
	}
}

func TestLayoutTearBarAndColumns(t *testing.T) {
	job, err := escpos.EncodeTicketFor(ticket(), escpos.Layout{Paper: escpos.Paper80, Cutter: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(job, []byte{0x1D, 0x56}) || !bytes.HasSuffix(job, []byte{0x1B, 0x64, 5}) {
		t.Errorf("tear-bar layout: want no GS V and a final feed of 5 lines; ends % x", job[max(0, len(job)-8):])
	}
	tk := ticket()
	tk.Footer = strings.Repeat("x", 45) // fits 48 columns, not 42
	wide, _ := escpos.EncodeTicketFor(tk, escpos.Layout{Paper: escpos.Paper80})
	narrow, _ := escpos.EncodeTicketFor(tk, escpos.Layout{Paper: escpos.Paper80, Columns: 42})
	if !bytes.Contains(wide, []byte(strings.Repeat("x", 45))) || bytes.Contains(narrow, []byte(strings.Repeat("x", 43))) {
		t.Errorf("a 45-column footer must stay whole at 48 columns and wrap at 42")
	}
}
