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
	"github.com/hallkiosk/hallkiosk/queue"
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
	// Long names, as halls name their categories: they wrap, never cut.
	"ticket.category.long": func(r *rig) {
		r.hall.cats = longCategories
		r.tap("tile:ticket")
	},
	// The audit's worst case: a green-channel ticket already held, after a staff call.
	"ticket.existing.help": func(r *rig) {
		screenPaths[ScreenExisting](r)
		r.tap("help")
	},
}

// longCategories have the long names of real halls' categories.
var longCategories = []queue.Category{
	{Code: "A", Prefix: "A", NameZH: "不动产登记与抵押权变更登记", NameEN: "Real estate registration and mortgage changes"},
	{Code: "B", Prefix: "B", NameZH: "社会保险参保登记及缴费基数申报", NameEN: "Social insurance enrolment and contributions"},
	{Code: "C", Prefix: "C", NameZH: "出入境证件办理（护照、港澳通行证）", NameEN: "Exit and entry documents (passports, travel permits)"},
	{Code: "D", Prefix: "D", NameZH: "住房公积金提取与贷款", NameEN: "Housing provident fund withdrawals and loans"},
	{Code: "E", Prefix: "E", NameZH: "企业开办一件事（营业执照、公章、发票）", NameEN: "Business start-up in one go (licence, seal, invoices)"},
	{Code: "F", Prefix: "F", NameZH: "户籍迁移与居民身份证办理", NameEN: "Household moves and resident ID cards"},
}

// viewModes are the languages and modes every screen is drawn in: how a fresh session
// chooses each on the home screen.
var viewModes = []struct {
	name    string
	lang    string
	elderly bool
	set     func(r *rig)
}{
	{"zh", "zh", false, func(r *rig) { r.tap("x") }},
	{"en", "en", false, func(r *rig) { r.tap("lang") }},
	{"zh-elderly", "zh", true, func(r *rig) { r.tap("x", "elderly") }},
	{"en-elderly", "en", true, func(r *rig) { r.tap("x", "elderly", "lang") }},
}

// allPaths are screenPaths and goldenExtras by name, and the names sorted.
func allPaths() (map[string]func(r *rig), []string) {
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
	return paths, names
}

// setMode puts a new rig's session in mode m for the path to screen name.
func setMode(r *rig, name string, m int) {
	vm := viewModes[m]
	if name == ScreenAttract {
		// The attract loop is always zh and standard; draw the others anyway.
		r.s.lang, r.s.elderly = vm.lang, vm.elderly
		return
	}
	r.mode = vm.set
	r.start()
}

// TestGolden renders every screen in zh, en, zh elderly and en elderly at 1280x800 and
// compares the pixels with testdata/golden/<name>.<mode>.png. The goldens depend on the
// fonts-noto-cjk version; regenerate with go test ./kiosk -run TestGolden -update and look
// at them.
func TestGolden(t *testing.T) {
	fonts, err := ui.LoadFonts("")
	if err != nil {
		t.Skipf("skipping: no CJK font (apt-get install fonts-noto-cjk): %v", err)
	}
	rend := ui.NewRenderer(fonts, ui.Options{Size: image.Pt(1280, 800)})
	paths, names := allPaths()
	for _, name := range names {
		for mi, m := range viewModes {
			file := name + "." + m.name + ".png"
			t.Run(file, func(t *testing.T) {
				r := newRig(t)
				setMode(r, name, mi)
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
