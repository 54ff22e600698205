package escpossim

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
)

// RenderText returns the ticket as UTF-8 text, one line per printed line. A line whose
// style is not the default is marked with its alignment (L, C, R), size and bold, e.g.
// "[C 4x4 B] A023"; a QR symbol is "[QR] content" (quoted when it holds line breaks), an
// image "[IMG WxH]", a feed of n lines n empty lines. Skipped commands follow, one
// "[SKIP] hex" a line.
func RenderText(t *Ticket) []byte {
	var b bytes.Buffer
	if t == nil {
		return nil
	}
	for _, it := range t.Items {
		switch it.Kind {
		case KindText:
			if m := mark(it); m != "" && it.Text != "" {
				b.WriteString(m + " ")
			}
			b.WriteString(it.Text)
			b.WriteByte('\n')
		case KindQR:
			q := it.QR
			if strings.ContainsAny(q, "\r\n") {
				q = strconv.Quote(q)
			}
			fmt.Fprintf(&b, "[QR] %s\n", q)
		case KindRaster:
			r := it.Raster.Bounds()
			fmt.Fprintf(&b, "[IMG %dx%d]\n", r.Dx()*it.W, r.Dy()*it.H)
		case KindFeed:
			for range min(it.Lines, 255) {
				b.WriteByte('\n')
			}
		}
	}
	for _, u := range t.Unknown {
		fmt.Fprintf(&b, "[SKIP] %s\n", u)
	}
	return b.Bytes()
}

func mark(it Item) string {
	var f []string
	switch it.Align {
	case escpos.AlignCenter:
		f = append(f, "C")
	case escpos.AlignRight:
		f = append(f, "R")
	}
	if it.W != 1 || it.H != 1 {
		if len(f) == 0 {
			f = append(f, "L")
		}
		f = append(f, fmt.Sprintf("%dx%d", it.W, it.H))
	}
	if it.Bold {
		if len(f) == 0 {
			f = append(f, "L")
		}
		f = append(f, "B")
	}
	if len(f) == 0 {
		return ""
	}
	return "[" + strings.Join(f, " ") + "]"
}

// Renderer draws tickets as images.
type Renderer struct {
	FontPath  string // OpenType font or collection; missing: basicfont, '?' for non-ASCII
	FontIndex int    // font in a collection
}

// DefaultFont is Noto Sans CJK SC from Debian's fonts-noto-cjk.
const DefaultFont = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

// DefaultRenderer uses Noto Sans CJK SC (collection index 2).
var DefaultRenderer = Renderer{FontPath: DefaultFont, FontIndex: 2}

// RenderPNG draws the ticket with DefaultRenderer.
func RenderPNG(t *Ticket, dots int) ([]byte, error) { return DefaultRenderer.PNG(t, dots) }

// Geometry of a 203 dpi printer: font A is 12x24 dots, the default line 30 dots.
const (
	cellH    = 24
	lineH    = 30
	minQRPx  = 4 // smaller modules are hard for zbar to read from a PNG
	maxImgPx = 1 << 15
)

// PNG draws the ticket on a white strip dots wide: text at its size and alignment, QR
// symbols re-encoded from their content (level M) with modules of at least 4 pixels,
// images as sent. Content past 32768 pixels of height is cut off.
func (r Renderer) PNG(t *Ticket, dots int) ([]byte, error) {
	if dots <= 0 || dots > maxImgPx {
		return nil, fmt.Errorf("escpossim: bad paper width %d dots", dots)
	}
	if t == nil {
		t = &Ticket{}
	}
	face, ascii := r.face()
	type block struct {
		img   image.Image // 1x drawing
		w, h  int         // scale
		align escpos.Align
		lines int // feed
	}
	var blocks []block
	height := 0
	for _, it := range t.Items {
		var bl block
		switch it.Kind {
		case KindText:
			bl = block{img: drawLine(face, ascii, it.Text, it.Bold), w: it.W, h: it.H, align: it.Align}
		case KindQR:
			q, err := qrcode.New(it.QR, qrcode.Medium)
			if err != nil {
				bl = block{img: drawLine(face, ascii, "[QR "+err.Error()+"]", false), w: 1, h: 1}
				break
			}
			bm := q.Bitmap()
			px := max(it.QRModule, minQRPx)
			if len(bm)*px > dots {
				px = max(1, dots/len(bm))
			}
			bl = block{img: qrImage(bm), w: px, h: px, align: it.Align}
		case KindRaster:
			bl = block{img: it.Raster, w: it.W, h: it.H, align: it.Align}
		case KindFeed:
			bl = block{lines: it.Lines}
		default:
			continue
		}
		bl.w, bl.h = max(bl.w, 1), max(bl.h, 1)
		if bl.img != nil {
			height += bl.img.Bounds().Dy() * bl.h
		} else {
			height += bl.lines * lineH
		}
		blocks = append(blocks, bl)
		if height > maxImgPx {
			height = maxImgPx
			break
		}
	}
	height = max(height, 1)
	canvas := image.NewGray(image.Rect(0, 0, dots, height))
	draw.Draw(canvas, canvas.Bounds(), image.White, image.Point{}, draw.Src)
	y := 0
	for _, bl := range blocks {
		if bl.img == nil {
			y += bl.lines * lineH
			continue
		}
		b := bl.img.Bounds()
		w := b.Dx() * bl.w
		x := 0
		switch bl.align {
		case escpos.AlignCenter:
			x = max(0, (dots-w)/2)
		case escpos.AlignRight:
			x = max(0, dots-w)
		}
		blit(canvas, bl.img, x, y, bl.w, bl.h)
		y += b.Dy() * bl.h
		if y >= height {
			break
		}
	}
	var out bytes.Buffer
	if err := png.Encode(&out, canvas); err != nil {
		return nil, fmt.Errorf("escpossim: encoding PNG: %w", err)
	}
	return out.Bytes(), nil
}

// blit copies src scaled by sx, sy to dst at x, y, black pixels only.
func blit(dst *image.Gray, src image.Image, x0, y0, sx, sy int) {
	b := src.Bounds()
	db := dst.Bounds()
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			if gray(src.At(b.Min.X+x, b.Min.Y+y)) >= 128 {
				continue
			}
			for dy := 0; dy < sy; dy++ {
				py := y0 + y*sy + dy
				if py >= db.Max.Y {
					return
				}
				for dx := 0; dx < sx; dx++ {
					px := x0 + x*sx + dx
					if px < db.Max.X {
						dst.Pix[py*dst.Stride+px] = 0
					}
				}
			}
		}
	}
}

func gray(c color.Color) uint8 {
	return color.GrayModel.Convert(c).(color.Gray).Y
}

func qrImage(bm [][]bool) image.Image {
	n := len(bm)
	img := image.NewGray(image.Rect(0, 0, n, n))
	for y, row := range bm {
		for x, on := range row {
			if on {
				img.Pix[y*img.Stride+x] = 0
			} else {
				img.Pix[y*img.Stride+x] = 0xFF
			}
		}
	}
	return img
}

// drawLine draws one line of text at 1x: a cell 24 dots high on a 30-dot line.
func drawLine(face font.Face, ascii bool, s string, bold bool) image.Image {
	if ascii {
		s = strings.Map(func(r rune) rune {
			if r >= 0x20 && r < 0x7F {
				return r
			}
			return '?'
		}, s)
	}
	w := max(font.MeasureString(face, s).Ceil(), 1) + 1
	img := image.NewGray(image.Rect(0, 0, w, lineH))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	m := face.Metrics()
	base := (lineH-cellH)/2 + (cellH+m.Ascent.Ceil()-m.Descent.Ceil())/2
	dr := &font.Drawer{Dst: img, Src: image.Black, Face: face, Dot: fixed.P(0, base)}
	dr.DrawString(s)
	if bold {
		dr.Dot = fixed.P(1, base)
		dr.DrawString(s)
	}
	return img
}

var (
	fontMu    sync.Mutex
	fontCache = map[string]*opentype.Font{}
)

// face returns a 24-pixel face of the renderer's font, or basicfont (ascii true) when the
// font cannot be loaded.
func (r Renderer) face() (font.Face, bool) {
	key := fmt.Sprintf("%s#%d", r.FontPath, r.FontIndex)
	fontMu.Lock()
	f, ok := fontCache[key]
	if !ok {
		f = loadFont(r.FontPath, r.FontIndex)
		fontCache[key] = f
	}
	fontMu.Unlock()
	if f != nil {
		face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: cellH, DPI: 72, Hinting: font.HintingFull})
		if err == nil {
			return face, false
		}
	}
	return basicfont.Face7x13, true
}

func loadFont(path string, index int) *opentype.Font {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	if c, err := opentype.ParseCollection(data); err == nil {
		if index < 0 || index >= c.NumFonts() {
			index = 0
		}
		f, err := c.Font(index)
		if err != nil {
			return nil
		}
		return f
	}
	f, err := opentype.Parse(data)
	if err != nil {
		return nil
	}
	return f
}
