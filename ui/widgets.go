package ui

import (
	"image"
	"strconv"
)

// measure is the height of wd at width w.
func (r *Renderer) measure(wd Widget, w int) int {
	mt, p := r.m, r.p
	switch v := wd.(type) {
	case Text:
		return paragraphHeight(r.textStyle(v), w, v.Text, 0)
	case Notice:
		st := r.style(mt.body, false, p.noticeText)
		ic := r.noticeIcon()
		return max(ic, paragraphHeight(st, w-3*mt.inner-ic, v.Text, 0)) + 2*mt.inner
	case Tiles:
		g := r.tileGrid(v, w)
		h := 0
		for _, rh := range g.rowH {
			h += rh
		}
		return max(h+(len(g.rowH)-1)*mt.gap, 0)
	case Columns:
		return r.columnsHeight(v, w)
	case Buttons:
		if len(v.Items) == 0 {
			return 0
		}
		return mt.target
	case List:
		return min(v.Height, r.listContent(v, w))
	case Keypad:
		k := r.keypadGeom(w)
		return k.dispH + mt.gap + 4*k.keyH + 3*k.gap
	case QR:
		st := r.style(mt.body, false, p.text)
		h := r.qrSide(v)
		if v.Caption != "" {
			h += mt.mm(2) + paragraphHeight(st, w, v.Caption, 0)
		}
		return h
	case Progress:
		return r.style(mt.body, false, p.text).lineH + mt.mm(1.5) + r.barH()
	case Spacer:
		return max(r.m.mm(v.MM), 0)
	}
	return 0
}

// draw draws wd into rect (rect's height is what measure returned, or a list's share).
func (r *Renderer) draw(wd Widget, rect image.Rectangle) {
	switch v := wd.(type) {
	case Text:
		r.c.paragraph(r.textStyle(v), rect, v.Text, v.Align, 0)
	case Columns:
		r.columns(v, rect)
	case Notice:
		r.notice(v, rect)
	case Tiles:
		r.tiles(v, rect)
	case Buttons:
		r.buttonRow(v.Items, rect, false)
	case List:
		r.list(v, rect)
	case Keypad:
		r.keypad(v, rect)
	case QR:
		r.qrCode(v, rect)
	case Progress:
		r.progress(v, rect)
	}
}

func (r *Renderer) textStyle(t Text) textStyle {
	col := r.p.text
	if t.Size == TextHuge || t.Size == TextLarge {
		col = r.p.title
	}
	return r.style(r.m.textPx(t.Size), t.Bold || t.Size == TextHuge, col)
}

func (r *Renderer) noticeIcon() int { return r.m.body * 5 / 4 }

func (r *Renderer) notice(n Notice, rect image.Rectangle) {
	mt, p := r.m, r.p
	k := min(max(int(n.Kind), 0), 3)
	r.c.box(rect, mt.rad, p.noticeBg[k], p.noticeFg[k], max(mt.bw, mt.mm(0.5)))
	st := r.style(mt.body, false, p.noticeText)
	ic := r.noticeIcon()
	kinds := [4]iconKind{iconInfo, iconSuccess, iconWarning, iconError}
	iy := rect.Min.Y + mt.inner + max((st.lineH-ic)/2, 0)
	r.drawIcon(kinds[k], image.Pt(rect.Min.X+mt.inner, iy), ic, p.noticeFg[k], p.surface)
	tr := image.Rect(rect.Min.X+2*mt.inner+ic, rect.Min.Y+mt.inner, rect.Max.X-mt.inner, rect.Max.Y)
	th := paragraphHeight(st, tr.Dx(), n.Text, 0)
	if th < ic { // centre a single short line on the icon
		tr.Min.Y += (ic - th) / 2
	}
	r.c.paragraph(st, tr, n.Text, AlignStart, 0)
}

// maxTitleLines and maxDetailLines are the most lines a tile's title and its detail (or
// reason) wrap to before they are cut.
const maxTitleLines, maxDetailLines = 3, 3

// tileGeom is the geometry of a tile grid: columns, tile width, each row's height, and
// where each tile's words go (tileText).
type tileGeom struct {
	cols, tw int
	rowH     []int
	words    []tileWords
}

type tileWords struct {
	title, detail image.Rectangle
	text          string
}

// tileText is where a tile's words go, beside the accent stripe: the title, then the
// detail (or the reason the tile is disabled, after an icon).
func (r *Renderer) tileText(it Tile, tw int) (title, detail image.Rectangle, text string) {
	mt := r.m
	left := mt.inner + mt.mm(1.5)
	title = image.Rect(left, 0, tw-mt.inner, 0)
	detail, text = title, it.Detail
	if it.Disabled {
		text = it.Reason
		detail.Min.X += r.m.textPx(TextBody) + mt.mm(1.5) // the icon
	}
	ts := r.style(mt.large, true, r.p.title)
	n := len(ts.face.wrap(it.Title, title.Dx()))
	if n <= maxTitleLines {
		title.Max.X = title.Min.X + ts.face.balance(it.Title, title.Dx(), n)
	}
	title.Max.Y = min(n, maxTitleLines) * ts.lineH
	if text != "" {
		ds := r.style(mt.body, false, r.p.muted)
		detail.Min.Y = title.Max.Y
		detail.Max.Y = detail.Min.Y + paragraphHeight(ds, detail.Dx(), text, maxDetailLines)
	} else {
		detail.Min.Y, detail.Max.Y = title.Max.Y, title.Max.Y
	}
	return title, detail, text
}

// tilePadY is the space above and below a tile's words; the elderly type needs the height
// more than the tile does.
func (r *Renderer) tilePadY() int {
	if r.m.elderly {
		return r.m.mm(2)
	}
	return r.m.inner
}

// tileGrid lays out t at width w. Every tile of a row is as tall as the row's tallest text.
func (r *Renderer) tileGrid(t Tiles, w int) tileGeom {
	mt, p := r.m, r.p
	cols := t.Columns
	ts := r.style(mt.large, true, p.title)
	if cols <= 0 {
		// As many columns as fit (at most 4, or 2 in the elderly mode) while every title
		// still fits on one line; never fewer than 2, where long titles wrap.
		most := min(max(w/mt.mm(58), 2), 4)
		if mt.elderly {
			most = min(max(w/mt.mm(100), 1), 2)
		}
		most = min(most, max(len(t.Items), 1))
		widest := 0
		for _, it := range t.Items {
			widest = max(widest, ts.face.width(it.Title))
		}
		for cols = most; cols > min(2, most); cols-- {
			if (w-(cols-1)*mt.gap)/cols-2*mt.inner-mt.mm(1.5) >= widest {
				break
			}
		}
	}
	g := tileGeom{cols: cols, tw: (w - (cols-1)*mt.gap) / cols}
	least := max(mt.mm(22), mt.target)
	for i, it := range t.Items {
		if i%cols == 0 {
			g.rowH = append(g.rowH, least)
		}
		tt, d, text := r.tileText(it, g.tw)
		g.words = append(g.words, tileWords{tt, d, text})
		g.rowH[len(g.rowH)-1] = max(g.rowH[len(g.rowH)-1], d.Max.Y+2*r.tilePadY())
	}
	return g
}

func (r *Renderer) tiles(t Tiles, rect image.Rectangle) {
	mt, p := r.m, r.p
	g := r.tileGrid(t, rect.Dx())
	accent := mt.mm(1.5)
	y := rect.Min.Y
	for i, it := range t.Items {
		row := i / g.cols
		if i > 0 && i%g.cols == 0 {
			y += g.rowH[row-1] + mt.gap
		}
		th := g.rowH[row]
		x := rect.Min.X + (i%g.cols)*(g.tw+mt.gap)
		tr := image.Rect(x, y, x+g.tw, y+th)
		bg, tc, dc := p.surface, p.title, p.muted
		if it.Disabled {
			bg, tc, dc = p.disabledBg, p.disabledText, p.disabledText
		}
		r.c.box(tr, mt.rad, bg, p.border, mt.bw)
		if !it.Disabled { // an accent stripe marks the tiles that can be pressed
			r.c.fill(image.Rect(x+mt.bw, y+mt.rad, x+mt.bw+accent, y+th-mt.rad), p.primary)
		}
		ts := r.style(mt.large, true, tc)
		ds := r.style(mt.body, false, dc)
		title, detail, text := g.words[i].title, g.words[i].detail, g.words[i].text
		// The words are centred as a block in the tile.
		off := tr.Min.Add(image.Pt(0, (th-detail.Max.Y)/2))
		r.para(ts, title.Add(off), it.Title, AlignStart, maxTitleLines, it.ID)
		if text != "" {
			d := detail.Add(off)
			if it.Disabled {
				ic := ds.face.px
				r.drawIcon(iconBlocked, image.Pt(d.Min.X-ic-mt.mm(1.5), d.Min.Y+(ds.lineH-ic)/2), ic, dc, bg)
			}
			r.para(ds, d, text, AlignStart, maxDetailLines, it.ID)
		}
		if !it.Disabled {
			r.addTarget(Target{ID: it.ID, Rect: tr})
		}
	}
}

// listRow is the height of one row of l.
func (r *Renderer) listRow(l List) int {
	mt := r.m
	h := mt.lineH(mt.body)
	for _, it := range l.Items {
		if it.Detail != "" {
			h = mt.lineH(mt.body) + mt.lineH(mt.small)
			break
		}
	}
	return max(h+2*mt.inner, mt.target)
}

func (r *Renderer) listContent(l List, _ int) int {
	return len(l.Items)*r.listRow(l) + 2*r.m.bw
}

func (r *Renderer) list(l List, rect image.Rectangle) {
	mt, p := r.m, r.p
	rh := r.listRow(l)
	content := len(l.Items) * rh
	inner := rect.Inset(mt.bw)
	maxOff := max(content-inner.Dy(), 0)
	off := min(max(l.Offset, 0), maxOff)
	r.c.box(rect, mt.rad, p.surface, p.border, mt.bw)
	r.addTarget(Target{ID: l.ID, Rect: rect, List: true, Offset: off, Max: maxOff})
	restore := r.c.withClip(inner)
	defer restore()
	bar := 0
	if maxOff > 0 {
		bar = mt.mm(2.5)
	}
	ts := r.style(mt.body, true, p.text)
	ds := r.style(mt.small, false, p.muted)
	first := off / rh
	for i := first; i < len(l.Items); i++ {
		y := inner.Min.Y - off + i*rh
		if y >= inner.Max.Y {
			break
		}
		it := l.Items[i]
		row := image.Rect(inner.Min.X, y, inner.Max.X, y+rh)
		if i > 0 {
			r.c.hline(inner.Min.X+mt.inner, inner.Max.X-mt.inner, y, max(1, mt.bw/2), p.border)
		}
		tw := row.Dx() - 2*mt.inner - bar
		th := ts.lineH
		if it.Detail != "" {
			th += ds.lineH
		}
		ty := y + (rh-th)/2
		r.c.drawString(ts, row.Min.X+mt.inner, ty, ts.face.ellipsize(it.Title, tw))
		if it.Detail != "" {
			r.c.drawString(ds, row.Min.X+mt.inner, ty+ts.lineH, ds.face.ellipsize(it.Detail, tw))
		}
		// A row scrolled partly out of view is no target until it is scrolled in: a tap on
		// a sliver would as likely be meant for its neighbour.
		if vis := row.Intersect(r.c.clip); vis.Dy() >= min(mt.mm(minTargetMM), rh) {
			r.addTarget(Target{ID: it.ID, Rect: row})
		}
	}
	if maxOff > 0 { // scroll bar: where we are and that there is more
		track := image.Rect(inner.Max.X-bar+mt.mm(0.5), inner.Min.Y+mt.mm(1), inner.Max.X-mt.mm(0.5), inner.Max.Y-mt.mm(1))
		r.c.roundRect(track, track.Dx()/2, p.track)
		th := max(track.Dy()*inner.Dy()/content, mt.mm(8))
		ty := track.Min.Y + (track.Dy()-th)*off/maxOff
		r.c.roundRect(image.Rect(track.Min.X, ty, track.Max.X, ty+th), track.Dx()/2, p.muted)
	}
}

// keypadGeom is the geometry of a keypad.
type keypadGeom struct{ keyW, keyH, gap, dispH, width int }

func (r *Renderer) keypadGeom(w int) keypadGeom {
	mt := r.m
	k := keypadGeom{gap: mt.mm(2.5)}
	k.keyH = max(mt.target, mt.lineH(mt.large)*5/4)
	if r.keyLimit > 0 { // the body is short of room (see shrinkKeys)
		k.keyH = min(k.keyH, r.keyLimit)
	}
	k.keyW = min(k.keyH*8/5, (w-3*k.gap)/4)
	k.dispH = max(mt.target, mt.lineH(mt.large)+2*mt.mm(1.5))
	k.width = 4*k.keyW + 3*k.gap
	return k
}

// keypad draws the value display and the 3x4 keys with a tall OK key on the right.
func (r *Renderer) keypad(kp Keypad, rect image.Rectangle) {
	mt, p := r.m, r.p
	k := r.keypadGeom(rect.Dx())
	x0 := rect.Min.X + (rect.Dx()-k.width)/2
	disp := image.Rect(x0, rect.Min.Y, x0+k.width, rect.Min.Y+k.dispH)
	r.c.box(disp, mt.rad, p.surface, p.text, max(mt.bw, mt.mm(0.5)))
	vs := r.style(mt.large, true, p.text)
	cs := r.style(mt.small, false, p.muted)
	right := disp.Max.X - mt.inner
	if kp.MaxLen > 0 {
		cnt := strconv.Itoa(runeCount(kp.Value)) + "/" + strconv.Itoa(kp.MaxLen)
		right -= cs.face.width(cnt)
		r.c.drawString(cs, right, disp.Min.Y+(k.dispH-cs.lineH)/2, cnt)
		right -= mt.inner
	}
	vx, vy := disp.Min.X+mt.inner, disp.Min.Y+(k.dispH-vs.lineH)/2
	if kp.Masked {
		d := max(vs.face.px/2, 6)
		step := d * 3 / 2
		for i := 0; i < runeCount(kp.Value) && vx+d <= right; i++ {
			r.drawIcon(iconDot, image.Pt(vx, disp.Min.Y+(k.dispH-d)/2), d, p.text, p.surface)
			vx += step
		}
	} else {
		v := kp.Value
		for vs.face.width(v) > right-vx && len(v) > 0 { // keep the newest digits visible
			v = v[1:]
		}
		r.c.drawString(vs, vx, vy, v)
	}
	keys := [12]string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "", "0", "del"}
	if kp.AllowX {
		keys[9] = "X"
	}
	top := disp.Max.Y + mt.gap
	for i, key := range keys {
		if key == "" {
			continue
		}
		x := x0 + (i%3)*(k.keyW+k.gap)
		y := top + (i/3)*(k.keyH+k.gap)
		kr := image.Rect(x, y, x+k.keyW, y+k.keyH)
		r.c.box(kr, mt.rad, p.secondary, p.onSecondary, max(mt.bw, mt.mm(0.5)))
		if key == "del" {
			ic := vs.face.px * 3 / 2
			r.drawIcon(iconBackspace, image.Pt(x+(k.keyW-ic)/2, y+(k.keyH-ic)/2), ic, p.onSecondary, p.secondary)
		} else {
			ks := r.style(mt.large, true, p.onSecondary)
			r.c.drawString(ks, x+(k.keyW-ks.face.width(key))/2, y+(k.keyH-ks.lineH)/2, key)
		}
		r.addTarget(Target{ID: kp.ID + ":" + key, Rect: kr})
	}
	ox := x0 + 3*(k.keyW+k.gap)
	ok := image.Rect(ox, top, ox+k.keyW, top+4*k.keyH+3*k.gap)
	r.c.box(ok, mt.rad, p.primary, p.primary, 0)
	ls := r.style(mt.large, true, p.onPrimary)
	lw := ok.Dx() - 2*mt.mm(1.5)
	if ls.face.width(kp.OK) > lw {
		ls = r.style(mt.body, true, p.onPrimary)
	}
	lh := paragraphHeight(ls, lw, kp.OK, 3)
	r.para(ls, image.Rect(ok.Min.X+mt.mm(1.5), ok.Min.Y+(ok.Dy()-lh)/2, ok.Max.X-mt.mm(1.5), ok.Max.Y), kp.OK, AlignCenter, 3, kp.ID+":ok")
	r.addTarget(Target{ID: kp.ID + ":ok", Rect: ok})
}

func (r *Renderer) barH() int {
	if r.m.elderly {
		return r.m.mm(6)
	}
	return r.m.mm(4)
}

func (r *Renderer) progress(pg Progress, rect image.Rectangle) {
	mt, p := r.m, r.p
	st := r.style(mt.body, false, p.text)
	lw := rect.Dx()
	if pg.Fraction >= 0 {
		f := min(pg.Fraction, 1)
		pct := strconv.Itoa(int(f*100+0.5)) + "%"
		pw := st.face.width(pct)
		r.c.drawString(r.style(mt.body, true, p.text), rect.Max.X-pw, rect.Min.Y, pct)
		lw -= pw + mt.gap
	}
	r.c.drawString(st, rect.Min.X, rect.Min.Y, st.face.ellipsize(pg.Label, lw))
	by := rect.Min.Y + st.lineH + mt.mm(1.5)
	bar := image.Rect(rect.Min.X, by, rect.Max.X, by+r.barH())
	rad := bar.Dy() / 2
	r.c.roundRect(bar, rad, p.track)
	if pg.Fraction >= 0 {
		fw := int(float64(bar.Dx()) * min(pg.Fraction, 1))
		if fw > 0 {
			r.c.roundRect(image.Rect(bar.Min.X, bar.Min.Y, bar.Min.X+max(fw, 2*rad), bar.Max.Y), rad, p.fill)
		}
		return
	}
	// Indeterminate: diagonal stripes over the whole bar, its ends rounded afterwards.
	restore := r.c.withClip(bar)
	sw := max(bar.Dy(), 4)
	for x := bar.Min.X - bar.Dy(); x < bar.Max.X; x += 2 * sw {
		for y := bar.Min.Y; y < bar.Max.Y; y++ {
			dx := y - bar.Min.Y
			r.c.fill(image.Rect(x+dx, y, x+dx+sw, y+1), p.fill)
		}
	}
	r.c.cutCorners(bar, rad, p.bg)
	restore()
}
