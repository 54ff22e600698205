package ui

import (
	"image"
	"image/color"

	qrcode "github.com/skip2/go-qrcode"
)

// qrCache keeps the last encoded QR code: a screen shows one, and encoding it again on every
// repaint would cost more than drawing it.
type qrCache struct {
	content string
	bits    [][]bool // with the 4-module quiet zone; nil when the content cannot be encoded
	valid   bool
}

func (q *qrCache) get(content string) [][]bool {
	if q.valid && q.content == content {
		return q.bits
	}
	q.content, q.valid, q.bits = content, true, nil
	if c, err := qrcode.New(content, qrcode.Medium); err == nil {
		q.bits = c.Bitmap()
	}
	return q.bits
}

// qrScale returns the module size in pixels (the whole number nearest to SizeMM, default
// 35 mm, over the modules, or less while the body is short of room) and the side of the
// drawn code, quiet zone included.
func (r *Renderer) qrScale(v QR) (scale, side int) {
	mm := v.SizeMM
	if mm <= 0 {
		mm = 35
	}
	want := r.m.mm(mm)
	bits := r.qr.get(v.Content)
	if bits == nil {
		return 0, want
	}
	n := len(bits)
	scale = (want + n/2) / n
	if r.qrLimit > 0 { // the body is short of room (see shrinkQR)
		scale = min(scale, r.qrLimit/n)
	}
	scale = max(scale, 1)
	return scale, scale * n
}

// qrSide is the side of the square a QR widget reserves.
func (r *Renderer) qrSide(v QR) int {
	_, side := r.qrScale(v)
	return side
}

var (
	qrBlack = color.RGBA{0, 0, 0, 255}
	qrWhite = color.RGBA{255, 255, 255, 255}
)

// qrCode draws the code with whole-pixel modules, black on white in every palette (phone
// scanners expect dark modules on a light ground), centred, with its caption below.
func (r *Renderer) qrCode(v QR, rect image.Rectangle) {
	mt, p := r.m, r.p
	scale, side := r.qrScale(v)
	x0 := rect.Min.X + (rect.Dx()-side)/2
	area := image.Rect(x0, rect.Min.Y, x0+side, rect.Min.Y+side)
	bits := r.qr.get(v.Content)
	if bits == nil {
		r.c.box(area, mt.rad, p.surface, p.border, mt.bw)
		ic := side / 3
		r.drawIcon(iconError, image.Pt(area.Min.X+(side-ic)/2, area.Min.Y+(side-ic)/2), ic, p.noticeFg[NoticeError], p.surface)
	} else {
		o := area.Min
		r.c.fill(area, qrWhite)
		for y, row := range bits {
			for x := 0; x < len(row); {
				if !row[x] {
					x++
					continue
				}
				e := x
				for e < len(row) && row[e] {
					e++
				}
				r.c.fill(image.Rect(o.X+x*scale, o.Y+y*scale, o.X+e*scale, o.Y+(y+1)*scale), qrBlack)
				x = e
			}
		}
	}
	if v.Caption != "" {
		st := r.style(mt.body, false, p.text)
		r.c.paragraph(st, image.Rect(rect.Min.X, area.Max.Y+mt.mm(2), rect.Max.X, rect.Max.Y), v.Caption, AlignCenter, 0)
	}
}
