package escpos

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/skip2/go-qrcode"
	"golang.org/x/text/transform"
)

// Paper is a roll width in millimetres.
type Paper int

// Paper widths of queue-ticket printers.
const (
	Paper58 Paper = 58 // 48 mm printable: 384 dots, 32 columns of font A
	Paper80 Paper = 80 // 72 mm printable: 576 dots, 48 columns of font A
)

// Columns is the number of font A (12x24 dots) characters in a line; a Chinese character
// takes two. 0 for an unknown paper.
func (p Paper) Columns() int { return p.Dots() / 12 }

// Dots is the printable width at 203 dpi. 0 for an unknown paper.
func (p Paper) Dots() int {
	switch p {
	case Paper58:
		return 384
	case Paper80:
		return 576
	}
	return 0
}

func (p Paper) String() string { return fmt.Sprintf("%dmm", int(p)) }

// Ticket is the content of a queue ticket.
type Ticket struct {
	HallName      string
	CategoryName  string
	Number        string // e.g. "A023"
	Ahead         int    // people waiting before this number
	EstimatedWait time.Duration
	IssuedAt      time.Time // printed in its own location; zero: not printed
	QR            string    // QR content; empty: no QR
	MaskedName    string    // only when the ticket was taken with an ID card, e.g. "张*"
	Footer        string
	Logo          image.Image // printed centred, scaled down to the printable width (Layout.Dots) if wider
	Lang          string      // "zh" (default) or "en"
}

// Errors of EncodeTicket.
var (
	ErrNoNumber     = errors.New("escpos: ticket has no number")
	ErrUnknownPaper = errors.New("escpos: unknown paper width")
	ErrUnknownLang  = errors.New("escpos: unknown ticket language")
	// ErrQRTooWide: the ticket's QR code does not fit the printable width even at the
	// smallest module size that still scans (minQRModule).
	ErrQRTooWide = errors.New("escpos: QR code too wide for the printer")
)

type labels struct {
	ahead  func(n int) string
	wait   func(min int) string
	issued string
	name   string
}

var ticketLabels = map[string]labels{
	"zh": {
		ahead:  func(n int) string { return fmt.Sprintf("前面还有 %d 人", n) },
		wait:   func(m int) string { return fmt.Sprintf("预计等待约 %d 分钟", m) },
		issued: "取号时间 ",
		name:   "取号人 ",
	},
	"en": {
		ahead: func(n int) string {
			if n == 1 {
				return "1 person ahead"
			}
			return fmt.Sprintf("%d people ahead", n)
		},
		wait:   func(m int) string { return fmt.Sprintf("Estimated wait about %d min", m) },
		issued: "Issued ",
		name:   "Name ",
	},
}

// EncodeTicket lays a ticket out for the paper and returns the job: initialise, logo, hall
// name (centred, bold, double height), category, the number as large as fits (up to 4x4),
// people ahead and estimated wait (rounded up to whole minutes; left out when zero),
// issue time, QR, masked name, footer, then a partial cut. Text is wrapped to the paper's
// columns; the number is cut off if it is wider than the paper at 1x1.
//
// Images are fitted to the printable width, Layout.Dots: the logo is scaled down, and the
// QR module shrinks from 6 dots (58 mm) or 8 (80 mm) until the symbol and its quiet zone
// fit; a QR code that would need modules under 3 dots is refused with ErrQRTooWide.
func EncodeTicket(t Ticket, paper Paper) ([]byte, error) {
	return EncodeTicketFor(t, Layout{Paper: paper})
}

// Layout is what a printer model's profile says about laying out a ticket.
type Layout struct {
	Paper Paper
	// Columns of font A; 0 means the paper's default (32 or 48). Epson's 512-dot heads
	// print 42 on 80 mm paper.
	Columns int
	// Cutter: "partial" (default), "full", or "none" (tear bar: the ticket ends with a feed).
	Cutter string
	// RasterQR draws the QR code as a raster image, for printers without GS ( k.
	RasterQR bool
}

// fontADots is the width of a font A character in dots (12x24).
const fontADots = 12

// Cols is the number of font A columns on a line: Columns, or the paper's default when 0,
// and never more than the paper prints (Paper.Columns). 0 for an unknown paper.
func (l Layout) Cols() int {
	cols := l.Paper.Columns()
	if l.Columns > 0 {
		cols = min(l.Columns, cols)
	}
	return cols
}

// Dots is the printable width in dots: the line's columns of font A, 12 dots each, which
// is never more than the paper's dots. A 512-dot Epson head set to 42 columns prints 504,
// not the 576 of 80 mm paper, so images laid out for the paper would be clipped.
func (l Layout) Dots() int { return l.Cols() * fontADots }

// ModelLayout is the layout of a printer model as its firmware profile describes it
// (paper_mm, columns, cutter, native_qr).
func ModelLayout(paperMM, columns int, cutter string, nativeQR bool) Layout {
	paper := Paper80
	if paperMM == 58 {
		paper = Paper58
	}
	return Layout{Paper: paper, Columns: columns, Cutter: cutter, RasterQR: !nativeQR}
}

// EncodeTicketFor lays a ticket out for a printer model.
func EncodeTicketFor(t Ticket, l Layout) ([]byte, error) {
	var e Encoder
	if err := e.TicketFor(t, l); err != nil {
		return nil, err
	}
	return e.Bytes(), nil
}

// Ticket appends a ticket as EncodeTicket lays it out. On error nothing is appended.
func (e *Encoder) Ticket(t Ticket, paper Paper) error { return e.TicketFor(t, Layout{Paper: paper}) }

// TicketFor appends a ticket laid out for a printer model. On error nothing is appended.
func (e *Encoder) TicketFor(t Ticket, l Layout) error {
	paper := l.Paper
	cols, dots := l.Cols(), l.Dots()
	if cols == 0 {
		return fmt.Errorf("%w: %d", ErrUnknownPaper, int(paper))
	}
	lang := t.Lang
	if lang == "" {
		lang = "zh"
	}
	lb, ok := ticketLabels[lang]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownLang, t.Lang)
	}
	if strings.TrimSpace(t.Number) == "" {
		return ErrNoNumber
	}
	start := len(e.buf)
	fail := func(err error) error {
		e.buf = e.buf[:start]
		return err
	}

	e.Init().Align(AlignCenter)
	if t.Logo != nil {
		if err := e.Raster(fitWidth(t.Logo, dots)); err != nil {
			return fail(fmt.Errorf("escpos: ticket logo: %w", err))
		}
	}
	if t.HallName != "" {
		e.Bold(true).Size(1, 2)
		e.lines(t.HallName, cols)
		e.Size(1, 1).Bold(false)
	}
	if t.CategoryName != "" {
		e.lines(t.CategoryName, cols)
	}
	e.Feed(1)
	num := strings.TrimSpace(t.Number)
	w := DisplayWidth(num)
	s := 4
	for s > 1 && w*s > cols {
		s--
	}
	e.Bold(true).Size(s, s).Line(Truncate(num, cols)).Size(1, 1).Bold(false)
	e.Feed(1)
	e.lines(lb.ahead(max(t.Ahead, 0)), cols)
	if t.EstimatedWait > 0 {
		m := int((t.EstimatedWait + time.Minute - 1) / time.Minute)
		e.lines(lb.wait(m), cols)
	}
	if !t.IssuedAt.IsZero() {
		e.lines(lb.issued+t.IssuedAt.Format("2006-01-02 15:04"), cols)
	}
	if t.QR != "" {
		module := 6
		if paper == Paper80 {
			module = 8
		}
		bm, module, err := fitQR(t.QR, module, dots)
		if err != nil {
			return fail(fmt.Errorf("escpos: ticket QR: %w", err))
		}
		if l.RasterQR {
			if err := e.Raster(qrImage(bm, module)); err != nil {
				return fail(fmt.Errorf("escpos: ticket QR: %w", err))
			}
		} else {
			if err := e.QR(t.QR, module, ECM); err != nil {
				return fail(fmt.Errorf("escpos: ticket QR: %w", err))
			}
			e.Raw('\n')
		}
	}
	if t.MaskedName != "" {
		e.lines(lb.name+t.MaskedName, cols)
	}
	if t.Footer != "" {
		e.lines(t.Footer, cols)
	}
	switch l.Cutter {
	case "none":
		e.Feed(5) // past the tear bar
	case "full":
		e.Feed(2).Cut(false)
	default:
		e.Feed(2).Cut(true)
	}
	return nil
}

// minQRModule is the smallest QR module, in dots, a ticket prints: 3 dots is 0.375 mm at
// 203 dpi, the default module of Epson's GS ( k and of python-escpos; thinner modules on
// thermal paper are hard for phone cameras (a judgment, not a measured limit).
const minQRModule = 3

// qrQuietZone is the white border around a QR symbol, in modules, on each side.
const qrQuietZone = 4

// fitQR encodes content as a QR symbol (level M, no border) and returns it with the
// module size, at most want dots, at which the symbol and its quiet zone fit dots; or
// ErrQRTooWide. The printer's own encoder (GS ( k) is assumed to pick the same symbol
// version as go-qrcode, the smallest that holds the data [U].
func fitQR(content string, want, dots int) ([][]bool, int, error) {
	if len(content) > MaxQRData {
		return nil, 0, fmt.Errorf("%w: %d bytes", ErrQRTooLong, len(content))
	}
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %d bytes do not fit a level-M symbol (%v); shorten the QR content", ErrQRTooWide, len(content), err)
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	n := len(bm) + 2*qrQuietZone
	module := min(want, dots/n)
	if module < minQRModule {
		return nil, 0, fmt.Errorf("%w: %d bytes make a %d-module symbol, %d dots wide with its quiet zone at %d dots a module, and the printer prints %d dots; shorten the QR content",
			ErrQRTooWide, len(content), len(bm), n*minQRModule, minQRModule, dots)
	}
	return bm, module, nil
}

// qrImage draws a QR symbol with module dots per module and its quiet zone, for printers
// that cannot draw one themselves.
func qrImage(bm [][]bool, module int) image.Image {
	n := len(bm)
	side := (n + 2*qrQuietZone) * module
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y, row := range bm {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := 0; dy < module; dy++ {
				for dx := 0; dx < module; dx++ {
					img.SetGray((x+qrQuietZone)*module+dx, (y+qrQuietZone)*module+dy, color.Gray{})
				}
			}
		}
	}
	return img
}

// lines appends s wrapped to cols, one Line each.
func (e *Encoder) lines(s string, cols int) {
	for _, l := range Wrap(s, cols) {
		e.Line(l)
	}
}

// fitWidth scales img down (nearest neighbour) to at most dots wide.
func fitWidth(img image.Image, dots int) image.Image {
	r := img.Bounds()
	if r.Dx() <= dots || r.Dx() == 0 {
		return img
	}
	h := max(1, r.Dy()*dots/r.Dx())
	out := image.NewGray(image.Rect(0, 0, dots, h))
	for y := 0; y < h; y++ {
		for x := 0; x < dots; x++ {
			out.Set(x, y, img.At(r.Min.X+x*r.Dx()/dots, r.Min.Y+y*r.Dy()/h))
		}
	}
	return out
}

// DisplayWidth is the number of font A columns s takes on the printer: 2 for a character
// printed in Chinese mode, 1 for ASCII and for a character Encoder.Text replaces with '?'.
// Newlines count 0.
func DisplayWidth(s string) int {
	t := gbPool.Get().(transform.Transformer)
	defer gbPool.Put(t)
	w := 0
	for _, r := range s {
		w += runeWidth(t, r)
	}
	return w
}

func runeWidth(t transform.Transformer, r rune) int {
	switch {
	case r == '\n':
		return 0
	case r < utf8.RuneSelf:
		return 1
	}
	if a, ok := asciiFallback[r]; ok {
		return len(a)
	}
	if _, ok := gbk(t, r); ok {
		return 2
	}
	return 1
}

// Wrap breaks s into lines of at most cols columns (DisplayWidth). It breaks at '\n',
// between words at spaces, and anywhere between Chinese characters; a word longer than a
// line is split. Spaces at a break are dropped. A character wider than cols gets a line of
// its own. Wrap("") is [""]; cols < 1 is taken as 1.
func Wrap(s string, cols int) []string {
	cols = max(cols, 1)
	t := gbPool.Get().(transform.Transformer)
	defer gbPool.Put(t)
	var out []string
	for para := range strings.SplitSeq(s, "\n") {
		out = wrapPara(out, t, para, cols)
	}
	return out
}

func wrapPara(out []string, t transform.Transformer, s string, cols int) []string {
	var line strings.Builder
	w := 0
	cont := false // the line continues a wrapped one: no leading spaces
	flush := func() {
		out = append(out, strings.TrimRight(line.String(), " "))
		line.Reset()
		w = 0
		cont = true
	}
	for i := 0; i < len(s); {
		// Token: a space, an ASCII word, or one non-ASCII character.
		j, tw, word := i+1, 1, false
		switch {
		case s[i] == ' ':
		case s[i] < utf8.RuneSelf:
			for j < len(s) && s[j] < utf8.RuneSelf && s[j] != ' ' {
				j++
			}
			tw, word = j-i, true
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			j = i + n
			tw = runeWidth(t, r)
		}
		tok := s[i:j]
		i = j
		switch {
		case tok == " " && cont && w == 0:
		case w+tw <= cols:
			line.WriteString(tok)
			w += tw
		case tok == " ":
			flush()
		case word && tw > cols:
			// A word longer than a line: fill this line, then split the rest.
			for len(tok) > 0 {
				if w == cols {
					flush()
				}
				n := min(cols-w, len(tok))
				line.WriteString(tok[:n])
				w += n
				tok = tok[n:]
			}
		default:
			if w > 0 {
				flush()
			}
			line.WriteString(tok)
			w = tw
		}
	}
	out = append(out, strings.TrimRight(line.String(), " "))
	return out
}

// Truncate cuts s to at most cols columns (DisplayWidth).
func Truncate(s string, cols int) string {
	t := gbPool.Get().(transform.Transformer)
	defer gbPool.Put(t)
	w := 0
	for i, r := range s {
		w += runeWidth(t, r)
		if w > cols {
			return s[:i]
		}
	}
	return s
}
