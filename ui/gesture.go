package ui

import "image"

// Gestures turns raw pointer input into events by hit-testing the layout of the frame on
// screen. It tracks one pointer (kiosk panels report a single touch); the zero value is ready
// to use and it is not safe for concurrent use.
type Gestures struct {
	// Slop is how far in pixels a press may wander and still be a tap (about 3 mm on a
	// 96 DPI panel); 0 means 12.
	Slop int

	down    bool
	start   image.Point
	target  string // under the press; "" for none
	list    Target // the list under the press, if any (ID "" for none)
	moved   bool   // beyond the slop: no tap any more
	lastOff int
}

// Feed takes one pointer event and the layout of the frame being shown, and returns what it
// meant: Touch on every press; Tap when a press is released on the same target without
// moving beyond the slop; Scroll while a press that began on a list drags vertically.
func (g *Gestures) Feed(p Pointer, l *Layout) []Event {
	pt := image.Pt(p.X, p.Y)
	switch p.Kind {
	case PointerDown:
		t, _ := l.Hit(pt)
		*g = Gestures{Slop: g.Slop, down: true, start: pt, target: t.ID}
		if t.List {
			g.target = "" // a list's own area is for dragging, not for tapping
		}
		if lt, ok := hitList(l, pt); ok {
			g.list, g.lastOff = lt, lt.Offset
		}
		return []Event{{Kind: Touch, ID: t.ID}}
	case PointerMove:
		if !g.down {
			return nil
		}
		return g.drag(pt)
	case PointerUp:
		if !g.down {
			return nil
		}
		evs := g.drag(pt)
		g.down = false
		if !g.moved && g.target != "" {
			if t, ok := l.Hit(pt); ok && t.ID == g.target {
				evs = append(evs, Event{Kind: Tap, ID: t.ID})
			}
		}
		return evs
	}
	return nil
}

func (g *Gestures) drag(pt image.Point) []Event {
	slop := g.Slop
	if slop <= 0 {
		slop = 12
	}
	d := pt.Sub(g.start)
	if !g.moved && d.X*d.X+d.Y*d.Y > slop*slop {
		g.moved = true
	}
	if !g.moved || g.list.ID == "" {
		return nil
	}
	off := min(max(g.list.Offset-d.Y, 0), g.list.Max)
	if off == g.lastOff {
		return nil
	}
	g.lastOff = off
	return []Event{{Kind: Scroll, ID: g.list.ID, Offset: off}}
}

// hitList returns the topmost list whose area contains p.
func hitList(l *Layout, p image.Point) (Target, bool) {
	if l == nil {
		return Target{}, false
	}
	for i := len(l.Targets) - 1; i >= 0; i-- {
		if t := l.Targets[i]; t.List && p.In(t.Rect) {
			return t, true
		}
	}
	return Target{}, false
}
