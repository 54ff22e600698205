package ui

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font/sfnt"
)

func TestLoadFontsErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "nope.ttf")
	_, err := LoadFonts(bad)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "[ui] font") {
		t.Errorf("LoadFonts(%q) = %v; want an error naming the path and the [ui] font key", bad, err)
	}
	notFont := filepath.Join(t.TempDir(), "x.ttf")
	if err := os.WriteFile(notFont, []byte("not a font"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFonts(notFont); err == nil || !strings.HasPrefix(err.Error(), "ui: font ") {
		t.Errorf("LoadFonts(not a font) = %v; want a ui: font error", err)
	}
	_, err = loadFirst([]fontCandidate{{"/nonexistent/a.ttc", "/nonexistent/b.ttc"}, {"/nonexistent/c.ttf", ""}})
	want := "ui: no CJK font found (looked in /nonexistent/a.ttc, /nonexistent/c.ttf): install fonts-noto-cjk or set [ui] font to a .ttc/.otf/.ttf file"
	if err == nil || err.Error() != want {
		t.Errorf("loadFirst(missing) = %v; want %q", err, want)
	}
}

func TestLoadFontsPicksSC(t *testing.T) {
	loadTestFonts(t)
	f, err := LoadFonts(defaultFonts[0].regular)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := f.regular.Name(nil, sfnt.NameIDFamily)
	if name != preferredFamily {
		t.Errorf("LoadFonts picked %q; want %q", name, preferredFamily)
	}
}

// TestDrawString checks that cached glyphs reach the frame.
func TestDrawString(t *testing.T) {
	f := loadTestFonts(t)
	fc := f.face(32, false, false)
	c := canvas{dst: image.NewRGBA(image.Rect(0, 0, 200, 60))}
	c.clip = c.dst.Bounds()
	c.fill(c.clip, color.RGBA{255, 255, 255, 255})
	c.drawString(textStyle{face: fc, lineH: 45, col: color.RGBA{0, 0, 0, 255}}, 10, 0, "办A")
	ink := 0
	for i := 0; i < len(c.dst.Pix); i += 4 {
		if c.dst.Pix[i] < 128 {
			ink++
		}
	}
	if ink < 100 {
		t.Errorf("drawString drew %d dark pixels; want the glyphs", ink)
	}
}
