package idcard

import (
	"bytes"
	"errors"
	"fmt"
)

// Preamble starts every frame in both directions: three sync bytes and two start bytes.
const Preamble = "\xAA\xAA\xAA\x96\x69"

const (
	headerLen = len(Preamble) + 2 // preamble and the big-endian Len field
	// MaxLen is the largest Len field accepted. The longest real frame is a read with a
	// 1024-byte fingerprint (Len 2314); anything far beyond is a corrupt length, and
	// waiting for 64 KiB that never come would stall the link.
	MaxLen = 4096
	// MaxFrame is the largest frame a parser accepts, in bytes.
	MaxFrame       = headerLen + MaxLen
	minCommandLen  = 3 // CMD Para CHK
	minResponseLen = 4 // SW1 SW2 SW3 CHK
)

// Frame-level errors: the bytes are not (yet) a usable frame. ErrChecksum and
// ErrFrameLength come wrapped with details; test for them with errors.Is.
var (
	ErrIncomplete  = errors.New("idcard: incomplete frame")
	ErrChecksum    = errors.New("idcard: frame checksum mismatch")
	ErrFrameLength = errors.New("idcard: frame length out of range")
)

// Command is a host-to-SAM request.
type Command struct {
	Cmd, Para byte
	Data      []byte
}

// The commands of DEVICES.md 1.3.
var (
	CmdResetSAM            = Command{0x10, 0xFF, nil}
	CmdSAMStatus           = Command{0x11, 0xFF, nil}
	CmdSAMID               = Command{0x12, 0xFF, nil}
	CmdFind                = Command{0x20, 0x01, nil}
	CmdSelect              = Command{0x20, 0x02, nil}
	CmdReadBase            = Command{0x30, 0x01, nil}
	CmdReadAppendedAddress = Command{0x30, 0x03, nil}
	CmdReadWithFingerprint = Command{0x30, 0x10, nil}
)

// CmdSetMaxRFFrame sets the reader's largest RF frame to n bytes (61 FF n). It is the
// only command with a data byte.
func CmdSetMaxRFFrame(n byte) Command { return Command{0x61, 0xFF, []byte{n}} }

// Bytes returns the command's full frame.
func (c Command) Bytes() []byte { return BuildCommand(c.Cmd, c.Para, c.Data) }

func (c Command) String() string {
	return fmt.Sprintf("%02X %02X (%d data bytes)", c.Cmd, c.Para, len(c.Data))
}

// BuildCommand returns a full host-to-SAM frame: preamble, Len, CMD, Para, data and XOR
// check. Data longer than MaxLen-3 bytes makes a frame that readers and ParseCommand
// reject; no real command carries more than one byte.
func BuildCommand(cmd, para byte, data []byte) []byte {
	return build([]byte{cmd, para}, data)
}

// Response is a SAM-to-host answer. Only SW3 tells success; SW1 and SW2 may carry the
// card's own status for some failures.
type Response struct {
	SW1, SW2, SW3 byte
	Data          []byte
}

// BuildResponse returns a full SAM-to-host frame, for simulators and tests.
func BuildResponse(sw1, sw2, sw3 byte, data []byte) []byte {
	return build([]byte{sw1, sw2, sw3}, data)
}

// Bytes returns the response's full frame.
func (r Response) Bytes() []byte { return BuildResponse(r.SW1, r.SW2, r.SW3, r.Data) }

func build(head, data []byte) []byte {
	n := len(head) + len(data) + 1
	f := make([]byte, 0, headerLen+n)
	f = append(f, Preamble...)
	f = append(f, byte(n>>8), byte(n))
	f = append(f, head...)
	f = append(f, data...)
	return append(f, xor(f[len(Preamble):]))
}

// xor is the frame check: every byte after the preamble up to the check byte.
func xor(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

// ParseResponse takes the first response frame out of buf. Junk before a preamble is
// skipped. consumed is how many bytes of buf the caller should drop, also on error:
//   - ErrIncomplete: more bytes are needed; consumed counts only junk skipped, so the
//     caller keeps buf[consumed:] and appends what arrives next.
//   - ErrFrameLength, ErrChecksum: the frame at the first preamble is bad; consumed moves
//     one byte past its start, so the next call resynchronises on a later preamble.
//
// r.Data never aliases buf.
func ParseResponse(buf []byte) (r Response, consumed int, err error) {
	body, consumed, err := parseFrame(buf, minResponseLen)
	if err != nil {
		return Response{}, consumed, err
	}
	r = Response{SW1: body[0], SW2: body[1], SW3: body[2]}
	if len(body) > 3 {
		r.Data = bytes.Clone(body[3:])
	}
	return r, consumed, nil
}

// ParseCommand takes the first command frame out of buf, with the semantics of
// ParseResponse.
func ParseCommand(buf []byte) (c Command, consumed int, err error) {
	body, consumed, err := parseFrame(buf, minCommandLen)
	if err != nil {
		return Command{}, consumed, err
	}
	c = Command{Cmd: body[0], Para: body[1]}
	if len(body) > 2 {
		c.Data = bytes.Clone(body[2:])
	}
	return c, consumed, nil
}

// parseFrame finds the first frame in buf and returns its body: the bytes between the Len
// field and the check byte. body aliases buf.
func parseFrame(buf []byte, minLen int) (body []byte, consumed int, err error) {
	i := bytes.Index(buf, []byte(Preamble))
	if i < 0 {
		return nil, len(buf) - partialPreamble(buf), ErrIncomplete
	}
	if len(buf)-i < headerLen {
		return nil, i, ErrIncomplete
	}
	n := int(buf[i+5])<<8 | int(buf[i+6])
	if n < minLen || n > MaxLen {
		return nil, i + 1, fmt.Errorf("%w: Len %d, want %d..%d", ErrFrameLength, n, minLen, MaxLen)
	}
	end := i + headerLen + n
	if len(buf) < end {
		return nil, i, ErrIncomplete
	}
	if got, want := buf[end-1], xor(buf[i+len(Preamble):end-1]); got != want {
		return nil, i + 1, fmt.Errorf("%w: check byte 0x%02X, computed 0x%02X", ErrChecksum, got, want)
	}
	return buf[i+headerLen : end-1], end, nil
}

// partialPreamble returns the length of the longest suffix of buf that could begin a
// preamble (at most 4 bytes), so that a preamble split across reads is not thrown away.
func partialPreamble(buf []byte) int {
	for k := min(len(Preamble)-1, len(buf)); k > 0; k-- {
		if bytes.HasSuffix(buf, []byte(Preamble[:k])) {
			return k
		}
	}
	return 0
}

// maxBuffered caps what a Parser holds. It is two maximal frames, so a caller that calls
// Next after every Feed of up to one frame's worth never loses a frame to the cap.
const maxBuffered = 2 * MaxFrame

// Parser reassembles response frames from a byte stream that may start with junk, arrive
// in pieces and hold corrupt frames. The zero value is ready to use.
type Parser struct {
	buf     []byte
	dropped int
}

// Feed appends bytes read from the line. If more than about 8 KiB pile up, junk before the
// first preamble and then the oldest bytes are dropped, so a babbling line cannot grow the
// buffer without bound.
func (p *Parser) Feed(b []byte) {
	p.buf = append(p.buf, b...)
	if len(p.buf) <= maxBuffered {
		return
	}
	skip := bytes.Index(p.buf, []byte(Preamble))
	if skip < 0 {
		skip = len(p.buf) - partialPreamble(p.buf)
	}
	skip = max(skip, len(p.buf)-maxBuffered)
	p.drop(skip)
	p.dropped += skip
}

// Next returns the next complete response. It returns ErrIncomplete when more bytes are
// needed, and ErrChecksum or ErrFrameLength (wrapped) for a bad frame, after which the
// next call resynchronises on a later preamble.
func (p *Parser) Next() (Response, error) {
	r, n, err := ParseResponse(p.buf)
	p.drop(n)
	return r, err
}

// Buffered returns how many bytes wait for the rest of their frame.
func (p *Parser) Buffered() int { return len(p.buf) }

// Dropped returns how many bytes Feed has thrown away because the buffer was full.
func (p *Parser) Dropped() int { return p.dropped }

// Reset empties the buffer, for a new exchange after a timeout.
func (p *Parser) Reset() { p.buf = p.buf[:0] }

// drop removes the first n buffered bytes, moving the rest to the front so the backing
// array is reused rather than growing with every frame.
func (p *Parser) drop(n int) {
	if n <= 0 {
		return
	}
	rest := copy(p.buf, p.buf[n:])
	p.buf = p.buf[:rest]
}
