package ui

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/vector"
)

// iconKind is a drawn symbol; icons carry meaning next to colour (DOMAIN.md: colour is never
// the only signal), so each kind has its own shape.
type iconKind int

const (
	iconInfo      iconKind = iota // circle with "i"
	iconSuccess                   // circle with a tick
	iconWarning                   // triangle with "!"
	iconError                     // circle with a cross
	iconBlocked                   // ring with a slash: offline, unavailable
	iconBackspace                 // key cap pointing left with a cross
	iconDot                       // a filled dot: a masked character
)

// icon is a symbol as two masks: the shape and the mark cut into it.
type icon struct{ shape, mark *image.Alpha }

type iconKey struct {
	kind iconKind
	size int
}

// shape builds a mask of size s x s from closed paths in unit coordinates (0..1).
type shape struct {
	z vector.Rasterizer
	s float32
}

func newShape(s int) *shape {
	sh := &shape{s: float32(s)}
	sh.z.Reset(s, s)
	return sh
}

func (sh *shape) poly(pts ...float32) {
	sh.z.MoveTo(pts[0]*sh.s, pts[1]*sh.s)
	for i := 2; i+1 < len(pts); i += 2 {
		sh.z.LineTo(pts[i]*sh.s, pts[i+1]*sh.s)
	}
	sh.z.ClosePath()
}

// circle adds a circle; reverse winds it the other way, to cut a hole.
func (sh *shape) circle(cx, cy, r float32, reverse bool) {
	const k = 0.5523
	cx, cy, r = cx*sh.s, cy*sh.s, r*sh.s
	kr := k * r
	z := &sh.z
	if !reverse {
		z.MoveTo(cx+r, cy)
		z.CubeTo(cx+r, cy+kr, cx+kr, cy+r, cx, cy+r)
		z.CubeTo(cx-kr, cy+r, cx-r, cy+kr, cx-r, cy)
		z.CubeTo(cx-r, cy-kr, cx-kr, cy-r, cx, cy-r)
		z.CubeTo(cx+kr, cy-r, cx+r, cy-kr, cx+r, cy)
	} else {
		z.MoveTo(cx+r, cy)
		z.CubeTo(cx+r, cy-kr, cx+kr, cy-r, cx, cy-r)
		z.CubeTo(cx-kr, cy-r, cx-r, cy-kr, cx-r, cy)
		z.CubeTo(cx-r, cy+kr, cx-kr, cy+r, cx, cy+r)
		z.CubeTo(cx+kr, cy+r, cx+r, cy+kr, cx+r, cy)
	}
	z.ClosePath()
}

// stroke adds a thick segment from (x0, y0) to (x1, y1) with square caps of half-width w/2.
func (sh *shape) stroke(x0, y0, x1, y1, w float32) {
	dx, dy := x1-x0, y1-y0
	l := float32(math.Hypot(float64(dx), float64(dy)))
	nx, ny := -dy/l*w/2, dx/l*w/2
	ex, ey := dx/l*w/2, dy/l*w/2 // extend the ends so joints close
	x0, y0, x1, y1 = x0-ex, y0-ey, x1+ex, y1+ey
	// Wound like circle's outer path, so strokes and discs add up instead of cancelling.
	sh.poly(x0-nx, y0-ny, x1-nx, y1-ny, x1+nx, y1+ny, x0+nx, y0+ny)
}

func (sh *shape) mask() *image.Alpha {
	n := int(sh.s)
	a := image.NewAlpha(image.Rect(0, 0, n, n))
	sh.z.Draw(a, a.Bounds(), image.Opaque, image.Point{})
	return a
}

// makeIcon draws kind at size pixels.
func makeIcon(kind iconKind, size int) icon {
	sh, mk := newShape(size), newShape(size)
	switch kind {
	case iconInfo:
		sh.circle(0.5, 0.5, 0.48, false)
		mk.circle(0.5, 0.27, 0.075, false)
		mk.poly(0.43, 0.41, 0.57, 0.41, 0.57, 0.78, 0.43, 0.78)
	case iconSuccess:
		sh.circle(0.5, 0.5, 0.48, false)
		mk.stroke(0.27, 0.52, 0.43, 0.68, 0.12)
		mk.stroke(0.43, 0.68, 0.74, 0.34, 0.12)
	case iconWarning:
		sh.poly(0.5, 0.04, 0.98, 0.92, 0.02, 0.92)
		mk.poly(0.44, 0.34, 0.56, 0.34, 0.545, 0.66, 0.455, 0.66)
		mk.circle(0.5, 0.78, 0.065, false)
	case iconError:
		sh.circle(0.5, 0.5, 0.48, false)
		mk.stroke(0.32, 0.32, 0.68, 0.68, 0.12)
		mk.stroke(0.68, 0.32, 0.32, 0.68, 0.12)
	case iconBlocked:
		sh.circle(0.5, 0.5, 0.48, false)
		sh.circle(0.5, 0.5, 0.34, true)
		sh.stroke(0.27, 0.27, 0.73, 0.73, 0.14)
	case iconBackspace:
		sh.poly(0.02, 0.5, 0.3, 0.18, 0.98, 0.18, 0.98, 0.82, 0.3, 0.82)
		mk.stroke(0.48, 0.36, 0.76, 0.64, 0.09)
		mk.stroke(0.76, 0.36, 0.48, 0.64, 0.09)
	case iconDot:
		sh.circle(0.5, 0.5, 0.4, false)
	}
	ic := icon{shape: sh.mask()}
	if kind != iconBlocked && kind != iconDot {
		ic.mark = mk.mask()
	}
	return ic
}

// drawIcon draws kind at size pixels with its top-left at p: the shape in fg, the mark in bg.
func (r *Renderer) drawIcon(kind iconKind, p image.Point, size int, fg, bg color.RGBA) {
	k := iconKey{kind, size}
	ic, ok := r.icons[k]
	if !ok {
		ic = makeIcon(kind, size)
		r.icons[k] = ic
	}
	r.c.blendAlpha(ic.shape, p, fg)
	r.c.blendAlpha(ic.mark, p, bg)
}
