package barcode

import "bytes"

// Reply is a scanner's answer to a host command, taken out of the byte stream before
// framing so it is never read as a scanned code.
type Reply struct {
	Model Model
	// OK is false when the scanner refused the command: a Zebra CMD_NAK, or a Newland
	// reply whose status is NAK (15) or ENQ (05).
	OK bool
	// Len is the frame length in bytes.
	Len int
}

// Reply frames (DEVICES.md 4).
const (
	// A Newland reply is STX SOH "0000", the command echoed, a status (ACK 06, NAK 15,
	// ENQ 05), ";" and ETX. maxNewlandReply bounds the echo: a setting command is short,
	// and bytes that never reach ";" ETX must not be withheld from the framer for long.
	maxNewlandReply = 256
	// A Zebra SSI CMD_ACK is Len 04, opcode D0, source, status, checksum (6 bytes);
	// CMD_NAK (D1) may carry one cause byte (Len 05).
	ssiMinLen = 4
	ssiMaxLen = 5
)

var newlandReplyStart = []byte{0x02, 0x01, '0', '0', '0', '0'}

// ReplyFilter takes a scanner model's replies out of the byte stream it reads, before
// the Framer: a reply fed to the Framer is rejected as a control character at best, and
// at worst it joins the next scanned code, which is then rejected and lost.
//
// Only frames that cannot begin a valid code are taken: every reply starts with a C0
// control byte (STX for Newland, the SSI length 04 or 05 for Zebra), which a code never
// holds, and a Zebra reply must carry a valid checksum. A reply may arrive in pieces;
// the bytes of an incomplete one are held until the rest comes, or until Flush. Honeywell
// and generic scanners send no replies to the commands this package sends, so for them
// the filter passes everything through.
//
// It does no I/O. The zero value (Model "") passes everything through.
type ReplyFilter struct {
	Model Model

	held []byte
}

// Feed takes the bytes read from the port and returns the bytes that belong to codes,
// in order, and the complete replies found.
func (r *ReplyFilter) Feed(b []byte) (data []byte, replies []Reply) {
	if r.Model != ModelNewland && r.Model != ModelZebraSSI {
		return b, nil
	}
	in := b
	if len(r.held) > 0 {
		in = append(r.held, b...)
		r.held = nil
	}
	for len(in) > 0 {
		i := r.index(in)
		if i < 0 {
			return append(data, in...), replies
		}
		data = append(data, in[:i]...)
		in = in[i:]
		n, rep, st := r.frame(in)
		switch st {
		case frameComplete:
			replies = append(replies, rep)
			in = in[n:]
		case frameShort:
			r.held = append([]byte(nil), in...)
			return data, replies
		default:
			// Not a reply: the byte goes on to the framer, which rejects it.
			data = append(data, in[0])
			in = in[1:]
		}
	}
	return data, replies
}

// Flush returns the bytes of an incomplete reply held back, for the framer: a read
// timed out, so the rest is not coming and they were not a reply.
func (r *ReplyFilter) Flush() []byte {
	b := r.held
	r.held = nil
	return b
}

// Pending reports whether bytes are held back.
func (r *ReplyFilter) Pending() bool { return len(r.held) > 0 }

// index returns the index of the first byte in b that may begin a reply, or -1.
func (r *ReplyFilter) index(b []byte) int {
	for i, c := range b {
		switch {
		case r.Model == ModelNewland && c == newlandReplyStart[0],
			r.Model == ModelZebraSSI && c >= ssiMinLen && c <= ssiMaxLen:
			return i
		}
	}
	return -1
}

type frameState int

const (
	frameNot      frameState = iota // b does not start with a reply
	frameShort                      // b is the start of a reply, so far
	frameComplete                   // b starts with a reply of n bytes
)

func (r *ReplyFilter) frame(b []byte) (int, Reply, frameState) {
	if r.Model == ModelNewland {
		return newlandReply(b)
	}
	return ssiReply(b)
}

// newlandReply parses STX SOH "0000", the echoed command(s), and ";" ETX at the start of
// b. Each command's answer is its printable echo, a status byte and ";".
func newlandReply(b []byte) (int, Reply, frameState) {
	k := min(len(b), len(newlandReplyStart))
	if !bytes.Equal(b[:k], newlandReplyStart[:k]) {
		return 0, Reply{}, frameNot
	}
	end := bytes.IndexByte(b[k:], 0x03)
	if end < 0 {
		if len(b) >= maxNewlandReply {
			return 0, Reply{}, frameNot
		}
		return 0, Reply{}, frameShort
	}
	end += k
	n := end + 1
	body := b[len(newlandReplyStart):end]
	if n > maxNewlandReply || len(body) < 2 || body[len(body)-1] != ';' {
		return 0, Reply{}, frameNot
	}
	statuses, refused := 0, false
	for i, c := range body {
		switch {
		case c == 0x06 || c == 0x15 || c == 0x05:
			if body[i+1] != ';' { // body ends with ';', so i+1 is in range
				return 0, Reply{}, frameNot
			}
			statuses++
			refused = refused || c != 0x06
		case c < 0x20 || c > 0x7E:
			return 0, Reply{}, frameNot
		}
	}
	if statuses == 0 {
		return 0, Reply{}, frameNot
	}
	return n, Reply{Model: ModelNewland, OK: !refused, Len: n}, frameComplete
}

// ssiReply parses a Zebra SSI CMD_ACK or CMD_NAK at the start of b: Len, opcode D0 or
// D1, source 00 (decoder; 04, the host, is accepted too), status, an optional NAK cause,
// and a big-endian checksum that makes the 16-bit sum of the packet zero.
func ssiReply(b []byte) (int, Reply, frameState) {
	n := int(b[0])
	if n < ssiMinLen || n > ssiMaxLen {
		return 0, Reply{}, frameNot
	}
	if len(b) >= 2 && b[1] != SSICmdAck && b[1] != SSICmdNak {
		return 0, Reply{}, frameNot
	}
	if len(b) >= 3 && b[2] != 0x00 && b[2] != 0x04 {
		return 0, Reply{}, frameNot
	}
	if len(b) < n+2 {
		return 0, Reply{}, frameShort
	}
	var sum uint16
	for _, c := range b[:n] {
		sum += uint16(c)
	}
	if sum+(uint16(b[n])<<8|uint16(b[n+1])) != 0 {
		return 0, Reply{}, frameNot
	}
	return n + 2, Reply{Model: ModelZebraSSI, OK: b[1] == SSICmdAck, Len: n + 2}, frameComplete
}
