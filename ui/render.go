package ui

import (
	"image"
	"image/color"
	"strings"
)

// Options configure a Renderer.
type Options struct {
	Size image.Point // frame size in pixels for Render
	DPI  float64     // of the screen, for physical sizes (touch targets, type); 0: 96
}

// Renderer draws Screens. It caches glyphs (through its Fonts), icons and QR codes between
// frames; a Renderer is not safe for concurrent use (use one per goroutine; they may share
// Fonts).
type Renderer struct {
	fonts *Fonts
	opt   Options

	// per-frame state
	c    canvas
	m    metrics
	p    *palette
	mode Mode
	l    *Layout
	// stackGap is the gap between stacked widgets, qrLimit the largest QR side and keyLimit
	// the largest keypad key height in pixels (0: none): what body chose to make its
	// widgets fit.
	stackGap, qrLimit, keyLimit int

	icons map[iconKey]icon
	qr    qrCache
}

// NewRenderer returns a renderer drawing with f.
func NewRenderer(f *Fonts, o Options) *Renderer {
	if o.DPI <= 0 {
		o.DPI = 96
	}
	return &Renderer{fonts: f, opt: o, icons: map[iconKey]icon{}}
}

// Render draws s into a new image of Options.Size and returns it with its touch targets and
// faults (Layout.Err).
func (r *Renderer) Render(s Screen, m Mode) (*image.RGBA, *Layout) {
	img := image.NewRGBA(image.Rectangle{Max: r.opt.Size})
	return img, r.RenderInto(img, s, m)
}

// RenderInto draws s over all of dst (whose bounds must start at 0, 0), reusing its pixels,
// and returns the touch targets and faults.
func (r *Renderer) RenderInto(dst *image.RGBA, s Screen, m Mode) *Layout {
	size := dst.Bounds().Size()
	if size.X <= 0 || size.Y <= 0 {
		return &Layout{Size: size}
	}
	r.c.dst, r.c.clip = dst, dst.Bounds()
	r.mode = m
	r.m = newMetrics(r.opt.DPI, m.Elderly)
	r.p = &normalPalette
	if m.Elderly {
		r.p = &contrastPalette
	}
	r.l = &Layout{Size: size}
	r.stackGap, r.qrLimit, r.keyLimit = r.m.gap, 0, 0
	mt, p := r.m, r.p

	r.c.fill(dst.Bounds(), p.bg)
	y := r.statusBar(s.Status, size.X)
	y = r.titles(s, y+mt.edge, size.X) + mt.edge

	barH := mt.target + 2*mt.barPad
	body := image.Rect(mt.pad, y, size.X-mt.pad, size.Y-barH-mt.edge)
	restore := r.c.withClip(body)
	r.body(s.Body, body)
	restore()
	bar := image.Rect(0, size.Y-barH, size.X, size.Y)
	rects := r.actionBar(s.Actions, bar)

	if s.Modal != nil {
		r.l.Targets = r.l.Targets[:0]
		r.c.fill(dst.Bounds(), p.dim)
		// The staff call (and the language switch) stay lit and working: a citizen stuck
		// at the prompt can still get help. The prompt then keeps clear of the bar.
		room := dst.Bounds()
		for i, b := range s.Actions {
			if b.Modeless {
				r.button(b, rects[i])
				room.Max.Y = bar.Min.Y
			}
		}
		r.modal(s.Modal, room)
	}
	l := r.l
	r.c.dst, r.l = nil, nil
	return l
}

// style is the text style of a font size.
func (r *Renderer) style(px int, bold bool, col color.RGBA) textStyle {
	prop := r.mode.Lang != "" && !strings.HasPrefix(r.mode.Lang, "zh")
	return textStyle{face: r.fonts.face(px, bold, prop), lineH: r.m.lineH(px), col: col}
}

// addTarget records a touch target clipped to what is visible. One drawn smaller than a
// finger still takes taps but is a SmallTarget fault; one the clip cut below that size, or
// wholly, is no target (the Overflow fault of its container says so).
func (r *Renderer) addTarget(t Target) {
	whole := t.Rect
	t.Rect = t.Rect.Intersect(r.c.clip)
	if t.Rect.Empty() {
		return
	}
	least := r.m.mm(minTargetMM)
	if !t.List && (t.Rect.Dx() < least || t.Rect.Dy() < least) {
		r.fault(SmallTarget, t.ID, t.Rect, least-min(t.Rect.Dx(), t.Rect.Dy()))
		if t.Rect != whole {
			// A sliver the clip left over takes no taps: one there would as likely be meant
			// for its neighbour. (A whole button drawn too small stays tappable.)
			return
		}
	}
	r.l.Targets = append(r.l.Targets, t)
}

// para draws a paragraph of at most maxLines lines and reports a Truncated fault naming
// what when it had to be cut.
func (r *Renderer) para(st textStyle, rect image.Rectangle, s string, align Align, maxLines int, what string) int {
	h, cut := r.c.paragraph(st, rect, s, align, maxLines)
	if cut {
		r.fault(Truncated, what, rect, 0)
	}
	return h
}

// statusBar draws the top strip and returns its bottom: the hall on the left; on the right
// the clock, the staff-call confirmation and the offline badge. The badges take the room
// they need (the offline one is shortened if it must be); the hall's name takes the rest.
func (r *Renderer) statusBar(sb StatusBar, w int) int {
	mt, p := r.m, r.p
	st := r.style(mt.small, true, p.statusText)
	h := max(mt.mm(11), st.lineH+2*mt.mm(1))
	r.c.fill(image.Rect(0, 0, w, h), p.statusBg)
	ty := (h - st.lineH) / 2
	right := w - mt.pad
	if !sb.Clock.IsZero() {
		clock := sb.Clock.Format("15:04")
		cw := st.face.width(clock)
		right -= cw
		r.c.drawString(st, right, ty, clock)
		right -= mt.gap * 2
	}
	left := mt.pad
	ic := st.face.px
	pad := mt.mm(1.5)
	badgeW := func(text string) int { return ic + 3*pad + st.face.width(text) }
	badge := func(kind iconKind, text string, bg, fg, icol color.RGBA) {
		bw := badgeW(text)
		bh := min(h-2*mt.mm(1), st.lineH+mt.mm(1))
		br := image.Rect(right-bw, (h-bh)/2, right, (h-bh)/2+bh)
		r.c.roundRect(br, bh/2, bg)
		r.drawIcon(kind, image.Pt(br.Min.X+pad, br.Min.Y+(bh-ic)/2), ic, icol, bg)
		r.c.drawString(textStyle{face: st.face, lineH: st.lineH, col: fg}, br.Min.X+ic+2*pad, br.Min.Y+(bh-st.lineH)/2, text)
		right = br.Min.X - mt.gap
	}
	if sb.StaffCalled != "" {
		if badgeW(sb.StaffCalled) > right-left {
			r.fault(Truncated, "status: staff called", image.Rect(left, 0, right, h), 0)
		}
		badge(iconSuccess, st.face.ellipsize(sb.StaffCalled, right-left-ic-3*pad), p.noticeBg[NoticeSuccess], p.noticeText, p.noticeFg[NoticeSuccess])
	}
	if sb.Offline && right > left {
		text := sb.OfflineText
		if badgeW(text) > right-left {
			r.fault(Truncated, "status: offline", image.Rect(left, 0, right, h), 0)
			text = st.face.ellipsize(text, right-left-ic-3*pad)
		}
		badge(iconBlocked, text, p.offlineBg, p.offlineText, p.offlineText)
	}
	if sb.Hall != "" && right > left {
		r.c.drawString(st, left, ty, st.face.ellipsize(sb.Hall, right-left))
	}
	return h
}

// titles draws the title and subtitle from y and returns the bottom.
func (r *Renderer) titles(s Screen, y, w int) int {
	mt, p := r.m, r.p
	area := image.Rect(mt.pad, y, w-mt.pad, y)
	if s.Title != "" {
		st := r.style(mt.title, true, p.title)
		area.Max.Y = y + 2*st.lineH
		y += r.para(st, area, s.Title, AlignCenter, 2, "title")
	}
	if s.Subtitle != "" {
		st := r.style(mt.body, false, p.muted)
		area.Min.Y = y
		area.Max.Y = y + 2*st.lineH
		y += r.para(st, area, s.Subtitle, AlignCenter, 2, "subtitle")
	}
	return y
}

// buttonWidth is the width a button's label asks for.
func (r *Renderer) buttonWidth(b Button) int {
	st := r.style(r.m.body, true, r.p.text)
	return max(st.face.width(b.Label)+2*r.m.mm(6), r.m.mm(32), r.m.target)
}

// button draws b in rect and makes it a target.
func (r *Renderer) button(b Button, rect image.Rectangle) {
	mt, p := r.m, r.p
	bg, fg, border := p.primary, p.onPrimary, p.primary
	switch b.Kind {
	case ButtonSecondary:
		bg, fg, border = p.secondary, p.onSecondary, p.onSecondary
	case ButtonDanger:
		bg, fg, border = p.danger, p.onDanger, p.danger
	}
	r.c.box(rect, mt.rad, bg, border, max(mt.bw, mt.mm(0.5)))
	st := r.style(mt.body, true, fg)
	room := rect.Dx() - 2*mt.mm(2)
	if st.face.width(b.Label) > room { // a smaller whole label reads better than a cut one
		st = r.style(mt.small, true, fg)
	}
	label := st.face.ellipsize(b.Label, room)
	if label != b.Label {
		r.fault(Truncated, b.ID, rect, 0)
	}
	r.c.drawString(st, rect.Min.X+(rect.Dx()-st.face.width(label))/2, rect.Min.Y+(rect.Dy()-st.lineH)/2, label)
	r.addTarget(Target{ID: b.ID, Rect: rect})
}

// buttonRow lays bs out in a centred row inside area, all of area's height, draws them and
// returns their rectangles. Buttons keep their natural widths when they fit and share the
// row equally when not.
func (r *Renderer) buttonRow(bs []Button, area image.Rectangle, uniform bool) []image.Rectangle {
	n := len(bs)
	if n == 0 {
		return nil
	}
	gap := r.m.gap
	ws := make([]int, n)
	total, widest := 0, 0
	for i, b := range bs {
		ws[i] = r.buttonWidth(b)
		widest = max(widest, ws[i])
	}
	for i := range ws {
		if uniform {
			ws[i] = widest
		}
		total += ws[i]
	}
	total += (n - 1) * gap
	if total > area.Dx() {
		each := (area.Dx() - (n-1)*gap) / n
		for i := range ws {
			ws[i] = each
		}
		total = each*n + (n-1)*gap
	}
	x := area.Min.X + (area.Dx()-total)/2
	rects := make([]image.Rectangle, n)
	for i, b := range bs {
		rects[i] = image.Rect(x, area.Min.Y, x+ws[i], area.Max.Y)
		r.button(b, rects[i])
		x += ws[i] + gap
	}
	return rects
}

// actionBar draws the bottom bar and returns where each button went.
func (r *Renderer) actionBar(bs []Button, area image.Rectangle) []image.Rectangle {
	mt, p := r.m, r.p
	r.c.fill(area, p.surface)
	r.c.hline(area.Min.X, area.Max.X, area.Min.Y, max(mt.bw, 1), p.border)
	inner := image.Rect(area.Min.X+mt.pad, area.Min.Y+mt.barPad, area.Max.X-mt.pad, area.Max.Y-mt.barPad)
	return r.buttonRow(bs, inner, true)
}

// modal draws the dialog box centred in room on the dimmed screen.
func (r *Renderer) modal(md *Modal, room image.Rectangle) {
	mt, p := r.m, r.p
	size := room.Size()
	w := min(size.X-4*mt.pad, mt.mm(190))
	if mt.elderly {
		w = min(size.X-2*mt.pad, mt.mm(230))
	}
	tw := w - 2*mt.pad
	tst := r.style(mt.large, true, p.title)
	bst := r.style(mt.body, false, p.text)
	h := mt.pad
	if md.Title != "" {
		h += paragraphHeight(tst, tw, md.Title, 2) + mt.gap
	}
	if md.Text != "" {
		h += paragraphHeight(bst, tw, md.Text, 0) + mt.gap
	}
	h += mt.gap + mt.target + mt.pad
	if most := size.Y - 2*mt.mm(2); h > most {
		r.fault(Overflow, "modal", room, h-most)
		h = most
	}
	o := room.Min
	box := image.Rect(o.X+(size.X-w)/2, o.Y+(size.Y-h)/2, o.X+(size.X+w)/2, o.Y+(size.Y+h)/2)
	r.c.box(box, 2*mt.rad, p.surface, p.border, mt.bw)
	restore := r.c.withClip(box)
	defer restore()
	y := box.Min.Y + mt.pad
	by := box.Max.Y - mt.pad - mt.target
	// Text too long for the screen is cut above the buttons, never drawn under them.
	tr := image.Rect(box.Min.X+mt.pad, y, box.Max.X-mt.pad, by-mt.gap)
	restoreText := r.c.withClip(tr)
	if md.Title != "" {
		tr.Min.Y = y
		y += r.para(tst, tr, md.Title, AlignCenter, 2, "modal title") + mt.gap
	}
	if md.Text != "" {
		tr.Min.Y = y
		r.c.paragraph(bst, tr, md.Text, AlignCenter, 0)
	}
	restoreText()
	r.buttonRow(md.Buttons, image.Rect(tr.Min.X, by, tr.Max.X, by+mt.target), true)
}
