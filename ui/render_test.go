package ui

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata/golden")

var goldenModes = []struct {
	name string
	mode Mode
}{
	{"zh", Mode{Lang: "zh"}},
	{"en", Mode{Lang: "en"}},
	{"zh-elderly", Mode{Lang: "zh", Elderly: true}},
	{"en-elderly", Mode{Lang: "en", Elderly: true}},
}

// panels are the screens a kiosk is built with, from the default 1280x800 at 96 DPI
// (339x212 mm) up to a 27" 4K panel. A smaller panel (a 13" 1920x1080 at 160 DPI is
// 305x171 mm) has no room for the elderly type and its 18 mm targets.
var panels = []struct {
	size image.Point
	dpi  float64
}{
	{image.Pt(1280, 800), 96},
	{image.Pt(1280, 1024), 96},
	{image.Pt(1920, 1080), 96},
	{image.Pt(1920, 1080), 120},
	{image.Pt(3840, 2160), 160},
}

// TestGolden renders the widget gallery and compares it with testdata/golden. The goldens
// depend on the fonts-noto-cjk version (1:20220127 here); regenerate them with
// go test ./ui -run TestGolden -update, and look at them before committing.
func TestGolden(t *testing.T) {
	f := loadTestFonts(t)
	r := NewRenderer(f, Options{Size: image.Pt(1280, 800)})
	for _, gm := range goldenModes {
		for _, s := range gallery(gm.mode) {
			name := fmt.Sprintf("%s_%s.png", s.Name, gm.name)
			t.Run(name, func(t *testing.T) {
				img, _ := r.Render(s, gm.mode)
				path := filepath.Join("testdata", "golden", name)
				if *update {
					writePNG(t, path, img)
					return
				}
				want, err := readPNG(path)
				if err != nil {
					t.Fatalf("%v (run go test ./ui -run TestGolden -update)", err)
				}
				if n, worst := diff(img, want); n > img.Bounds().Dx()*img.Bounds().Dy()/2000 {
					out := filepath.Join(t.TempDir(), name)
					writePNG(t, out, img)
					t.Errorf("%s: %d pixels differ (worst channel difference %d); got %s", name, n, worst, out)
				}
			})
		}
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

// diff counts pixels differing by more than a rounding step in some channel (anti-aliasing
// may differ in the last bits across CPUs: arm64 fuses multiply-adds).
func diff(got *image.RGBA, want image.Image) (n, worst int) {
	if got.Bounds() != want.Bounds() {
		return got.Bounds().Dx() * got.Bounds().Dy(), 255
	}
	b := got.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r0, g0, b0, _ := got.At(x, y).RGBA()
			r1, g1, b1, _ := want.At(x, y).RGBA()
			d := max(absDiff(r0, r1), absDiff(g0, g1), absDiff(b0, b1)) >> 8
			worst = max(worst, d)
			if d > 2 {
				n++
			}
		}
	}
	return n, worst
}

func absDiff(a, b uint32) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// TestLayoutInvariants checks every gallery screen on every panel in every mode: targets
// are at least 15 mm, inside the frame, and never overlap (a list's own target contains its
// rows).
func TestLayoutInvariants(t *testing.T) {
	f := loadTestFonts(t)
	for _, pn := range panels {
		r := NewRenderer(f, Options{Size: pn.size, DPI: pn.dpi})
		minPx := minTargetMM / 25.4 * pn.dpi
		for _, gm := range goldenModes {
			screens := gallery(gm.mode)
			if !gm.mode.Elderly {
				// Eight tiles and a list are a standard-mode benchmark: the kiosk pages its
				// elderly tiles by four.
				screens = append(screens, busiest())
			}
			for _, s := range screens {
				_, l := r.Render(s, gm.mode)
				where := fmt.Sprintf("%s %s %v dpi %v", s.Name, gm.name, pn.size, pn.dpi)
				checkLayout(t, where, l, pn.size, minPx)
			}
		}
	}
}

// TestGalleryFits: on every panel, in every mode, every gallery screen shows all it holds:
// no frame faults (nothing cut off, no text shortened, no target too small).
func TestGalleryFits(t *testing.T) {
	f := loadTestFonts(t)
	for _, pn := range panels {
		r := NewRenderer(f, Options{Size: pn.size, DPI: pn.dpi})
		for _, gm := range goldenModes {
			for _, s := range gallery(gm.mode) {
				if _, l := r.Render(s, gm.mode); l.Err() != nil {
					t.Errorf("%s %s %v dpi %v:\n%v", s.Name, gm.name, pn.size, pn.dpi, l.Err())
				}
			}
		}
	}
}

func checkLayout(t *testing.T, where string, l *Layout, size image.Point, minPx float64) {
	t.Helper()
	for _, p := range layoutProblems(l, size, minPx) {
		t.Errorf("%s: %s", where, p)
	}
}

// layoutProblems lists what is wrong with l's targets in a frame of size: none at all, one
// outside the frame, smaller than minPx (15 mm) on a side, without an ID, or overlapping
// another; and every SmallTarget fault the renderer reported.
func layoutProblems(l *Layout, size image.Point, minPx float64) []string {
	var out []string
	frame := image.Rectangle{Max: size}
	if len(l.Targets) == 0 {
		out = append(out, "no targets")
	}
	for i, a := range l.Targets {
		if !a.Rect.In(frame) {
			out = append(out, fmt.Sprintf("target %q at %v is outside the frame", a.ID, a.Rect))
		}
		if !a.List && (float64(a.Rect.Dx()) < minPx || float64(a.Rect.Dy()) < minPx) {
			out = append(out, fmt.Sprintf("target %q is %dx%d px; want >= %.1f px (15 mm)", a.ID, a.Rect.Dx(), a.Rect.Dy(), minPx))
		}
		if a.ID == "" {
			out = append(out, fmt.Sprintf("target at %v has no ID", a.Rect))
		}
		for _, b := range l.Targets[i+1:] {
			if !a.Rect.Overlaps(b.Rect) {
				continue
			}
			if a.List && b.Rect.In(a.Rect) || b.List && a.Rect.In(b.Rect) {
				continue
			}
			out = append(out, fmt.Sprintf("targets %q %v and %q %v overlap", a.ID, a.Rect, b.ID, b.Rect))
		}
	}
	for _, f := range l.Faults {
		if f.Kind == SmallTarget {
			out = append(out, f.String())
		}
	}
	return out
}

func TestLayoutContents(t *testing.T) {
	f := loadTestFonts(t)
	r := NewRenderer(f, Options{Size: image.Pt(1280, 800)})
	m := Mode{Lang: "zh"}
	g := gallery(m)
	ids := func(l *Layout) map[string]Target {
		out := map[string]Target{}
		for _, t := range l.Targets {
			out[t.ID] = t
		}
		return out
	}

	_, l := r.Render(g[0], m)
	got := ids(l)
	for _, id := range []string{"cat.hukou", "cat.housing", "back", "home", "staff", "elderly"} {
		if _, ok := got[id]; !ok {
			t.Errorf("home: no target %q", id)
		}
	}
	if _, ok := got["cat.cert"]; ok {
		t.Errorf("home: disabled tile cat.cert is a target")
	}

	_, l = r.Render(g[3], m)
	got = ids(l)
	for _, k := range []string{"0", "1", "5", "9", "X", "del", "ok"} {
		if _, ok := got["idno:"+k]; !ok {
			t.Errorf("keypad: no key %q", "idno:"+k)
		}
	}
	_, l = r.Render(g[5], m) // keypad without X, under a modal
	got = ids(l)
	if len(got) != 3 || got["more"].ID == "" || got["quit"].ID == "" || got["staff"].ID == "" {
		t.Errorf("modal: targets %v; want only the modal's buttons and the modeless staff call", l.Targets)
	}
	s := g[5]
	s.Modal = nil
	_, l = r.Render(s, m)
	if _, ok := ids(l)["pin:X"]; ok {
		t.Errorf("keypad without AllowX has an X key")
	}

	s = g[1]
	list := s.Body[2].(List)
	list.Offset = 1 << 20
	s.Body[2] = list
	_, l = r.Render(s, m)
	lt := ids(l)["materials"]
	if !lt.List || lt.Max <= 0 || lt.Offset != lt.Max {
		t.Errorf("list: target %+v; want List with Offset clamped to Max > 0", lt)
	}
	if _, ok := ids(l)["item.12"]; !ok {
		t.Errorf("list scrolled to the end does not show item.12")
	}
}

// TestElderlyScale checks the elderly mode's type scale, line spacing and palette.
func TestElderlyScale(t *testing.T) {
	for _, dpi := range []float64{96, 160} {
		n, e := newMetrics(dpi, false), newMetrics(dpi, true)
		for _, s := range []TextSize{TextSmall, TextBody, TextLarge, TextHuge} {
			if float64(e.textPx(s)) < 1.5*float64(n.textPx(s))-0.5 {
				t.Errorf("dpi %v size %d: elderly %d px; want >= 1.5 x %d", dpi, s, e.textPx(s), n.textPx(s))
			}
			if float64(e.lineH(e.textPx(s))) < 1.3*float64(e.textPx(s)) {
				t.Errorf("dpi %v size %d: elderly line height %d for %d px; want >= 1.3x", dpi, s, e.lineH(e.textPx(s)), e.textPx(s))
			}
		}
	}
	p := contrastPalette
	check := func(name string, fg, bg color.RGBA, want float64) {
		if c := contrast(fg, bg); c < want {
			t.Errorf("%s: contrast %.2f; want >= %v", name, c, want)
		}
	}
	for _, c := range []struct {
		name   string
		fg, bg color.RGBA
	}{
		{"text", p.text, p.bg},
		{"muted", p.muted, p.bg},
		{"title", p.title, p.bg},
		{"status", p.statusText, p.statusBg},
		{"offline", p.offlineText, p.offlineBg},
		{"primary", p.onPrimary, p.primary},
		{"secondary", p.onSecondary, p.secondary},
		{"danger", p.onDanger, p.danger},
		{"disabled", p.disabledText, p.disabledBg},
		{"info", p.noticeFg[0], p.noticeBg[0]},
		{"success", p.noticeFg[1], p.noticeBg[1]},
		{"warning", p.noticeFg[2], p.noticeBg[2]},
		{"error", p.noticeFg[3], p.noticeBg[3]},
		{"notice text", p.noticeText, p.noticeBg[0]},
	} {
		check("elderly "+c.name, c.fg, c.bg, 7)
	}
	q := normalPalette
	for _, c := range []struct {
		name   string
		fg, bg color.RGBA
	}{
		{"text", q.text, q.bg},
		{"muted", q.muted, q.bg},
		{"status", q.statusText, q.statusBg},
		{"offline", q.offlineText, q.offlineBg},
		{"primary", q.onPrimary, q.primary},
		{"danger", q.onDanger, q.danger},
		{"disabled", q.disabledText, q.disabledBg},
		{"warning text", q.noticeText, q.noticeBg[2]},
	} {
		check("normal "+c.name, c.fg, c.bg, 4.5)
	}
}

func TestElderlyTextBigger(t *testing.T) {
	f := loadTestFonts(t)
	r := NewRenderer(f, Options{Size: image.Pt(1280, 800)})
	s := gallery(Mode{Lang: "zh"})[0]
	_, ln := r.Render(s, Mode{Lang: "zh"})
	_, le := r.Render(s, Mode{Lang: "zh", Elderly: true})
	get := func(l *Layout, id string) image.Rectangle {
		for _, t := range l.Targets {
			if t.ID == id {
				return t.Rect
			}
		}
		return image.Rectangle{}
	}
	n, e := get(ln, "cat.hukou"), get(le, "cat.hukou")
	if e.Dx() <= n.Dx() || e.Dy() <= n.Dy() {
		t.Errorf("elderly tile %v is not larger than normal %v", e.Size(), n.Size())
	}
	if float64(get(le, "back").Dy()) < elderlyTargetMM/25.4*96 {
		t.Errorf("elderly action button is %d px high; want >= 18 mm", get(le, "back").Dy())
	}
}

func BenchmarkRenderBusiest1080p(b *testing.B) {
	f := loadTestFonts(b)
	r := NewRenderer(f, Options{Size: image.Pt(1920, 1080)})
	dst := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	s, m := busiest(), Mode{Lang: "zh"}
	r.RenderInto(dst, s, m) // warm the glyph cache, as the kiosk has after its first frame
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.RenderInto(dst, s, m)
	}
}

func BenchmarkRenderKeypad1080p(b *testing.B) {
	f := loadTestFonts(b)
	r := NewRenderer(f, Options{Size: image.Pt(1920, 1080)})
	dst := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	m := Mode{Lang: "zh", Elderly: true}
	s := gallery(m)[3]
	r.RenderInto(dst, s, m)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.RenderInto(dst, s, m)
	}
}

// BenchmarkFillBaseline clears a 1920x1080 frame: the floor any repaint pays, measured in the
// same run as the render benchmarks.
func BenchmarkFillBaseline(b *testing.B) {
	c := canvas{dst: image.NewRGBA(image.Rect(0, 0, 1920, 1080))}
	c.clip = c.dst.Bounds()
	b.ReportAllocs()
	for b.Loop() {
		c.fill(c.clip, normalPalette.bg)
	}
}

// BenchmarkRenderBusiestCold is the first frame after start or after a language switch:
// every glyph is rasterised again.
func BenchmarkRenderBusiestCold(b *testing.B) {
	f := loadTestFonts(b)
	dst := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	s, m := busiest(), Mode{Lang: "zh"}
	b.ReportAllocs()
	for b.Loop() {
		r := NewRenderer(newFonts(f.regular, f.bold, f.desc), Options{Size: image.Pt(1920, 1080)})
		r.RenderInto(dst, s, m)
	}
}

func TestRenderEdgeCases(t *testing.T) {
	f := loadTestFonts(t)
	r := NewRenderer(f, Options{Size: image.Pt(0, 0)})
	if _, l := r.Render(Screen{Title: "x"}, Mode{}); len(l.Targets) != 0 {
		t.Errorf("empty frame has targets %v", l.Targets)
	}
	r = NewRenderer(f, Options{Size: image.Pt(320, 240)})
	long := "很长的文字，请注意。Long words too. "
	for i := 0; i < 6; i++ {
		long += long
	}
	s := Screen{
		Status: StatusBar{Hall: long, Offline: true, OfflineText: long, Clock: clock},
		Title:  long, Subtitle: long,
		Body: []Widget{
			Text{Text: ""}, Tiles{}, List{ID: "empty"}, Buttons{}, Spacer{MM: -3},
			QR{Content: string(make([]byte, 5000))}, Progress{Fraction: 7}, Notice{Kind: 99, Text: long},
			Keypad{ID: "k", Value: long, MaxLen: 3},
		},
		Actions: []Button{{ID: "a", Label: long}},
		Modal:   &Modal{Title: long, Text: long, Buttons: []Button{{ID: "m", Label: long}}},
	}
	for _, m := range []Mode{{}, {Lang: "en", Elderly: true}} {
		_, l := r.Render(s, m) // must not panic
		checkLayout(t, "tiny", l, image.Pt(320, 240), minTargetMM/25.4*96)
	}
}
