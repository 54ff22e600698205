package ui

import (
	"image"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func faultOf(l *Layout, k FaultKind, what string) (Fault, bool) {
	for _, f := range l.Faults {
		if f.Kind == k && strings.HasPrefix(f.What, what) {
			return f, true
		}
	}
	return Fault{}, false
}

func target(l *Layout, id string) (Target, bool) {
	for _, t := range l.Targets {
		if t.ID == id {
			return t, true
		}
	}
	return Target{}, false
}

func plain(body ...Widget) Screen {
	return Screen{Name: "t", Title: "标题", Body: body, Actions: []Button{{ID: "home", Label: "首页"}}}
}

// TestSmallTargetIsCaught proves that the 15 mm check fails for one small button: a button
// squeezed by its row, or cut by the body's edge, stays tappable but is reported, and
// checkLayout's problems name it.
func TestSmallTargetIsCaught(t *testing.T) {
	f := loadTestFonts(t)
	size := image.Pt(1280, 800)
	r := NewRenderer(f, Options{Size: size})
	minPx := minTargetMM / 25.4 * 96
	m := Mode{Lang: "zh"}

	var row []Button
	for i := range 30 {
		row = append(row, Button{ID: "b" + strconv.Itoa(i), Label: strconv.Itoa(i)})
	}
	_, l := r.Render(plain(Buttons{Items: row}), m)
	b0, ok := target(l, "b0")
	if !ok {
		t.Fatalf("squeezed button b0 is no target: %v", l.Targets)
	}
	if hit, _ := l.Hit(b0.Rect.Min.Add(image.Pt(1, 1))); hit.ID != "b0" {
		t.Errorf("a tap on b0 hits %q; want b0 (small targets still take taps)", hit.ID)
	}
	if _, ok := faultOf(l, SmallTarget, "b0"); !ok {
		t.Errorf("no SmallTarget fault for b0 (%dx%d px): %v", b0.Rect.Dx(), b0.Rect.Dy(), l.Faults)
	}
	if ps := layoutProblems(l, size, minPx); !slices.ContainsFunc(ps, func(p string) bool { return strings.Contains(p, `"b0"`) }) {
		t.Errorf("layoutProblems = %q; want one naming b0", ps)
	}

	// A button pushed down until only a sliver of it is left above the action bar: the
	// sliver takes no taps (one there may be meant for the bar), and it is a fault.
	_, l = r.Render(plain(Spacer{MM: 143}, Buttons{Items: []Button{{ID: "cut", Label: "确认"}}}), m)
	if tg, ok := target(l, "cut"); ok {
		t.Errorf("the sliver of the cut button takes taps: %v", tg)
	}
	if _, ok := faultOf(l, SmallTarget, "cut"); !ok {
		t.Errorf("no SmallTarget fault for the cut button: %v", l.Faults)
	}
	if _, ok := faultOf(l, Overflow, "body: Buttons"); !ok {
		t.Errorf("no Overflow fault naming the buttons: %v", l.Faults)
	}
	if len(layoutProblems(l, size, minPx)) == 0 {
		t.Error("layoutProblems found nothing wrong with a cut button")
	}

	_, l = r.Render(plain(Buttons{Items: row[:3]}), m)
	if ps := layoutProblems(l, size, minPx); len(ps) > 0 || l.Err() != nil {
		t.Errorf("three buttons: problems %q, faults %v; want none", ps, l.Err())
	}
}

func TestOverflowReported(t *testing.T) {
	f := loadTestFonts(t)
	r := NewRenderer(f, Options{Size: image.Pt(1280, 800)})
	m := Mode{Lang: "zh", Elderly: true}
	var body []Widget
	for i := range 12 {
		body = append(body, Text{Text: "第 " + strconv.Itoa(i) + " 段：请携带身份证。"})
	}
	_, l := r.Render(plain(body...), m)
	if f, ok := faultOf(l, Overflow, "body: Text"); !ok || f.Short <= 0 {
		t.Errorf("12 paragraphs in elderly type: faults %v; want an Overflow naming a Text, px short", l.Faults)
	}
	if l.Err() == nil || !strings.Contains(l.Err().Error(), "overflow") {
		t.Errorf("Err() = %v; want the overflow", l.Err())
	}
	if _, l = r.Render(plain(body[:2]...), m); l.Err() != nil {
		t.Errorf("2 paragraphs: %v; want no faults", l.Err())
	}

	long := strings.Repeat("这是一段很长的标题文字，", 12)
	_, l = r.Render(Screen{Title: long, Subtitle: long, Actions: []Button{{ID: "x", Label: "返回"}}}, m)
	for _, what := range []string{"title", "subtitle"} {
		if _, ok := faultOf(l, Truncated, what); !ok {
			t.Errorf("no Truncated fault for the %s: %v", what, l.Faults)
		}
	}
	_, l = r.Render(Screen{Actions: []Button{{ID: "x", Label: "返回"}},
		Modal: &Modal{Title: "提示", Text: strings.Repeat(long, 4), Buttons: []Button{{ID: "ok", Label: "好"}}}}, m)
	if _, ok := faultOf(l, Overflow, "modal"); !ok {
		t.Errorf("no Overflow fault for the modal's text: %v", l.Faults)
	}
}

// TestQRShrinksToFit: a QR code with a MinMM gives up size before anything is cut; one
// without keeps its size and the body overflows.
func TestQRShrinksToFit(t *testing.T) {
	f := loadTestFonts(t)
	r := NewRenderer(f, Options{Size: image.Pt(1280, 800)})
	m := Mode{Lang: "zh", Elderly: true}
	qr := QR{Content: "https://hall.example/t/A001", Caption: "扫码保存号码", MinMM: 25}
	r.Render(plain(qr), m)
	natural := r.qrSide(qr) // with room to spare: no limit
	shrunk := false
	for mm := 0.0; mm < 100 && !shrunk; mm += 2 {
		_, l := r.Render(plain(Spacer{MM: mm}, qr), m)
		if l.Err() != nil {
			t.Fatalf("spacer %v mm: %v before the code shrank", mm, l.Err())
		}
		if side := r.qrSide(qr); side < natural {
			shrunk = true
			if side < r.m.mm(25) {
				t.Errorf("code shrank to %d px; want >= 25 mm (%d px)", side, r.m.mm(25))
			}
			if r.stackGap != r.m.gap {
				t.Errorf("spacer %v mm: gaps shrank to %d px before the code; want %d", mm, r.stackGap, r.m.gap)
			}
			fixed := qr
			fixed.MinMM = 0
			r.Render(plain(Spacer{MM: mm}, fixed), m)
			if r.qrSide(fixed) != natural || r.stackGap == r.m.gap {
				t.Errorf("spacer %v mm: a code without MinMM is %d px with gaps of %d; want %d px, smaller gaps",
					mm, r.qrSide(fixed), r.stackGap, natural)
			}
		}
	}
	if !shrunk {
		t.Error("the code never shrank")
	}
}

// TestModalKeepsModelessButtons: over a prompt, the staff call stays lit and working, the
// rest of the bar is dimmed and dead, and the prompt keeps clear of the bar.
func TestModalKeepsModelessButtons(t *testing.T) {
	f := loadTestFonts(t)
	size := image.Pt(1280, 800)
	r := NewRenderer(f, Options{Size: size})
	for _, gm := range goldenModes {
		s := gallery(gm.mode)[5]
		img, l := r.Render(s, gm.mode)
		bare := s
		bare.Modal = nil
		under, lu := r.Render(bare, gm.mode)
		staff, ok := target(l, "staff")
		if !ok {
			t.Fatalf("%s: no staff target over the prompt: %v", gm.name, l.Targets)
		}
		if _, ok := target(l, "home"); ok {
			t.Errorf("%s: home is a target over the prompt", gm.name)
		}
		if was, _ := target(lu, "staff"); was.Rect != staff.Rect {
			t.Errorf("%s: staff at %v over the prompt; want %v where it was", gm.name, staff.Rect, was.Rect)
		}
		home, _ := target(lu, "home")
		c, h := staff.Rect.Min.Add(image.Pt(staff.Rect.Dx()/2, 4)), home.Rect.Min.Add(image.Pt(home.Rect.Dx()/2, 4))
		if img.RGBAAt(c.X, c.Y) != under.RGBAAt(c.X, c.Y) {
			t.Errorf("%s: the staff button is dimmed", gm.name)
		}
		if img.RGBAAt(h.X, h.Y) == under.RGBAAt(h.X, h.Y) {
			t.Errorf("%s: the home button is not dimmed", gm.name)
		}
		for _, id := range []string{"more", "quit"} {
			if b, _ := target(l, id); b.Rect.Max.Y > staff.Rect.Min.Y {
				t.Errorf("%s: prompt button %q at %v reaches the action bar", gm.name, id, b.Rect)
			}
		}
		checkLayout(t, gm.name, l, size, minTargetMM/25.4*96)
	}
}

// TestTileTitlesWrap: long category names wrap to up to three lines in their tile, in both
// languages and modes; only a name longer than that is cut, and that is a fault.
func TestTileTitlesWrap(t *testing.T) {
	f := loadTestFonts(t)
	r := NewRenderer(f, Options{Size: image.Pt(1280, 800)})
	for _, gm := range goldenModes {
		s := longTiles(gm.mode)
		_, l := r.Render(s, gm.mode)
		if l.Err() != nil {
			t.Errorf("%s: %v", gm.name, l.Err())
		}
		tiles := s.Body[0].(Tiles)
		g := r.tileGrid(tiles, 1280-2*r.m.pad)
		ts := r.style(r.m.large, true, r.p.title)
		wrapped := 0
		for _, it := range tiles.Items {
			title, _, _ := r.tileText(it, g.tw)
			if n := len(ts.face.wrap(it.Title, title.Dx())); n > 1 {
				wrapped++
				if title.Dy() != n*ts.lineH {
					t.Errorf("%s: %q has %d lines in %d px", gm.name, it.Title, n, title.Dy())
				}
			}
		}
		if wrapped == 0 {
			t.Errorf("%s: no title wrapped", gm.name)
		}
		tiles.Items[0].Title = strings.Repeat(tiles.Items[0].Title+" ", 4)
		s.Body[0] = tiles
		if _, l := r.Render(s, gm.mode); len(l.Faults) != 1 || l.Faults[0].Kind != Truncated || l.Faults[0].What != tiles.Items[0].ID {
			t.Errorf("%s: a title four times too long: faults %v; want one Truncated for %s", gm.name, l.Faults, tiles.Items[0].ID)
		}
	}
}

// TestColumnsAndFlex: columns stand side by side, each centred on the tallest; Flex
// spacers centre the body's widgets.
func TestColumnsAndFlex(t *testing.T) {
	f := loadTestFonts(t)
	r := NewRenderer(f, Options{Size: image.Pt(1280, 800)})
	m := Mode{Lang: "zh"}
	left := []Widget{Text{Text: "A001", Size: TextHuge}, Buttons{Items: []Button{{ID: "l", Label: "左"}}}}
	right := []Widget{Buttons{Items: []Button{{ID: "r", Label: "右"}}}}
	s := plain(Spacer{Flex: true}, Columns{Cols: [][]Widget{left, right}}, Spacer{Flex: true})
	_, l := r.Render(s, m)
	if l.Err() != nil {
		t.Fatal(l.Err())
	}
	lt, _ := target(l, "l")
	rt, _ := target(l, "r")
	if lt.Rect.Max.X > 640 || rt.Rect.Min.X < 640 {
		t.Errorf("columns: left button %v, right %v; want them either side of the middle", lt.Rect, rt.Rect)
	}
	tall := r.measure(Columns{Cols: [][]Widget{left, right}}, 1280-2*r.m.pad)
	top := lt.Rect.Max.Y - tall // the left column is the taller
	if mid := top + tall/2; abs(rt.Rect.Min.Y+rt.Rect.Dy()/2-mid) > 1 {
		t.Errorf("right column's button centred at %d; want %d (centred on the left)", rt.Rect.Min.Y+rt.Rect.Dy()/2, mid)
	}
	_, l0 := r.Render(plain(s.Body[1]), m)
	lt0, _ := target(l0, "l")
	home, _ := target(l, "home")
	above := lt.Rect.Min.Y - lt0.Rect.Min.Y
	below := home.Rect.Min.Y - r.m.barPad - r.m.edge - lt.Rect.Max.Y
	if above <= 0 || abs(above-below) > 1 {
		t.Errorf("flex spacers: %d px above the columns, %d below; want them centred", above, below)
	}
}

func abs(v int) int { return max(v, -v) }
