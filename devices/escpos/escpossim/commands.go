package escpossim

import (
	"encoding/hex"
	"fmt"
	"image"
	"strings"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
)

// The commands by prefix: ESC, GS, FS and DLE, with QR codes (GS ( k) and raster images.

func (d *Decoder) escCmd(b []byte) (int, Event) {
	if len(b) < 2 {
		return 0, nil
	}
	switch b[1] {
	case '@':
		d.line = d.line[:0]
		d.st = defaultStyle
		return 2, nil
	case 'v':
		return 2, QueuedStatus{Cmd: "ESC v"}
	case 'a', '!', 'E', 'd', '-', 'G':
		if len(b) < 3 {
			return 0, nil
		}
		n := b[2]
		switch b[1] {
		case 'a':
			d.st.align = escpos.Align(n & 3 % 3) // 0/48, 1/49, 2/50
		case '!':
			d.st.bold = n&0x08 != 0
			d.st.w, d.st.h = 1, 1
			if n&0x20 != 0 {
				d.st.w = 2
			}
			if n&0x10 != 0 {
				d.st.h = 2
			}
		case 'E':
			d.st.bold = n&1 != 0
		case 'd':
			d.flushPending()
			d.addItem(Item{Kind: KindFeed, Lines: int(n)}, 0)
		}
		return 3, nil
	case '*': // bit image: m nL nH, k columns of 1 or 3 bytes
		if len(b) < 5 {
			return 0, nil
		}
		k := int(b[3]) | int(b[4])<<8
		if b[2] == 32 || b[2] == 33 {
			k *= 3
		}
		return d.unknown(b, 5+k)
	case '&': // user-defined characters: y c1 c2, then per character x and y*x bytes
		if len(b) < 5 {
			return 0, nil
		}
		y, c1, c2 := int(b[2]), int(b[3]), int(b[4])
		n := 5
		for c := c1; c <= c2 && c2-c1 < 256; c++ {
			if len(b) < n+1 {
				return 0, nil
			}
			n += 1 + y*int(b[n])
			if n > MaxTicketBytes {
				return d.unknown(b, n) // too big to wait for: drop and resync
			}
		}
		return d.unknown(b, n)
	case '(': // ESC ( fn pL pH data
		if len(b) < 5 {
			return 0, nil
		}
		return d.unknown(b, 5+(int(b[3])|int(b[4])<<8))
	case 'D': // tab positions, NUL-terminated, at most 32
		for i := 2; i < len(b) && i < 2+33; i++ {
			if b[i] == 0 {
				return d.unknown(b, i+1)
			}
		}
		if len(b) >= 2+33 {
			return d.unknown(b, 2+33)
		}
		return 0, nil
	}
	n, ok := escLen[b[1]]
	if !ok {
		n = 0 // length unknown: drop ESC and the function byte and resync on what follows
	}
	return d.unknown(b, 2+n)
}

// escLen is the parameter count of fixed-length ESC commands (Epson ESC/POS reference).
var escLen = map[byte]int{
	' ': 1, '$': 2, '%': 1, '2': 0, '3': 1, '<': 0, '=': 1, '?': 1, 'J': 1, 'K': 1,
	'L': 0, 'M': 1, 'R': 1, 'S': 0, 'T': 1, 'U': 1, 'V': 1, 'W': 8, '\\': 2, 'c': 2,
	'e': 1, 'i': 0, 'm': 0, 'p': 3, 'r': 1, 't': 1, 'u': 1, '{': 1, 'f': 2, 'g': 1,
}

func (d *Decoder) gsCmd(b []byte) (int, Event) {
	if len(b) < 2 {
		return 0, nil
	}
	switch b[1] {
	case '!':
		if len(b) < 3 {
			return 0, nil
		}
		d.st.w = int(b[2]>>4&7) + 1
		d.st.h = int(b[2]&7) + 1
		return 3, nil
	case 'r':
		if len(b) < 3 {
			return 0, nil
		}
		return 3, QueuedStatus{Cmd: "GS r", N: b[2]}
	case 'V':
		if len(b) < 3 {
			return 0, nil
		}
		// Function A: m = 0/48 full, 1/49 partial. Functions B, C, D (m = 65/66,
		// 97/98, 103/104) take n as well; the even m is the partial cut.
		var n int
		var partial bool
		switch m := b[2]; m {
		case 0, 1, '0', '1':
			n, partial = 3, m&1 == 1
		case 65, 66, 97, 98, 103, 104:
			n, partial = 4, m&1 == 0
			if len(b) < 4 {
				return 0, nil
			}
		default:
			return d.unknown(b, 3)
		}
		d.flushPending()
		t := d.t
		d.reset()
		return n, Cut{Ticket: t, Partial: partial}
	case '(':
		if len(b) < 5 {
			return 0, nil
		}
		n := 5 + (int(b[3]) | int(b[4])<<8)
		if b[2] == 'k' {
			if len(b) < n {
				return 0, nil
			}
			return d.qrCmd(b[:n])
		}
		return d.unknown(b, n)
	case 'v':
		if len(b) < 8 {
			return 0, nil
		}
		if b[2] != '0' {
			return d.unknown(b, 3)
		}
		wb := int(b[4]) | int(b[5])<<8
		h := int(b[6]) | int(b[7])<<8
		n := 8 + wb*h
		if wb*h*8 > MaxTicketBytes {
			d.note(fmt.Sprintf("raster %dx%d dropped: larger than %d bytes", wb*8, h, MaxTicketBytes))
			return n, nil
		}
		if len(b) < n {
			return 0, nil
		}
		d.raster(b[3], wb, h, b[8:n])
		return n, nil
	case '8': // GS 8 L / GS 8 x: p1..p4 is a 32-bit length
		if len(b) < 7 {
			return 0, nil
		}
		n := 7 + (int(b[3]) | int(b[4])<<8 | int(b[5])<<16 | int(b[6])<<24)
		return d.unknown(b, n)
	case '*':
		if len(b) < 4 {
			return 0, nil
		}
		return d.unknown(b, 4+int(b[2])*int(b[3])*8)
	case 'k': // barcode
		if len(b) < 3 {
			return 0, nil
		}
		if b[2] <= 6 {
			for i := 3; i < len(b) && i < 3+256; i++ {
				if b[i] == 0 {
					return d.unknown(b, i+1)
				}
			}
			if len(b) >= 3+256 {
				return d.unknown(b, 3+256)
			}
			return 0, nil
		}
		if len(b) < 4 {
			return 0, nil
		}
		return d.unknown(b, 4+int(b[3]))
	case 'g':
		if len(b) < 3 {
			return 0, nil
		}
		return d.unknown(b, 6)
	}
	n, ok := gsLen[b[1]]
	if !ok {
		n = 0
	}
	return d.unknown(b, 2+n)
}

// gsLen is the parameter count of fixed-length GS commands.
var gsLen = map[byte]int{
	'$': 2, '/': 1, ':': 0, 'B': 1, 'H': 1, 'I': 1, 'L': 2, 'P': 2, 'W': 2, '\\': 2,
	'^': 3, 'a': 1, 'b': 1, 'c': 0, 'f': 1, 'h': 1, 'w': 1, 'T': 1, 'E': 1, 'J': 1,
}

func (d *Decoder) fsCmd(b []byte) (int, Event) {
	if len(b) < 2 {
		return 0, nil
	}
	switch b[1] {
	case '&':
		d.st.chinese = true
		return 2, nil
	case '.':
		d.st.chinese = false
		return 2, nil
	case '!':
		if len(b) < 3 {
			return 0, nil
		}
		// Chinese print mode: bit 2 double width, bit 3 double height.
		d.st.w, d.st.h = 1, 1
		if b[2]&0x04 != 0 {
			d.st.w = 2
		}
		if b[2]&0x08 != 0 {
			d.st.h = 2
		}
		return 3, nil
	case '(':
		if len(b) < 5 {
			return 0, nil
		}
		return d.unknown(b, 5+(int(b[3])|int(b[4])<<8))
	case '2': // define a Chinese character: c1 c2 and 72 bytes
		return d.unknown(b, 4+72)
	}
	n, ok := fsLen[b[1]]
	if !ok {
		n = 0
	}
	return d.unknown(b, 2+n)
}

var fsLen = map[byte]int{'-': 1, 'C': 1, 'S': 2, 'W': 1, 'p': 2, '?': 2}

func (d *Decoder) dleCmd(b []byte) (int, Event) {
	if len(b) < 2 {
		return 0, nil
	}
	switch b[1] {
	case 0x04:
		if len(b) < 3 {
			return 0, nil
		}
		return 3, RealtimeStatus{N: b[2]}
	case 0x05: // DLE ENQ n: real-time request to the printer, no answer
		return d.unknown(b, 3)
	case 0x14: // DLE DC4 fn ...: 5 bytes, 10 for fn 8 (clear buffers)
		if len(b) < 3 {
			return 0, nil
		}
		if b[2] == 8 {
			return d.unknown(b, 10)
		}
		return d.unknown(b, 5)
	}
	return 1, nil // a lone DLE is a control character
}

// unknown skips an n-byte command the decoder does not act on and records its head.
// It returns 0 while fewer than n bytes (up to 64) have arrived so the record is complete;
// a longer command's body is dropped as it arrives.
func (d *Decoder) unknown(b []byte, n int) (int, Event) {
	head := min(n, 16)
	if len(b) < head {
		return 0, nil
	}
	s := strings.ToUpper(hex.EncodeToString(b[:head]))
	if n > head {
		s += fmt.Sprintf("... (%d bytes)", n)
	}
	d.note(s)
	return n, nil
}

func (d *Decoder) note(s string) {
	if len(d.t.Unknown) < maxUnknown {
		d.t.Unknown = append(d.t.Unknown, s)
	}
}

func (d *Decoder) qrCmd(b []byte) (int, Event) {
	// 1D 28 6B pL pH cn fn [params]
	if len(b) < 7 || b[5] != 0x31 {
		return d.unknown(b, len(b))
	}
	p := b[7:]
	switch b[6] {
	case 0x41, 0x45: // model, EC level: the symbol is redrawn from its data, so ignored
	case 0x43:
		if len(p) >= 1 && p[0] >= 1 && p[0] <= 16 {
			d.qrMod = int(p[0])
		}
	case 0x50:
		if len(p) >= 1 {
			d.qr = append(d.qr[:0], p[1:]...)
		}
	case 0x51:
		d.flushPending()
		if len(d.qr) == 0 {
			d.note("QR print with no data stored")
			break
		}
		d.addItem(Item{Kind: KindQR, Align: d.st.align, QR: string(d.qr), QRModule: d.qrMod}, len(d.qr))
	default:
		return d.unknown(b, len(b))
	}
	return len(b), nil
}

func (d *Decoder) raster(m byte, wb, h int, data []byte) {
	d.flushPending()
	img := image.NewGray(image.Rect(0, 0, wb*8, h))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := 0; y < h; y++ {
		for xb := 0; xb < wb; xb++ {
			v := data[y*wb+xb]
			for bit := 0; bit < 8; bit++ {
				if v&(0x80>>bit) != 0 {
					img.Pix[y*img.Stride+xb*8+bit] = 0
				}
			}
		}
	}
	w, hh := 1, 1
	if m&1 != 0 {
		w = 2
	}
	if m&2 != 0 {
		hh = 2
	}
	d.addItem(Item{Kind: KindRaster, Align: d.st.align, W: w, H: hh, Raster: img}, len(img.Pix))
}
