package ui

import (
	"image"
	"image/color"
	"strings"
	"unicode"
	"unicode/utf8"
)

// span is one line of wrapped text: s[Start:End], W pixels wide (trailing spaces excluded).
type span struct {
	Start, End int
	W          int
}

// cell is one rune of a paragraph being wrapped.
type cell struct {
	r   rune
	off int // byte offset in the string
	w   int
}

// breakLines wraps s to maxW pixels, measuring runes with adv. It breaks at spaces and
// between ideographs (and between an ideograph and a Latin word), never before closing
// punctuation (，。、）》」；：！？…), never after opening punctuation (（《「), and never inside a
// Latin word unless the word alone is wider than the line. "\n" is a hard break. When a line
// has no allowed break, closing punctuation hangs past maxW.
func breakLines(s string, maxW int, adv func(rune) int) []span {
	cells := make([]cell, 0, len(s))
	for i, r := range s {
		w := 0
		if r != '\n' {
			w = adv(r)
		}
		cells = append(cells, cell{r, i, w})
	}
	var lines []span
	emit := func(a, b int) {
		for b > a && cells[b-1].r == ' ' {
			b--
		}
		w := 0
		for _, c := range cells[a:b] {
			w += c.w
		}
		sp := span{Start: len(s), End: len(s), W: w}
		if a < len(cells) {
			sp.Start = cells[a].off
		}
		if b < len(cells) {
			sp.End = cells[b].off
		}
		if b <= a {
			sp.End = sp.Start
		}
		lines = append(lines, sp)
	}
	start, w, lastBreak := 0, 0, -1
	for j := 0; j < len(cells); j++ {
		c := cells[j]
		if c.r == '\n' {
			emit(start, j)
			start, w, lastBreak = j+1, 0, -1
			continue
		}
		if j > start && canBreak(cells[j-1].r, c.r) {
			lastBreak = j
		}
		if w+c.w > maxW && c.r != ' ' && j > start {
			brk := j // a word wider than the line: split it here
			if lastBreak > start {
				brk = lastBreak
			} else if isClosing(c.r) {
				// No earlier break and a closing mark must not start the next line: let
				// it hang past the margin (悬挂标点) rather than break the rule.
				w += c.w
				continue
			}
			emit(start, brk)
			start = brk
			for start < len(cells) && cells[start].r == ' ' {
				start++
			}
			// Measure the new line again from its start.
			j, w, lastBreak = start-1, 0, -1
			continue
		}
		w += c.w
	}
	if start < len(cells) || len(lines) == 0 || cells[len(cells)-1].r == '\n' {
		emit(start, len(cells))
	}
	return lines
}

// canBreak reports whether a line may end after a and the next begin with b.
func canBreak(a, b rune) bool {
	switch {
	case b == ' ':
		return false // spaces hang at the end of the line; break after them
	case isClosing(b):
		return false
	case isOpening(a):
		return false
	case a == ' ':
		return true
	case a == b && (a == '—' || a == '…' || a == '·'):
		return false // "——" and "……" are one mark
	case isCJK(a) || isCJK(b):
		return true
	}
	return false
}

// isClosing reports punctuation that must not begin a line (GB/T 15834 and common 禁则).
func isClosing(r rune) bool {
	return strings.ContainsRune("，。、）》」』】〕〉；：！？…’”,.;:!?)]}%～〗﹚", r)
}

// isOpening reports punctuation that must not end a line.
func isOpening(r rune) bool {
	return strings.ContainsRune("（《「『【〔〈‘“([{〖﹙", r)
}

// isCJK reports characters between which a line may break: ideographs, kana, hangul and
// full-width forms and symbols.
func isCJK(r rune) bool {
	if r < 0x2E80 {
		return false
	}
	switch {
	case r >= 0x3000 && r <= 0x303F, r >= 0xFF00 && r <= 0xFFEF, r >= 0x2E80 && r <= 0x2FFF,
		r >= 0x3100 && r <= 0x312F:
		return true
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// wrap breaks s to maxW pixels in face fc.
func (fc *face) wrap(s string, maxW int) []span {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return breakLines(s, maxW, func(r rune) int { return fc.glyphLocked(r).adv })
}

// balance returns the narrowest width, down to half of maxW, at which s wraps to no more
// than the n lines it takes at maxW. A title set at it has lines of even length rather
// than a short last line (an orphaned ideograph, a lone word).
func (fc *face) balance(s string, maxW, n int) int {
	if n < 2 {
		return maxW
	}
	lo, hi := maxW/2, maxW
	for lo < hi {
		mid := (lo + hi) / 2
		if len(fc.wrap(s, mid)) <= n {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi
}

// ellipsize shortens s to fit maxW pixels, ending it with "…" when cut.
func (fc *face) ellipsize(s string, maxW int) string {
	if fc.width(s) <= maxW {
		return s
	}
	ell := fc.advance('…')
	w := 0
	for i, r := range s {
		a := fc.advance(r)
		if w+a+ell > maxW {
			return strings.TrimRight(s[:i], " ") + "…"
		}
		w += a
	}
	return s
}

// textStyle is how a run of text is drawn.
type textStyle struct {
	face  *face
	lineH int // line height in pixels (font size times line spacing)
	col   color.RGBA
}

// baseline is the baseline offset of a line inside its line box.
func (st textStyle) baseline() int {
	return (st.lineH-(st.face.ascent+st.face.descent))/2 + st.face.ascent
}

// drawString draws s with its left end at x on the line box whose top is y.
func (c *canvas) drawString(st textStyle, x, y int, s string) {
	fc := st.face
	by := y + st.baseline()
	// Quick reject when the line box is outside the clip.
	if y >= c.clip.Max.Y || y+st.lineH <= c.clip.Min.Y || x >= c.clip.Max.X {
		return
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for _, r := range s {
		g := fc.glyphLocked(r)
		if g.mask != nil {
			c.blendMask(g.mask, g.rect.Dx(), g.rect.Add(image.Pt(x, by)), st.col)
		}
		x += g.adv
		if x >= c.clip.Max.X {
			return
		}
	}
}

// drawLines draws wrapped lines from top y inside [x0, x0+w), aligned; it returns the height.
func (c *canvas) drawLines(st textStyle, x0, y, w int, s string, lines []span, align Align) int {
	for i, ln := range lines {
		x := x0
		if align == AlignCenter {
			x = x0 + (w-ln.W)/2
		}
		c.drawString(st, x, y+i*st.lineH, s[ln.Start:ln.End])
	}
	return len(lines) * st.lineH
}

// paragraph wraps and draws s, at most maxLines lines (0: all; the last line kept gets an
// ellipsis when text is cut), and returns the height used and whether the text was cut.
func (c *canvas) paragraph(st textStyle, r image.Rectangle, s string, align Align, maxLines int) (int, bool) {
	lines := st.face.wrap(s, r.Dx())
	if maxLines > 0 && len(lines) > maxLines {
		last := lines[maxLines-1]
		rest := st.face.ellipsize(strings.ReplaceAll(s[last.Start:], "\n", " ")+"…", r.Dx())
		lines = lines[:maxLines-1]
		h := c.drawLines(st, r.Min.X, r.Min.Y, r.Dx(), s, lines, align)
		x := r.Min.X
		if align == AlignCenter {
			x += (r.Dx() - st.face.width(rest)) / 2
		}
		c.drawString(st, x, r.Min.Y+h, rest)
		return h + st.lineH, true
	}
	return c.drawLines(st, r.Min.X, r.Min.Y, r.Dx(), s, lines, align), false
}

// paragraphHeight is the height paragraph would use.
func paragraphHeight(st textStyle, w int, s string, maxLines int) int {
	n := len(st.face.wrap(s, w))
	if maxLines > 0 && n > maxLines {
		n = maxLines
	}
	return n * st.lineH
}

// runeCount is a small helper for display counters.
func runeCount(s string) int { return utf8.RuneCountInString(s) }
