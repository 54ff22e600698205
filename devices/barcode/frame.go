package barcode

import (
	"errors"
	"time"
	"unicode/utf8"
)

// Defaults of a Framer.
const (
	DefaultMaxLen = 512
	DefaultGap    = 50 * time.Millisecond
)

// Rejection reasons. The messages never contain the payload: a scanned code can be a
// personal document (a health code, an ID number in a QR code).
var (
	ErrTooLong     = errors.New("barcode: code too long")
	ErrControlChar = errors.New("barcode: control character in code")
	ErrInvalidUTF8 = errors.New("barcode: code is not valid UTF-8")
)

// Result is one code cut from the byte stream: a valid Code, or Err saying why the input
// was rejected.
type Result struct {
	Code      string
	Symbology string // from the AIM prefix when StripAIM is set; "" otherwise
	Err       error
	// Len is the payload length in bytes (for a too-long code, the bytes seen), so a
	// rejection can be logged without its content.
	Len int
}

// Framer cuts the scanner's byte stream into codes. A code ends at CR, LF or CRLF, or
// when no byte came for Gap. It does no I/O; feed it what the port reads.
//
// CRLF counts as one terminator even when CR and LF arrive in different reads: empty
// lines are never codes, so the LF after a CR ends nothing.
//
// The gap is only noticed when Feed or Flush is called. Over tarm/serial the driver
// calls Flush on every read timeout, and that timeout is at least 100 ms (VTIME is in
// tenths of a second), so in practice an unterminated code ends at the first read
// timeout after its last byte, however small Gap is.
type Framer struct {
	MaxLen int           // bytes; 0 means DefaultMaxLen
	Gap    time.Duration // 0 means DefaultGap
	// StripAIM removes an AIM symbology identifier ("]Q1", "]C0", "]E0"...) from the start
	// of every code and reports it in Result.Symbology. Only set it when the scanner is
	// configured to send the prefix: a code may itself begin with "]".
	StripAIM bool

	buf  []byte
	over int // bytes seen of a too-long code being discarded; 0 when none
	last time.Time
}

func (f *Framer) maxLen() int {
	if f.MaxLen > 0 {
		return f.MaxLen
	}
	return DefaultMaxLen
}

func (f *Framer) gap() time.Duration {
	if f.Gap > 0 {
		return f.Gap
	}
	return DefaultGap
}

// Feed takes bytes read at now and returns the codes they complete.
func (f *Framer) Feed(b []byte, now time.Time) []Result {
	var out []Result
	if len(b) == 0 {
		return nil
	}
	out = f.flushIfGap(out, now)
	for _, c := range b {
		switch {
		case c == '\r' || c == '\n':
			out = f.end(out)
		case f.over > 0:
			f.over++
		case len(f.buf) >= f.maxLen():
			f.over = len(f.buf) + 1
			f.buf = f.buf[:0]
		default:
			f.buf = append(f.buf, c)
		}
	}
	f.last = now
	return out
}

// Flush ends a pending code when no byte came for Gap before now. Call it when a read
// times out.
func (f *Framer) Flush(now time.Time) []Result { return f.flushIfGap(nil, now) }

// Pending reports whether part of a code is buffered.
func (f *Framer) Pending() bool { return len(f.buf) > 0 || f.over > 0 }

func (f *Framer) flushIfGap(out []Result, now time.Time) []Result {
	if f.Pending() && now.Sub(f.last) >= f.gap() {
		out = f.end(out)
	}
	return out
}

// end finishes the current code, if any.
func (f *Framer) end(out []Result) []Result {
	if f.over > 0 {
		out = append(out, Result{Err: ErrTooLong, Len: f.over})
		f.over = 0
		f.buf = f.buf[:0]
		return out
	}
	if len(f.buf) == 0 {
		return out
	}
	r := f.check(f.buf)
	f.buf = f.buf[:0]
	return append(out, r)
}

func (f *Framer) check(b []byte) Result {
	r := Result{Len: len(b)}
	if !utf8.Valid(b) {
		r.Err = ErrInvalidUTF8
		return r
	}
	s := string(b)
	for _, c := range s {
		// C0, DEL and C1. GS (0x1D), the GS1 field separator, is rejected too: no flow of
		// ours reads GS1 element strings yet.
		if c < 0x20 || (c >= 0x7F && c <= 0x9F) {
			r.Err = ErrControlChar
			return r
		}
	}
	if f.StripAIM {
		if sym, ok := aimSymbology(s); ok {
			r.Symbology = sym
			s = s[3:]
			if s == "" {
				// Only a prefix: nothing was scanned worth reporting.
				r.Err = ErrEmpty
				return r
			}
		}
	}
	r.Code = s
	return r
}

// ErrEmpty is reported when a code held only an AIM prefix.
var ErrEmpty = errors.New("barcode: empty code after the symbology identifier")

// aimSymbology parses an AIM symbology identifier (ISO/IEC 15424: "]" + code character +
// modifier character) at the start of s.
func aimSymbology(s string) (string, bool) {
	if len(s) < 3 || s[0] != ']' {
		return "", false
	}
	c, m := s[1], s[2]
	if !(m >= '0' && m <= '9' || m >= 'A' && m <= 'Z' || m >= 'a' && m <= 'z') {
		return "", false
	}
	switch c {
	case 'A':
		return "code39", true
	case 'C':
		if m == '1' {
			return "gs1-128", true
		}
		return "code128", true
	case 'E':
		if m == '4' {
			return "ean8", true
		}
		return "ean13", true // also UPC-A, sent as EAN-13 with a leading 0
	case 'F':
		return "codabar", true
	case 'G':
		return "code93", true
	case 'I':
		return "itf", true
	case 'L':
		return "pdf417", true
	case 'Q':
		return "qr", true
	case 'd':
		return "datamatrix", true
	case 'e':
		return "gs1-databar", true
	case 'z':
		return "aztec", true
	case 'X':
		return "other", true
	}
	if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
		return "aim-" + string(c), true
	}
	return "", false
}
