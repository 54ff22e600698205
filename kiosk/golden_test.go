package kiosk

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/ui"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata/golden")

// goldenExtras are screens worth seeing beyond one per name: the prompt over a flow, the
// disabled ticket tile, the staff-call notice with the offline badge.
var goldenExtras = map[string]func(r *rig){
	"modal.more_time": func(r *rig) { r.tap("tile:ticket", "cat:A"); r.advance(r.s.idle()) },
	"home.paper_out": func(r *rig) {
		r.health = []health.Status{{Component: "printer", State: health.Degraded, Code: "printer.paper_out"}}
		r.tap("home")
	},
	"ticket.print_failed.reprint": func(r *rig) {
		r.do(CardPlaced{IDNumber: testID, Name: testName})
		r.tap("cat:A", "done")
		r.start()
		r.taker.printErr = context.DeadlineExceeded
		r.do(CardPlaced{IDNumber: testID, Name: testName})
		r.tap("cat:A")
	},
	"home.help_offline": func(r *rig) { r.online = false; r.tap("home", "help") },
	"ticket.category.no_reader": func(r *rig) {
		r.health = []health.Status{{Component: "idcard", State: health.Down, Code: "idcard.no_reader"}}
		r.tap("home", "tile:ticket")
	},
	"ticket.category.card": func(r *rig) {
		r.hall.cats = testCategories(10)
		r.do(CardPlaced{IDNumber: testID, Name: testName})
	},
}

// TestGolden renders every screen in zh, en and zh elderly at 1280x800 and compares the
// pixels with testdata/golden/<name>.<mode>.png. The goldens depend on the fonts-noto-cjk
// version; regenerate with go test ./kiosk -run TestGolden -update and look at them.
func TestGolden(t *testing.T) {
	fonts, err := ui.LoadFonts("")
	if err != nil {
		t.Skipf("skipping: no CJK font (apt-get install fonts-noto-cjk): %v", err)
	}
	rend := ui.NewRenderer(fonts, ui.Options{Size: image.Pt(1280, 800)})
	modes := []struct {
		name string
		set  func(r *rig)
	}{
		{"zh", func(r *rig) { r.tap("x") }},
		{"en", func(r *rig) { r.tap("lang") }},
		{"zh-elderly", func(r *rig) { r.tap("x", "elderly") }},
	}
	paths := map[string]func(r *rig){}
	for k, v := range screenPaths {
		paths[k] = v
	}
	for k, v := range goldenExtras {
		paths[k] = v
	}
	var names []string
	for k := range paths {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, m := range modes {
			file := name + "." + m.name + ".png"
			t.Run(file, func(t *testing.T) {
				r := newRig(t)
				if name == ScreenAttract {
					// The attract loop is always zh and standard; draw the others anyway.
					r.s.lang, r.s.elderly = map[string]string{"en": "en"}[m.name], m.name == "zh-elderly"
					if r.s.lang == "" {
						r.s.lang = "zh"
					}
				} else {
					r.mode = m.set
					r.start()
				}
				paths[name](r)
				sc, mode := r.s.View()
				img, _ := rend.Render(sc, mode)
				path := filepath.Join("testdata", "golden", file)
				var buf bytes.Buffer
				if err := png.Encode(&buf, img); err != nil {
					t.Fatal(err)
				}
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := readGolden(path)
				if err != nil {
					t.Fatalf("%v (run go test ./kiosk -run TestGolden -update)", err)
				}
				if !bytes.Equal(want.Pix, img.Pix) || want.Rect != img.Rect {
					out := filepath.Join(t.TempDir(), file)
					os.WriteFile(out, buf.Bytes(), 0o644)
					t.Errorf("%s differs from the golden; got %s", file, out)
				}
			})
		}
	}
}

func readGolden(path string) (*image.RGBA, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, err
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	return rgba, nil
}
