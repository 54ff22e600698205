package ui

import (
	"image"
	"image/color"
	"math"
)

// canvas is the frame being drawn with the clip rectangle every primitive respects.
type canvas struct {
	dst  *image.RGBA
	clip image.Rectangle
	// corners caches anti-aliased quarter-circle masks by radius.
	corners map[int][]uint8
}

// withClip returns the clip intersected with r and a function restoring the old clip.
func (c *canvas) withClip(r image.Rectangle) func() {
	old := c.clip
	c.clip = c.clip.Intersect(r)
	return func() { c.clip = old }
}

// blend255 is (a*x + b*(255-x)) / 255, rounded.
func blend255(src, dst, a uint32) uint8 {
	v := src*a + dst*(255-a) + 128
	return uint8((v + v>>8) >> 8)
}

// fill paints r with col (alpha-blended when col is translucent).
func (c *canvas) fill(r image.Rectangle, col color.RGBA) {
	r = r.Intersect(c.clip)
	if r.Empty() {
		return
	}
	d := c.dst
	w := r.Dx() * 4
	if col.A == 255 {
		row := d.Pix[d.PixOffset(r.Min.X, r.Min.Y):][:w]
		for i := 0; i < w; i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = col.R, col.G, col.B, 255
		}
		for y := r.Min.Y + 1; y < r.Max.Y; y++ {
			copy(d.Pix[d.PixOffset(r.Min.X, y):][:w], row)
		}
		return
	}
	a := uint32(col.A)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		p := d.Pix[d.PixOffset(r.Min.X, y):][:w]
		for i := 0; i < w; i += 4 {
			p[i] = blend255(uint32(col.R), uint32(p[i]), a)
			p[i+1] = blend255(uint32(col.G), uint32(p[i+1]), a)
			p[i+2] = blend255(uint32(col.B), uint32(p[i+2]), a)
			p[i+3] = 255
		}
	}
}

// blendMask paints col through an alpha mask whose rows are stride bytes; the mask's origin
// lands on r.Min.
func (c *canvas) blendMask(mask []uint8, stride int, r image.Rectangle, col color.RGBA) {
	ir := r.Intersect(c.clip)
	if ir.Empty() {
		return
	}
	d := c.dst
	ca := uint32(col.A)
	for y := ir.Min.Y; y < ir.Max.Y; y++ {
		m := mask[(y-r.Min.Y)*stride+(ir.Min.X-r.Min.X):][:ir.Dx()]
		p := d.Pix[d.PixOffset(ir.Min.X, y):][:4*ir.Dx()]
		for i, a := range m {
			if a == 0 {
				continue
			}
			j := 4 * i
			if a == 255 && ca == 255 {
				p[j], p[j+1], p[j+2], p[j+3] = col.R, col.G, col.B, 255
				continue
			}
			aa := uint32(a)
			if ca != 255 {
				aa = aa * ca / 255
			}
			p[j] = blend255(uint32(col.R), uint32(p[j]), aa)
			p[j+1] = blend255(uint32(col.G), uint32(p[j+1]), aa)
			p[j+2] = blend255(uint32(col.B), uint32(p[j+2]), aa)
			p[j+3] = 255
		}
	}
}

// blendAlpha paints col through a with a's origin at p.
func (c *canvas) blendAlpha(a *image.Alpha, p image.Point, col color.RGBA) {
	if a == nil {
		return
	}
	c.blendMask(a.Pix, a.Stride, a.Rect.Sub(a.Rect.Min).Add(p), col)
}

// corner returns the coverage of a top-left quarter circle of radius rad (rad*rad bytes),
// sampled 4x4 per pixel.
func (c *canvas) corner(rad int) []uint8 {
	if m := c.corners[rad]; m != nil {
		return m
	}
	m := make([]uint8, rad*rad)
	fr := float64(rad)
	for y := 0; y < rad; y++ {
		for x := 0; x < rad; x++ {
			n := 0
			for sy := 0; sy < 4; sy++ {
				for sx := 0; sx < 4; sx++ {
					dx := fr - (float64(x) + (float64(sx)+0.5)/4)
					dy := fr - (float64(y) + (float64(sy)+0.5)/4)
					if dx*dx+dy*dy <= fr*fr {
						n++
					}
				}
			}
			m[y*rad+x] = uint8(n * 255 / 16)
		}
	}
	if c.corners == nil {
		c.corners = map[int][]uint8{}
	}
	c.corners[rad] = m
	return m
}

// blendCorners blends col at coverage a (0-255) into the pixel at (x, y) from each of r's
// four corners, mirrored.
func (c *canvas) blendCorners(r image.Rectangle, x, y int, col color.RGBA, a uint32) {
	for _, p := range [4]image.Point{
		{r.Min.X + x, r.Min.Y + y}, {r.Max.X - 1 - x, r.Min.Y + y},
		{r.Min.X + x, r.Max.Y - 1 - y}, {r.Max.X - 1 - x, r.Max.Y - 1 - y},
	} {
		if !p.In(c.clip) {
			continue
		}
		o := c.dst.PixOffset(p.X, p.Y)
		px := c.dst.Pix[o : o+4]
		px[0] = blend255(uint32(col.R), uint32(px[0]), a)
		px[1] = blend255(uint32(col.G), uint32(px[1]), a)
		px[2] = blend255(uint32(col.B), uint32(px[2]), a)
		px[3] = 255
	}
}

// roundRect fills r with rounded corners of radius rad.
func (c *canvas) roundRect(r image.Rectangle, rad int, col color.RGBA) {
	rad = min(rad, r.Dx()/2, r.Dy()/2)
	if rad <= 0 {
		c.fill(r, col)
		return
	}
	c.fill(image.Rect(r.Min.X, r.Min.Y+rad, r.Max.X, r.Max.Y-rad), col)
	c.fill(image.Rect(r.Min.X+rad, r.Min.Y, r.Max.X-rad, r.Min.Y+rad), col)
	c.fill(image.Rect(r.Min.X+rad, r.Max.Y-rad, r.Max.X-rad, r.Max.Y), col)
	m := c.corner(rad)
	ca := uint32(col.A)
	for y := 0; y < rad; y++ {
		for x := 0; x < rad; x++ {
			a := uint32(m[y*rad+x])
			if a == 0 {
				continue
			}
			c.blendCorners(r, x, y, col, a*ca/255)
		}
	}
}

// cutCorners rounds the corners of what was drawn in r by painting bg over the parts of the
// corner squares outside radius rad.
func (c *canvas) cutCorners(r image.Rectangle, rad int, bg color.RGBA) {
	rad = min(rad, r.Dx()/2, r.Dy()/2)
	if rad <= 0 {
		return
	}
	m := c.corner(rad)
	for y := 0; y < rad; y++ {
		for x := 0; x < rad; x++ {
			a := 255 - uint32(m[y*rad+x])
			if a == 0 {
				continue
			}
			c.blendCorners(r, x, y, bg, a)
		}
	}
}

// box draws a rounded rectangle with a border of bw pixels (none when bw is 0).
func (c *canvas) box(r image.Rectangle, rad int, fill, border color.RGBA, bw int) {
	if bw <= 0 {
		c.roundRect(r, rad, fill)
		return
	}
	c.roundRect(r, rad, border)
	c.roundRect(r.Inset(bw), max(rad-bw, 0), fill)
}

// hline draws a horizontal rule of thickness t.
func (c *canvas) hline(x0, x1, y, t int, col color.RGBA) {
	c.fill(image.Rect(x0, y, x1, y+t), col)
}

// luminance is the WCAG relative luminance of col.
func luminance(col color.RGBA) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(col.R) + 0.7152*lin(col.G) + 0.0722*lin(col.B)
}

// contrast is the WCAG contrast ratio of two colours (1 to 21).
func contrast(a, b color.RGBA) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}
