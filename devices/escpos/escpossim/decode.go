package escpossim

import (
	"fmt"
	"image"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
)

// Event is something in the printer's input the shell acts on: RealtimeStatus,
// QueuedStatus or Cut.
type Event interface{}

// RealtimeStatus is DLE EOT n: the printer answers at once, whatever else is queued.
type RealtimeStatus struct{ N byte }

// QueuedStatus is a status request answered in turn, after the data before it was
// processed: GS r n (Cmd "GS r") or ESC v (Cmd "ESC v", N 0).
type QueuedStatus struct {
	Cmd string
	N   byte
}

// Cut is a paper cut (GS V in any form); Ticket holds what was printed since the last one.
type Cut struct {
	Ticket  *Ticket
	Partial bool
}

// Ticket is what a printer put on paper between two cuts.
type Ticket struct {
	Items   []Item
	Unknown []string // commands skipped, in hex, and notes on what was dropped
}

// Item kinds.
const (
	KindText   = "text"
	KindQR     = "qr"
	KindRaster = "raster"
	KindFeed   = "feed"
)

// Item is one printed line, QR symbol, raster image or paper feed.
type Item struct {
	Kind     string
	Text     string       // text: the line, decoded to UTF-8
	Align    escpos.Align // text, qr, raster
	W, H     int          // text: character size (1..8); raster: scale (1..2)
	Bold     bool
	QR       string // qr: the stored data
	QRModule int    // qr: module size in dots
	Raster   image.Image
	Lines    int // feed: number of lines
}

// Limits that keep a hostile or broken stream from exhausting memory.
const (
	MaxTicketBytes = 4 << 20 // content of one ticket; the rest up to the cut is dropped
	maxUnknown     = 256
	maxLine        = 4096 // bytes of one text line without a line feed
)

// style is the print mode in force.
type style struct {
	align   escpos.Align
	w, h    int
	bold    bool
	chinese bool
}

var defaultStyle = style{w: 1, h: 1}

// Decoder turns a printer's input stream into events and tickets. Bytes may be split
// anywhere, even inside a command or a Chinese character. It keeps at most one pending
// command (bounded by MaxTicketBytes) and the current ticket (cut off at MaxTicketBytes).
// A Decoder is not safe for concurrent use; the zero value is ready.
type Decoder struct {
	pend  []byte
	skip  int // bytes of an oversized command still to drop
	st    style
	line  []byte // current line, UTF-8
	lst   style  // style at the line's first character
	t     *Ticket
	size  int // memory held by t
	full  bool
	qr    []byte
	qrMod int
	gb    transform.Transformer
}

// Feed decodes p and returns the events it completes, in stream order.
func (d *Decoder) Feed(p []byte) []Event {
	if d.t == nil {
		d.reset()
	}
	if d.skip > 0 {
		n := min(d.skip, len(p))
		d.skip -= n
		p = p[n:]
	}
	d.pend = append(d.pend, p...)
	var evs []Event
	i := 0
	for i < len(d.pend) {
		n, ev := d.step(d.pend[i:])
		if n == 0 {
			break
		}
		if ev != nil {
			evs = append(evs, ev)
		}
		if n > len(d.pend)-i {
			d.skip = n - (len(d.pend) - i)
			i = len(d.pend)
			break
		}
		i += n
	}
	rest := copy(d.pend, d.pend[i:])
	d.pend = d.pend[:rest]
	if cap(d.pend) > 64<<10 && rest < 1<<10 {
		d.pend = append([]byte(nil), d.pend...)
	}
	return evs
}

func (d *Decoder) reset() {
	d.t = &Ticket{}
	d.size = 0
	d.full = false
	if d.qrMod == 0 {
		d.qrMod = 3
	}
	if d.st.w == 0 {
		d.st = defaultStyle
	}
}

// step decodes one command or character at the start of b. It returns the bytes it
// takes, 0 when b holds only part of it, or more than len(b) when the rest of an
// oversized command is to be dropped as it arrives.
func (d *Decoder) step(b []byte) (int, Event) {
	c := b[0]
	switch c {
	case 0x1B:
		return d.escCmd(b)
	case 0x1D:
		return d.gsCmd(b)
	case 0x1C:
		return d.fsCmd(b)
	case 0x10:
		return d.dleCmd(b)
	case '\n':
		d.flushLine()
		return 1, nil
	case '\t':
		d.addText("    ")
		return 1, nil
	}
	if c < 0x20 || c == 0x7F {
		return 1, nil // CR and other controls: nothing to print
	}
	if c < 0x80 {
		d.addText(string(rune(c)))
		return 1, nil
	}
	if !d.st.chinese {
		// Outside Chinese mode a printer shows a code-page glyph we do not model.
		d.addText("?")
		return 1, nil
	}
	// GB18030: 2 bytes, or 4 when the second is a digit.
	if len(b) < 2 {
		return 0, nil
	}
	n := 2
	if b[1] >= 0x30 && b[1] <= 0x39 {
		n = 4
		if len(b) < 4 {
			return 0, nil
		}
	}
	if c == 0x80 || c == 0xFF {
		n = 1
	}
	d.addText(d.decodeGB(b[:n]))
	return n, nil
}

func (d *Decoder) decodeGB(b []byte) string {
	if d.gb == nil {
		d.gb = simplifiedchinese.GB18030.NewDecoder()
	}
	var dst [8]byte
	nDst, _, err := d.gb.Transform(dst[:], b, true)
	d.gb.Reset()
	if err != nil || nDst == 0 {
		return "\uFFFD"
	}
	s := string(dst[:nDst])
	if !utf8.ValidString(s) {
		return "\uFFFD"
	}
	return s
}

func (d *Decoder) addText(s string) {
	if len(d.line) == 0 {
		d.lst = d.st
	}
	if len(d.line)+len(s) > maxLine {
		d.flushLine()
		d.lst = d.st
	}
	d.line = append(d.line, s...)
}

// flushPending prints a pending line, as a printer does before a feed, cut or image.
func (d *Decoder) flushPending() {
	if len(d.line) > 0 {
		d.flushLine()
	}
}

// flushLine prints the current line, empty or not (LF).
func (d *Decoder) flushLine() {
	s := d.lst
	if len(d.line) == 0 {
		s = d.st
	}
	d.addItem(Item{Kind: KindText, Text: string(d.line), Align: s.align, W: s.w, H: s.h, Bold: s.bold}, len(d.line))
	d.line = d.line[:0]
}

// itemCost is what an Item holds besides its payload.
const itemCost = int(unsafe.Sizeof(Item{}))

// addItem adds an item with a payload of size bytes, unless the ticket is full.
func (d *Decoder) addItem(it Item, size int) {
	if d.full {
		return
	}
	size += itemCost
	if d.size+size > MaxTicketBytes {
		d.full = true
		d.note(fmt.Sprintf("ticket cut off at %d bytes", MaxTicketBytes))
		return
	}
	d.size += size
	d.t.Items = append(d.t.Items, it)
}
