package escpos

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Align is a line alignment (ESC a n).
type Align byte

// Alignments, as the n of ESC a n.
const (
	AlignLeft   Align = 0
	AlignCenter Align = 1
	AlignRight  Align = 2
)

func (a Align) String() string {
	switch a {
	case AlignLeft:
		return "left"
	case AlignCenter:
		return "center"
	case AlignRight:
		return "right"
	}
	return fmt.Sprintf("Align(%d)", byte(a))
}

// ECLevel is a QR error-correction level; the wire byte is 0x30 + level.
type ECLevel byte

// QR error-correction levels: about 7, 15, 25 and 30 % of the symbol recoverable.
const (
	ECL ECLevel = 0
	ECM ECLevel = 1
	ECQ ECLevel = 2
	ECH ECLevel = 3
)

// MaxQRData is the most a QR symbol holds (version 40, numeric, level L) and the limit of
// GS ( k fn 80 on Epson printers.
const MaxQRData = 7089

// Errors of the encoder.
var (
	ErrQREmpty    = errors.New("escpos: empty QR data")
	ErrQRTooLong  = errors.New("escpos: QR data longer than 7089 bytes")
	ErrBadECLevel = errors.New("escpos: QR error-correction level not one of ECL, ECM, ECQ, ECH")
	ErrBadImage   = errors.New("escpos: raster image empty or larger than 65535 bytes by 65535 dots")
)

// Command bytes (DEVICES.md 3.1, 3.2).
const (
	esc = 0x1B
	gs  = 0x1D
	fs  = 0x1C
	dle = 0x10
	eot = 0x04
)

// Encoder builds an ESC/POS byte stream. Its methods append and return the encoder so
// calls chain; the zero value is ready to use. An Encoder is not safe for concurrent use.
type Encoder struct {
	buf []byte
	gb  transform.Transformer
}

// Bytes returns the stream built so far. It aliases the encoder's buffer until Reset.
func (e *Encoder) Bytes() []byte { return e.buf }

// Reset empties the stream, keeping the allocated buffer.
func (e *Encoder) Reset() { e.buf = e.buf[:0] }

// Raw appends bytes as they are.
func (e *Encoder) Raw(b ...byte) *Encoder {
	e.buf = append(e.buf, b...)
	return e
}

// Init appends ESC @: the printer clears its print buffer and returns to power-on modes.
func (e *Encoder) Init() *Encoder { return e.Raw(esc, '@') }

// Align appends ESC a n. Printers apply it only at the start of a line.
func (e *Encoder) Align(a Align) *Encoder {
	if a > AlignRight {
		a = AlignLeft
	}
	return e.Raw(esc, 'a', byte(a))
}

// Size appends GS ! n for a character w times as wide and h times as high, each clamped to
// 1..8. The size applies to ASCII and Chinese characters alike.
func (e *Encoder) Size(w, h int) *Encoder {
	w, h = clamp(w, 1, 8), clamp(h, 1, 8)
	return e.Raw(gs, '!', byte((w-1)<<4|(h-1)))
}

// Bold appends ESC E n.
func (e *Encoder) Bold(on bool) *Encoder {
	return e.Raw(esc, 'E', b2b(on))
}

// Feed appends ESC d n: print the buffer and feed n lines (clamped to 0..255).
func (e *Encoder) Feed(n int) *Encoder {
	return e.Raw(esc, 'd', byte(clamp(n, 0, 255)))
}

// Cut appends GS V 'B' 3 (partial) or GS V 'A' 3 (full): the printer feeds to its cutting
// position plus 3 vertical motion units, so the last printed line clears the blade, and
// cuts. A partial cut leaves a hinge so the ticket does not fall from the kiosk slot.
func (e *Encoder) Cut(partial bool) *Encoder {
	m := byte('A')
	if partial {
		m = 'B'
	}
	return e.Raw(gs, 'V', m, 3)
}

// Line appends Text(s) and a line feed, which prints the line.
func (e *Encoder) Line(s string) *Encoder { return e.Text(s).Raw('\n') }

// Text appends s for the printer's fonts. Printable ASCII and '\n' go as they are. Every
// run of non-ASCII characters is sent in Chinese mode, FS & + GB18030 + FS ., as
// escpos-php's textChinese does.
//
// Printer fonts cover GBK (the two-byte part of GB18030) only, so a character the printer
// cannot show becomes a visible '?' rather than raw bytes that would print as garbage or
// be taken for commands: other control characters, characters GB18030 encodes in four
// bytes (CJK Extension B such as U+20000, emoji, most scripts outside GBK), private-use
// characters (GB18030 maps user-defined areas there; printers have no glyphs for them)
// and invalid UTF-8. DisplayWidth counts the same way.
//
// A few characters whose GB18030 code is not in the GBK/GB2312 fonts printers carry are
// spelled in ASCII instead (asciiFallback): € is A2 E3 in GB18030 only (GBK has none, the
// Windows code page puts it at 0x80), so it prints as "EUR".
func (e *Encoder) Text(s string) *Encoder {
	if e.gb == nil {
		e.gb = simplifiedchinese.GB18030.NewEncoder()
	}
	chinese := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if chinese {
				e.buf = append(e.buf, fs, '.')
				chinese = false
			}
			if c == '\n' || (c >= 0x20 && c < 0x7F) {
				e.buf = append(e.buf, c)
			} else {
				e.buf = append(e.buf, '?')
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if a, ok := asciiFallback[r]; ok {
			if chinese {
				e.buf = append(e.buf, fs, '.')
				chinese = false
			}
			e.buf = append(e.buf, a...)
			i += n
			continue
		}
		if !chinese {
			e.buf = append(e.buf, fs, '&')
			chinese = true
		}
		if gb, ok := gbk(e.gb, r); ok {
			e.buf = append(e.buf, gb[0], gb[1])
		} else {
			e.buf = append(e.buf, '?')
		}
		i += n
	}
	if chinese {
		e.buf = append(e.buf, fs, '.')
	}
	return e
}

// asciiFallback spells in ASCII the characters GB18030 gives a two-byte code that GBK
// printer fonts lack (DEVICES.md 3.1: fonts cover GB2312/GBK).
var asciiFallback = map[rune]string{'€': "EUR"}

// gbk returns r's two-byte GB18030 code, or false when r has none or is private use.
func gbk(t transform.Transformer, r rune) ([2]byte, bool) {
	var out [2]byte
	if r == utf8.RuneError || r < 0x80 || (r >= 0xE000 && r <= 0xF8FF) || r > 0xFFFF {
		return out, false
	}
	var src [4]byte
	var dst [4]byte
	n := utf8.EncodeRune(src[:], r)
	nDst, _, err := t.Transform(dst[:], src[:n], true)
	if err != nil || nDst != 2 {
		return out, false
	}
	out[0], out[1] = dst[0], dst[1]
	return out, true
}

var gbPool = sync.Pool{New: func() any { return simplifiedchinese.GB18030.NewEncoder() }}

// QR appends the GS ( k sequence that prints data as a model 2 QR symbol with the given
// module size (clamped to 1..16 dots) and error-correction level: select model (fn 65),
// module size (fn 67), level (fn 69), store (fn 80) and print (fn 81). Data goes as is:
// printers put the bytes in the symbol, so UTF-8 text stays UTF-8.
func (e *Encoder) QR(data string, module int, ec ECLevel) error {
	switch {
	case len(data) == 0:
		return ErrQREmpty
	case len(data) > MaxQRData:
		return fmt.Errorf("%w: %d bytes", ErrQRTooLong, len(data))
	case ec > ECH:
		return fmt.Errorf("%w: %d", ErrBadECLevel, ec)
	}
	module = clamp(module, 1, 16)
	n := len(data) + 3
	e.buf = append(e.buf,
		gs, '(', 'k', 4, 0, 0x31, 0x41, 0x32, 0x00,
		gs, '(', 'k', 3, 0, 0x31, 0x43, byte(module),
		gs, '(', 'k', 3, 0, 0x31, 0x45, 0x30+byte(ec),
		gs, '(', 'k', byte(n), byte(n>>8), 0x31, 0x50, 0x30)
	e.buf = append(e.buf, data...)
	e.buf = append(e.buf, gs, '(', 'k', 3, 0, 0x31, 0x51, 0x30)
	return nil
}

// Raster appends img as GS v 0 with m = 0 (normal size). A pixel prints black when its
// luminance is below half and it is more than half opaque; rows are padded with white to
// whole bytes. Callers scale the image to the paper's dots first.
func (e *Encoder) Raster(img image.Image) error {
	if img == nil {
		return ErrBadImage
	}
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	wb := (w + 7) / 8
	if w <= 0 || h <= 0 || wb > 0xFFFF || h > 0xFFFF {
		return fmt.Errorf("%w: %dx%d", ErrBadImage, w, h)
	}
	e.buf = append(e.buf, gs, 'v', '0', 0, byte(wb), byte(wb>>8), byte(h), byte(h>>8))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for xb := 0; xb < wb; xb++ {
			var b byte
			for bit := 0; bit < 8; bit++ {
				x := r.Min.X + xb*8 + bit
				if x < r.Max.X && dark(img.At(x, y)) {
					b |= 0x80 >> bit
				}
			}
			e.buf = append(e.buf, b)
		}
	}
	return nil
}

func dark(c color.Color) bool {
	r, g, b, a := c.RGBA()
	if a < 0x8000 {
		return false
	}
	// Premultiplied: compare luminance against half the alpha.
	y := (19595*r + 38470*g + 7471*b + 1<<15) >> 16
	return y < a/2
}

// StatusRequest returns DLE EOT n, the real-time status request n (1..4).
func StatusRequest(n byte) []byte { return []byte{dle, eot, n} }

func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}

func b2b(on bool) byte {
	if on {
		return 1
	}
	return 0
}
