package ui

import (
	"image"
	"slices"
	"testing"
)

func down(x, y int) Pointer { return Pointer{Kind: PointerDown, X: x, Y: y} }
func move(x, y int) Pointer { return Pointer{Kind: PointerMove, X: x, Y: y} }
func up(x, y int) Pointer   { return Pointer{Kind: PointerUp, X: x, Y: y} }

func TestGestures(t *testing.T) {
	layout := &Layout{Size: image.Pt(800, 600), Targets: []Target{
		{ID: "ok", Rect: image.Rect(0, 0, 100, 100)},
		{ID: "cancel", Rect: image.Rect(200, 0, 300, 100)},
		{ID: "list", Rect: image.Rect(0, 200, 400, 500), List: true, Offset: 50, Max: 300},
		{ID: "row1", Rect: image.Rect(0, 200, 400, 300)},
		{ID: "row2", Rect: image.Rect(0, 300, 400, 400)},
	}}
	modal := &Layout{Size: image.Pt(800, 600), Targets: []Target{
		{ID: "more", Rect: image.Rect(300, 250, 500, 350)},
	}}
	tests := []struct {
		name   string
		layout *Layout
		in     []Pointer
		want   []Event
	}{
		{"tap", layout, []Pointer{down(50, 50), up(52, 51)},
			[]Event{{Kind: Touch, ID: "ok"}, {Kind: Tap, ID: "ok"}}},
		{"tap with jitter inside slop", layout, []Pointer{down(50, 50), move(58, 55), move(45, 47), up(55, 58)},
			[]Event{{Kind: Touch, ID: "ok"}, {Kind: Tap, ID: "ok"}}},
		{"moved beyond slop is no tap", layout, []Pointer{down(50, 50), move(70, 50), up(51, 50)},
			[]Event{{Kind: Touch, ID: "ok"}}},
		{"released on another target", layout, []Pointer{down(90, 50), up(210, 50)},
			[]Event{{Kind: Touch, ID: "ok"}}},
		{"touch on nothing", layout, []Pointer{down(600, 550), up(600, 550)},
			[]Event{{Kind: Touch, ID: ""}}},
		{"up without down", layout, []Pointer{up(50, 50), move(1, 1)}, nil},
		{"tap on a list row", layout, []Pointer{down(100, 250), up(100, 252)},
			[]Event{{Kind: Touch, ID: "row1"}, {Kind: Tap, ID: "row1"}}},
		{"drag scrolls and suppresses tap", layout, []Pointer{down(100, 350), move(100, 330), move(100, 300), up(100, 300)},
			[]Event{{Kind: Touch, ID: "row2"}, {Kind: Scroll, ID: "list", Offset: 70}, {Kind: Scroll, ID: "list", Offset: 100}}},
		{"drag clamps at the top", layout, []Pointer{down(100, 250), move(100, 280), move(100, 400), up(100, 450)},
			[]Event{{Kind: Touch, ID: "row1"}, {Kind: Scroll, ID: "list", Offset: 20}, {Kind: Scroll, ID: "list", Offset: 0}}},
		{"drag clamps at the bottom", layout, []Pointer{down(100, 480), move(100, 100), move(100, 0)},
			[]Event{{Kind: Touch, ID: "list"}, {Kind: Scroll, ID: "list", Offset: 300}}},
		{"drag outside a list scrolls nothing", layout, []Pointer{down(250, 50), move(250, 90), up(250, 90)},
			[]Event{{Kind: Touch, ID: "cancel"}}},
		{"tap on a list's empty area is no tap", layout, []Pointer{down(100, 450), up(100, 450)},
			[]Event{{Kind: Touch, ID: "list"}}},
		{"modal blocks what is under it", modal, []Pointer{down(50, 50), up(50, 50), down(100, 250), move(100, 150), up(100, 150)},
			[]Event{{Kind: Touch}, {Kind: Touch}}},
		{"modal button taps", modal, []Pointer{down(400, 300), up(400, 300)},
			[]Event{{Kind: Touch, ID: "more"}, {Kind: Tap, ID: "more"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g Gestures
			var got []Event
			for _, p := range tt.in {
				got = append(got, g.Feed(p, tt.layout)...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Feed(%v) = %+v; want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestGestureSlop(t *testing.T) {
	l := &Layout{Targets: []Target{{ID: "b", Rect: image.Rect(0, 0, 200, 200)}}}
	for _, tt := range []struct {
		slop, dx int
		tap      bool
	}{{0, 12, true}, {0, 13, false}, {30, 25, true}, {30, 31, false}} {
		g := Gestures{Slop: tt.slop}
		g.Feed(down(50, 50), l)
		g.Feed(move(50+tt.dx, 50), l)
		evs := g.Feed(up(50, 50), l)
		if got := len(evs) == 1 && evs[0].Kind == Tap; got != tt.tap {
			t.Errorf("slop %d, moved %d px: tap = %v; want %v", tt.slop, tt.dx, got, tt.tap)
		}
	}
}

// TestGesturesOnRenderedModal drives a rendered screen: with a modal up, the keypad under it
// takes no input.
func TestGesturesOnRenderedModal(t *testing.T) {
	f := loadTestFonts(t)
	m := Mode{Lang: "zh"}
	r := NewRenderer(f, Options{Size: image.Pt(1280, 800)})
	s := gallery(m)[5]
	withModal := s
	s.Modal = nil
	_, under := r.Render(s, m)
	_, over := r.Render(withModal, m)
	modeless := map[string]bool{}
	for _, b := range s.Actions {
		modeless[b.ID] = b.Modeless
	}
	var g Gestures
	for _, tg := range under.Targets {
		c := tg.Rect.Min.Add(tg.Rect.Max).Div(2)
		evs := append(g.Feed(down(c.X, c.Y), over), g.Feed(up(c.X, c.Y), over)...)
		tapped := slices.ContainsFunc(evs, func(e Event) bool { return e.Kind == Tap && e.ID == tg.ID })
		switch {
		case tapped && !modeless[tg.ID]:
			t.Errorf("tap on %q went through the modal", tg.ID)
		case !tapped && modeless[tg.ID]:
			t.Errorf("tap on the modeless %q did nothing over the modal", tg.ID)
		}
	}
}
