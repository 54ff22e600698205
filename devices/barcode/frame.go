package barcode

import (
	"bytes"
	"errors"
	"fmt"
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

// Suffix is what a scanner is set to send after every code.
type Suffix string

// Suffixes a scanner can be set to send. DefaultSuffix is CR, the factory setting of
// most serial scanners (DEVICES.md 4: "typically CR 0D, sometimes CR LF").
const (
	SuffixCR      Suffix = "cr"
	SuffixLF      Suffix = "lf"
	SuffixCRLF    Suffix = "crlf"
	SuffixNone    Suffix = "none" // the scanner sends nothing: codes end at the gap only
	DefaultSuffix        = SuffixCR
)

// Suffixes lists every suffix.
var Suffixes = []Suffix{SuffixCR, SuffixLF, SuffixCRLF, SuffixNone}

// ParseSuffix checks a configured suffix; "" means DefaultSuffix.
func ParseSuffix(s string) (Suffix, error) {
	if s == "" {
		return DefaultSuffix, nil
	}
	for _, x := range Suffixes {
		if string(x) == s {
			return x, nil
		}
	}
	return "", fmt.Errorf("barcode: unknown suffix %q (want cr, lf, crlf or none)", s)
}

// Bytes returns the bytes of the suffix; "" is DefaultSuffix.
func (s Suffix) Bytes() ([]byte, error) {
	switch s {
	case SuffixCR, "":
		return []byte{'\r'}, nil
	case SuffixLF:
		return []byte{'\n'}, nil
	case SuffixCRLF:
		return []byte{'\r', '\n'}, nil
	case SuffixNone:
		return nil, nil
	}
	return nil, fmt.Errorf("barcode: unknown suffix %q (want cr, lf, crlf or none)", string(s))
}

// Framer cuts the scanner's byte stream into codes. A code ends at the scanner's Suffix,
// or when no byte came for Gap. It does no I/O; feed it what the port reads.
//
// Only the configured suffix ends a code: a QR code may hold line breaks (a vCard, an
// address), and cutting at every CR or LF would turn one scan into several codes. The
// other line-break bytes are kept inside the code. A code that itself contains the
// suffix is still cut there: set the scanner to a suffix its codes do not hold, or to
// none, which leaves the gap.
//
// Line breaks at the start and end of a code are dropped, and empty codes are never
// reported, so a scanner that sends CR LF while the profile says CR (or LF while it says
// CR, which then ends at the gap) still gives the right codes.
//
// The gap is only noticed when Feed or Flush is called. Over tarm/serial the driver
// calls Flush on every read timeout, and that timeout is at least 100 ms (VTIME is in
// tenths of a second), so in practice an unterminated code ends at the first read
// timeout after its last byte, however small Gap is.
type Framer struct {
	MaxLen int           // bytes; 0 means DefaultMaxLen
	Gap    time.Duration // 0 means DefaultGap
	// Suffix ends a code; "" (and an unknown value) means DefaultSuffix.
	Suffix Suffix
	// StripAIM removes an AIM symbology identifier ("]Q1", "]C0", "]E0"...) from the start
	// of every code and reports it in Result.Symbology. Only set it when the scanner is
	// configured to send the prefix: a code may itself begin with "]".
	StripAIM bool

	buf  []byte
	over int  // bytes seen of a too-long code being discarded; 0 when none
	cr   bool // SuffixCRLF: a CR came last and is held until the next byte shows whether it ends the code
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

func (f *Framer) suffix() Suffix {
	switch f.Suffix {
	case SuffixLF, SuffixCRLF, SuffixNone:
		return f.Suffix
	}
	return DefaultSuffix
}

// Feed takes bytes read at now and returns the codes they complete.
func (f *Framer) Feed(b []byte, now time.Time) []Result {
	var out []Result
	if len(b) == 0 {
		return nil
	}
	out = f.flushIfGap(out, now)
	suf := f.suffix()
	for _, c := range b {
		switch suf {
		case SuffixCR:
			if c == '\r' {
				out = f.end(out)
				continue
			}
		case SuffixLF:
			if c == '\n' {
				out = f.end(out)
				continue
			}
		case SuffixCRLF:
			if f.cr {
				f.cr = false
				if c == '\n' {
					out = f.end(out)
					continue
				}
				f.add('\r')
			}
			if c == '\r' {
				f.cr = true
				continue
			}
		}
		f.add(c)
	}
	f.last = now
	return out
}

// add appends c to the code, or counts it when the code is already too long. A line
// break cannot start a code.
func (f *Framer) add(c byte) {
	switch {
	case f.over > 0:
		f.over++
	case len(f.buf) == 0 && (c == '\r' || c == '\n'):
	case len(f.buf) >= f.maxLen():
		f.over = len(f.buf) + 1
		f.buf = f.buf[:0]
	default:
		f.buf = append(f.buf, c)
	}
}

// Flush ends a pending code when no byte came for Gap before now. Call it when a read
// times out.
func (f *Framer) Flush(now time.Time) []Result { return f.flushIfGap(nil, now) }

// Pending reports whether part of a code is buffered.
func (f *Framer) Pending() bool { return len(f.buf) > 0 || f.over > 0 || f.cr }

func (f *Framer) flushIfGap(out []Result, now time.Time) []Result {
	if f.Pending() && now.Sub(f.last) >= f.gap() {
		out = f.end(out)
	}
	return out
}

// end finishes the current code, if any. A CR held for CRLF is dropped with it: it is a
// trailing line break.
func (f *Framer) end(out []Result) []Result {
	f.cr = false
	if f.over > 0 {
		out = append(out, Result{Err: ErrTooLong, Len: f.over})
		f.over = 0
		f.buf = f.buf[:0]
		return out
	}
	b := bytes.TrimRight(f.buf, "\r\n")
	f.buf = f.buf[:0]
	if len(b) == 0 {
		return out
	}
	return append(out, f.check(b))
}

func (f *Framer) check(b []byte) Result {
	r := Result{Len: len(b)}
	if !utf8.Valid(b) {
		r.Err = ErrInvalidUTF8
		return r
	}
	s := string(b)
	for _, c := range s {
		// C0, DEL and C1, except the line breaks of a multi-line code. GS (0x1D), the GS1
		// field separator, is rejected too: no flow of ours reads GS1 element strings yet.
		if (c < 0x20 && c != '\r' && c != '\n') || (c >= 0x7F && c <= 0x9F) {
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
