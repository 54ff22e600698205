package ui

import (
	"errors"
	"fmt"
	"image"
)

// FaultKind is what went wrong in a frame.
type FaultKind int

const (
	// Overflow: content taller than its room; what did not fit was cut off (the body's
	// widgets at the body's bottom edge, a prompt's text above its buttons).
	Overflow FaultKind = iota
	// Truncated: text shortened with an ellipsis (a title or subtitle over its lines, a
	// tile's title over three lines, a button label wider than its button).
	Truncated
	// SmallTarget: a touch target under 15 mm on a side. It still takes taps (a citizen
	// may hit it), but it is a fault of the screen.
	SmallTarget
)

func (k FaultKind) String() string {
	switch k {
	case Overflow:
		return "overflow"
	case Truncated:
		return "truncated"
	case SmallTarget:
		return "small target"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault is something a frame could not show as its Screen asked. A well-made screen has
// none at the sizes it is meant for; tests fail on any, and the kiosk logs them.
type Fault struct {
	Kind FaultKind
	// What names the part: "body", "title", "subtitle", "modal", a widget type such as
	// "Tiles", or a target's ID.
	What string
	Rect image.Rectangle // where it is, or the room it had
	// Short is how many pixels too little room there was (Overflow), or how many pixels the
	// target is short of 15 mm on its smaller side (SmallTarget).
	Short int
}

func (f Fault) String() string {
	s := fmt.Sprintf("%v: %s at %v", f.Kind, f.What, f.Rect)
	if f.Short > 0 {
		s += fmt.Sprintf(", %d px short", f.Short)
	}
	return s
}

// Err is nil for a frame without faults, else an error listing them.
func (l *Layout) Err() error {
	if l == nil || len(l.Faults) == 0 {
		return nil
	}
	errs := make([]error, len(l.Faults))
	for i, f := range l.Faults {
		errs[i] = fmt.Errorf("ui: %v", f)
	}
	return errors.Join(errs...)
}

// fault records a fault of the frame being drawn.
func (r *Renderer) fault(k FaultKind, what string, rect image.Rectangle, short int) {
	r.l.Faults = append(r.l.Faults, Fault{Kind: k, What: what, Rect: rect, Short: max(short, 0)})
}

// widgetName names a widget in faults.
func widgetName(wd Widget) string {
	name := fmt.Sprintf("%T", wd)
	if len(name) > 3 && name[:3] == "ui." {
		name = name[3:]
	}
	return name
}

// body lays the widgets out top to bottom in area. Lists without a Height share what the
// other widgets leave, and no list reaches below the body (so its scroll range is right).
// When the widgets do not fit, the layout gives up room in this order: QR codes shrink
// towards their MinMM and keypad keys towards a finger's size, then the gaps between
// widgets shrink; what still does not fit is cut at the body's bottom edge and reported as
// an Overflow fault.
func (r *Renderer) body(ws []Widget, area image.Rectangle) {
	w := area.Dx()
	var hs []int
	var gap, need int
	fits := false
	for _, gap = range []int{r.m.gap, r.m.mm(2), r.m.mm(1)} {
		r.stackGap, r.qrLimit, r.keyLimit = gap, 0, 0
		for {
			hs, need = r.stackHeights(ws, w, gap, true)
			if need <= area.Dy() {
				fits = true
				break
			}
			if !r.shrinkQR(ws) && !r.shrinkKeys(ws, w) {
				break
			}
		}
		if fits {
			break
		}
	}
	autos, flex := 0, 0
	for _, wd := range ws {
		switch v := wd.(type) {
		case List:
			if v.Height <= 0 {
				autos++
			}
		case Spacer:
			if v.Flex {
				flex++
			}
		}
	}
	if autos > 0 {
		share := max((area.Dy()-need)/autos+r.m.target, r.m.target)
		for i, wd := range ws {
			if l, ok := wd.(List); ok && l.Height <= 0 {
				hs[i] = min(share, r.listContent(l, w))
			}
		}
	} else if flex > 0 && fits {
		share := (area.Dy() - need) / flex
		for i, wd := range ws {
			if sp, ok := wd.(Spacer); ok && sp.Flex {
				hs[i] += share
			}
		}
	}
	y, first := area.Min.Y, true
	for i, wd := range ws {
		h := hs[i]
		if r.spaced(wd, h) {
			if !first {
				y += gap
			}
			first = false
		}
		cut := y+h > area.Max.Y
		if l, ok := wd.(List); ok && cut {
			// A list may be shortened (it scrolls), but not below a finger's height.
			h = max(area.Max.Y-y, 0)
			cut = h < min(r.m.target, r.listContent(l, w))
		}
		if !fits && cut {
			// Name the first widget cut, so the fault says what a citizen misses.
			r.fault(Overflow, "body: "+widgetName(wd), area, need-area.Dy())
			fits = true
		}
		if y < area.Max.Y {
			r.draw(wd, image.Rect(area.Min.X, y, area.Max.X, y+h))
		}
		y += h
	}
	if !fits {
		r.fault(Overflow, "body", area, need-area.Dy())
	}
}

// stackHeights measures ws stacked at width w with gap between them: each widget's height
// and the height the stack needs. In the body (auto true) a List without a Height needs
// only one finger's height (it scrolls), and is measured later from what is left.
func (r *Renderer) stackHeights(ws []Widget, w, gap int, auto bool) ([]int, int) {
	hs := make([]int, len(ws))
	need, n := 0, 0
	for i, wd := range ws {
		if l, ok := wd.(List); ok && auto && l.Height <= 0 {
			need += min(r.m.target, r.listContent(l, w))
			n++
			continue
		}
		hs[i] = r.measure(wd, w)
		need += hs[i]
		if r.spaced(wd, hs[i]) {
			n++
		}
	}
	if n > 1 {
		need += (n - 1) * gap
	}
	return hs, need
}

// spaced reports whether wd, measured h high, is set off from its neighbours by a gap: an
// empty widget (a Flex spacer before its share, a row without buttons) is not.
func (r *Renderer) spaced(wd Widget, h int) bool {
	if l, ok := wd.(List); ok && l.Height <= 0 {
		return true
	}
	if sp, ok := wd.(Spacer); ok && sp.Flex {
		return r.m.mm(sp.MM) > 0
	}
	return h > 0
}

// walk calls fn for every widget in ws and in their columns.
func walk(ws []Widget, fn func(Widget)) {
	for _, wd := range ws {
		fn(wd)
		if c, ok := wd.(Columns); ok {
			for _, col := range c.Cols {
				walk(col, fn)
			}
		}
	}
}

// shrinkQR makes the QR codes among ws one module step smaller, if any may still shrink,
// and reports whether it did.
func (r *Renderer) shrinkQR(ws []Widget) bool {
	side := 0
	walk(ws, func(wd Widget) {
		if v, ok := wd.(QR); ok {
			if scale, s := r.qrScale(v); scale > 1 && s-s/scale >= r.m.mm(v.minMM()) {
				side = max(side, s-s/scale)
			}
		}
	})
	if side == 0 {
		return false
	}
	r.qrLimit = side
	return true
}

// shrinkKeys makes keypad keys a millimetre lower, down to 15 mm (below the elderly
// mode's 18 mm, rather than cut keys off), if ws has a keypad, and reports whether it did.
func (r *Renderer) shrinkKeys(ws []Widget, w int) bool {
	h := 0
	walk(ws, func(wd Widget) {
		if _, ok := wd.(Keypad); ok {
			h = max(h, r.keypadGeom(w).keyH)
		}
	})
	if h <= r.m.mm(minTargetMM) {
		return false
	}
	r.keyLimit = max(h-r.m.mm(1), r.m.mm(minTargetMM))
	return true
}

// columnWidths shares w between c's columns by their weights.
func (r *Renderer) columnWidths(c Columns, w int) []int {
	n := len(c.Cols)
	ws := make([]int, n)
	if n == 0 {
		return ws
	}
	room := w - (n-1)*r.m.gap
	total := 0
	for i := range n {
		total += c.weight(i)
	}
	left := room
	for i := range n {
		ws[i] = room * c.weight(i) / total
		left -= ws[i]
	}
	ws[n-1] += left
	return ws
}

// columnsHeight is the height of the tallest column.
func (r *Renderer) columnsHeight(c Columns, w int) int {
	h := 0
	for i, cw := range r.columnWidths(c, w) {
		_, need := r.stackHeights(c.Cols[i], cw, r.stackGap, false)
		h = max(h, need)
	}
	return h
}

// columns draws each column's widgets top to bottom, the column centred vertically in rect.
func (r *Renderer) columns(c Columns, rect image.Rectangle) {
	x := rect.Min.X
	for i, cw := range r.columnWidths(c, rect.Dx()) {
		hs, need := r.stackHeights(c.Cols[i], cw, r.stackGap, false)
		y, first := rect.Min.Y+max((rect.Dy()-need)/2, 0), true
		for j, wd := range c.Cols[i] {
			if r.spaced(wd, hs[j]) {
				if !first {
					y += r.stackGap
				}
				first = false
			}
			r.draw(wd, image.Rect(x, y, x+cw, y+hs[j]))
			y += hs[j]
		}
		x += cw + r.m.gap
	}
}
