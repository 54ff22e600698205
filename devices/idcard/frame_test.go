package idcard_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/hallkiosk/hallkiosk/devices/idcard"
)

// unhex turns "AA AA AA 96 69 ..." into bytes.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// Every command frame of DEVICES.md 1.3, byte for byte.
var commandFrames = []struct {
	name  string
	cmd   idcard.Command
	frame string
}{
	{"reset SAM", idcard.CmdResetSAM, "AA AA AA 96 69 00 03 10 FF EC"},
	{"SAM status", idcard.CmdSAMStatus, "AA AA AA 96 69 00 03 11 FF ED"},
	{"SAM id", idcard.CmdSAMID, "AA AA AA 96 69 00 03 12 FF EE"},
	{"find", idcard.CmdFind, "AA AA AA 96 69 00 03 20 01 22"},
	{"select", idcard.CmdSelect, "AA AA AA 96 69 00 03 20 02 21"},
	{"read base", idcard.CmdReadBase, "AA AA AA 96 69 00 03 30 01 32"},
	{"read appended address", idcard.CmdReadAppendedAddress, "AA AA AA 96 69 00 03 30 03 30"},
	{"read with fingerprint", idcard.CmdReadWithFingerprint, "AA AA AA 96 69 00 03 30 10 23"},
	{"baud 115200", idcard.Command{Cmd: 0x60, Para: 0x00}, "AA AA AA 96 69 00 03 60 00 63"},
	{"baud 57600", idcard.Command{Cmd: 0x60, Para: 0x01}, "AA AA AA 96 69 00 03 60 01 62"},
	{"baud 38400", idcard.Command{Cmd: 0x60, Para: 0x02}, "AA AA AA 96 69 00 03 60 02 61"},
	{"baud 19200", idcard.Command{Cmd: 0x60, Para: 0x03}, "AA AA AA 96 69 00 03 60 03 60"},
	{"baud 9600", idcard.Command{Cmd: 0x60, Para: 0x04}, "AA AA AA 96 69 00 03 60 04 67"},
	{"RF frame size 80", idcard.Command{Cmd: 0x61, Para: 0xFF, Data: []byte{0x50}}, "AA AA AA 96 69 00 04 61 FF 50 CA"},
}

// The canonical response frames of DEVICES.md 1.4.
var responseFrames = []struct {
	name  string
	resp  idcard.Response
	frame string
	err   error
	cmd   idcard.Command // the command the frame answers
}{
	{"SAM OK", idcard.Response{SW3: 0x90}, "AA AA AA 96 69 00 04 00 00 90 94", nil, idcard.CmdSAMStatus},
	{"find OK", idcard.Response{SW3: 0x9F, Data: []byte{0, 0, 0, 0}}, "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", nil, idcard.CmdFind},
	{"find fail", idcard.Response{SW3: 0x80}, "AA AA AA 96 69 00 04 00 00 80 84", idcard.ErrNoCard, idcard.CmdFind},
	{"select OK", idcard.Response{SW3: 0x90, Data: make([]byte, 8)}, "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C", nil, idcard.CmdSelect},
	{"select fail", idcard.Response{SW3: 0x81}, "AA AA AA 96 69 00 04 00 00 81 85", idcard.ErrSelectFailed, idcard.CmdSelect},
	{"read fail", idcard.Response{SW3: 0x41}, "AA AA AA 96 69 00 04 00 00 41 45", idcard.ErrReadFailed, idcard.CmdReadBase},
	{"SAM self-test bad", idcard.Response{SW3: 0x60}, "AA AA AA 96 69 00 04 00 00 60 64", idcard.ErrSAMSelfTest, idcard.CmdSAMStatus},
}

func TestCommandFrames(t *testing.T) {
	for _, c := range commandFrames {
		want := unhex(t, c.frame)
		if got := c.cmd.Bytes(); !bytes.Equal(got, want) {
			t.Errorf("%s: Bytes() = % X; want % X", c.name, got, want)
		}
		if got := idcard.BuildCommand(c.cmd.Cmd, c.cmd.Para, c.cmd.Data); !bytes.Equal(got, want) {
			t.Errorf("BuildCommand(%#x, %#x, % X) = % X; want % X", c.cmd.Cmd, c.cmd.Para, c.cmd.Data, got, want)
		}
		got, n, err := idcard.ParseCommand(want)
		if err != nil || n != len(want) || got.Cmd != c.cmd.Cmd || got.Para != c.cmd.Para || !bytes.Equal(got.Data, c.cmd.Data) {
			t.Errorf("ParseCommand(% X) = %v, %d, %v; want %v, %d, nil", want, got, n, err, c.cmd, len(want))
		}
	}
}

func TestResponseFrames(t *testing.T) {
	for _, c := range responseFrames {
		want := unhex(t, c.frame)
		if got := idcard.BuildResponse(c.resp.SW1, c.resp.SW2, c.resp.SW3, c.resp.Data); !bytes.Equal(got, want) {
			t.Errorf("%s: BuildResponse = % X; want % X", c.name, got, want)
		}
		got, n, err := idcard.ParseResponse(want)
		if err != nil || n != len(want) || got.SW3 != c.resp.SW3 || !bytes.Equal(got.Data, c.resp.Data) {
			t.Errorf("ParseResponse(% X) = %+v, %d, %v; want %+v, %d, nil", want, got, n, err, c.resp, len(want))
		}
		if err := got.ErrFor(c.cmd); !errors.Is(err, c.err) || (err == nil) != (c.err == nil) {
			t.Errorf("%s: ErrFor(%v) = %v; want %v", c.name, c.cmd, err, c.err)
		}
	}
}

func TestParseJunkPrefix(t *testing.T) {
	// The capture of DEVICES.md 1.2: a false start, then the real frame.
	ok := unhex(t, "AA AA AA 96 69 00 04 00 00 90 94")
	cases := []struct {
		name   string
		in     []byte
		junk   int
		wantOK bool
	}{
		{"AA 00 prefix", append(unhex(t, "AA 00"), ok...), 2, true},
		{"extra sync byte", append(unhex(t, "AA"), ok...), 1, true},
		{"noise", append(unhex(t, "00 FF 13 96 69 AA AA 96"), ok...), 8, true},
		{"false preamble start", append(unhex(t, "00 AA 13 AA AA 00"), ok...), 6, true},
	}
	for _, c := range cases {
		r, n, err := idcard.ParseResponse(c.in)
		if err != nil || n != len(c.in) || r.SW3 != 0x90 {
			t.Errorf("%s: ParseResponse(% X) = %+v, %d, %v; want SW3 0x90, %d, nil", c.name, c.in, r, n, err, len(c.in))
		}
		// Cut inside the real frame: the junk goes, the frame start stays.
		cut := c.in[:c.junk+8]
		if _, n, err := idcard.ParseResponse(cut); !errors.Is(err, idcard.ErrIncomplete) || n != c.junk {
			t.Errorf("%s: ParseResponse(% X) consumed %d, %v; want %d, ErrIncomplete", c.name, cut, n, err, c.junk)
		}
	}
}

func TestParseIncomplete(t *testing.T) {
	cases := []struct {
		in       string
		consumed int
	}{
		{"", 0},
		{"00 11 22", 3},
		{"AA", 0},
		{"00 AA", 1},
		{"00 AA AA", 1},
		{"01 02 AA AA AA", 2},
		{"AA AA AA 96", 0},
		{"00 AA AA AA 96", 1},
		{"AA AA 96", 3},    // not a prefix of the preamble: junk
		{"AA AA AA 69", 4}, // neither
		{"AA AA AA 96 69", 0},
		{"AA AA AA 96 69 00", 0},
		{"AA AA AA 96 69 00 04 00 00 90", 0},
		{"55 AA AA AA 96 69 00 04 00 00 90", 1},
	}
	for _, c := range cases {
		in := unhex(t, c.in)
		_, n, err := idcard.ParseResponse(in)
		if !errors.Is(err, idcard.ErrIncomplete) || n != c.consumed {
			t.Errorf("ParseResponse(% X) = %d, %v; want %d, ErrIncomplete", in, n, err, c.consumed)
		}
		_, n, err = idcard.ParseCommand(in)
		if !errors.Is(err, idcard.ErrIncomplete) || n != c.consumed {
			t.Errorf("ParseCommand(% X) = %d, %v; want %d, ErrIncomplete", in, n, err, c.consumed)
		}
	}
}

func TestParseBadFrames(t *testing.T) {
	cases := []struct {
		in   string
		want error
		resp bool // false: ParseCommand
	}{
		{"AA AA AA 96 69 00 04 00 00 90 95", idcard.ErrChecksum, true},
		{"AA AA AA 96 69 00 03 20 01 23", idcard.ErrChecksum, false},
		{"AA AA AA 96 69 00 03 00 90 93", idcard.ErrFrameLength, true}, // Len 3 is too short for SW1-3 + CHK
		{"AA AA AA 96 69 00 02 20 22", idcard.ErrFrameLength, false},
		{"AA AA AA 96 69 00 00", idcard.ErrFrameLength, true},
		{"AA AA AA 96 69 10 01", idcard.ErrFrameLength, true}, // 4097
		{"AA AA AA 96 69 FF FF", idcard.ErrFrameLength, false},
		{"00 00 AA AA AA 96 69 FF FF", idcard.ErrFrameLength, true},
	}
	for _, c := range cases {
		in := unhex(t, c.in)
		start := bytes.Index(in, []byte(idcard.Preamble))
		var n int
		var err error
		if c.resp {
			_, n, err = idcard.ParseResponse(in)
		} else {
			_, n, err = idcard.ParseCommand(in)
		}
		if !errors.Is(err, c.want) || n <= start || n > len(in) {
			t.Errorf("Parse(% X) = %d, %v; want > %d, %v", in, n, err, start, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "idcard: ") {
			t.Errorf("Parse(% X) error %q lacks the idcard: prefix", in, err)
		}
	}
}

func TestParseLengthBoundary(t *testing.T) {
	data := make([]byte, idcard.MaxLen-4)
	f := idcard.BuildResponse(0, 0, 0x90, data)
	if r, n, err := idcard.ParseResponse(f); err != nil || n != len(f) || len(r.Data) != len(data) {
		t.Errorf("ParseResponse(Len %d) = %d, %v; want %d, nil", idcard.MaxLen, n, err, len(f))
	}
	f = idcard.BuildResponse(0, 0, 0x90, append(data, 0))
	if _, _, err := idcard.ParseResponse(f); !errors.Is(err, idcard.ErrFrameLength) {
		t.Errorf("ParseResponse(Len %d) = %v; want ErrFrameLength", idcard.MaxLen+1, err)
	}
}

func TestParseDataIsCopy(t *testing.T) {
	buf := unhex(t, "AA AA AA 96 69 00 08 00 00 9F 01 02 03 04 93")
	r, _, err := idcard.ParseResponse(buf)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := idcard.ParseCommand(idcard.BuildCommand(0x61, 0xFF, []byte{0x50}))
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 0
	}
	if !bytes.Equal(r.Data, []byte{1, 2, 3, 4}) {
		t.Errorf("Response.Data = % X after the buffer was overwritten; want 01 02 03 04", r.Data)
	}
	if !bytes.Equal(c.Data, []byte{0x50}) {
		t.Errorf("Command.Data = % X; want 50", c.Data)
	}
}

// parseAll runs a Parser over chunks and returns SW3 of every good frame and the errors.
func parseAll(chunks [][]byte) (sw3s []byte, errs []error) {
	var p idcard.Parser
	for _, ch := range chunks {
		p.Feed(ch)
		for {
			r, err := p.Next()
			if errors.Is(err, idcard.ErrIncomplete) {
				break
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			sw3s = append(sw3s, r.SW3)
		}
	}
	return sw3s, errs
}

func TestParserOneByteAtATime(t *testing.T) {
	var stream []byte
	stream = append(stream, 0xAA, 0x00) // junk of the wild capture
	for _, c := range responseFrames {
		stream = append(stream, unhex(t, c.frame)...)
	}
	var chunks [][]byte
	for i := range stream {
		chunks = append(chunks, stream[i:i+1])
	}
	sw3s, errs := parseAll(chunks)
	if len(errs) != 0 {
		t.Errorf("errors: %v", errs)
	}
	if len(sw3s) != len(responseFrames) {
		t.Fatalf("got %d frames (% X); want %d", len(sw3s), sw3s, len(responseFrames))
	}
	for i, c := range responseFrames {
		if sw3s[i] != c.resp.SW3 {
			t.Errorf("frame %d SW3 = %#x; want %#x", i, sw3s[i], c.resp.SW3)
		}
	}
}

func TestParserResyncAfterCorruptFrame(t *testing.T) {
	bad := unhex(t, "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 96") // wrong CHK
	good := unhex(t, "AA AA AA 96 69 00 04 00 00 90 94")
	badLen := unhex(t, "AA AA AA 96 69 FF FF 00")
	for _, chunked := range []bool{false, true} {
		stream := append(append(append(append([]byte{}, bad...), good...), badLen...), good...)
		chunks := [][]byte{stream}
		if chunked {
			chunks = nil
			for i := 0; i < len(stream); i += 3 {
				chunks = append(chunks, stream[i:min(i+3, len(stream))])
			}
		}
		sw3s, errs := parseAll(chunks)
		if !bytes.Equal(sw3s, []byte{0x90, 0x90}) {
			t.Errorf("chunked=%v: good frames SW3 = % X; want 90 90", chunked, sw3s)
		}
		if len(errs) != 2 || !errors.Is(errs[0], idcard.ErrChecksum) || !errors.Is(errs[1], idcard.ErrFrameLength) {
			t.Errorf("chunked=%v: errors = %v; want [ErrChecksum ErrFrameLength]", chunked, errs)
		}
	}
}

func TestParserTruncatedThenNext(t *testing.T) {
	// A half answer (the simulator's truncate fault), then the next full answer: the
	// half frame's Len makes the parser wait for bytes that belong to the next frame,
	// which then fails its check; the frame after that still parses.
	full := idcard.BuildResponse(0, 0, 0x9F, []byte{0, 0, 0, 0})
	good := unhex(t, "AA AA AA 96 69 00 04 00 00 90 94")
	stream := append(append(append([]byte{}, full[:len(full)/2]...), good...), good...)
	sw3s, errs := parseAll([][]byte{stream})
	if len(sw3s) == 0 || sw3s[len(sw3s)-1] != 0x90 {
		t.Errorf("SW3s = % X, errors %v; want the last good frame", sw3s, errs)
	}
}

func TestParserBufferCap(t *testing.T) {
	var p idcard.Parser
	junk := bytes.Repeat([]byte{0x55}, 1000)
	for range 100 {
		p.Feed(junk)
	}
	if p.Buffered() > 2*idcard.MaxFrame {
		t.Errorf("Buffered() = %d after 100 KB of junk; want <= %d", p.Buffered(), 2*idcard.MaxFrame)
	}
	if p.Dropped() == 0 {
		t.Errorf("Dropped() = 0; want the junk counted")
	}
	// A frame after the flood still comes out, even split with a partial preamble at the cut.
	f := unhex(t, "AA AA AA 96 69 00 04 00 00 90 94")
	p.Feed(append(bytes.Repeat([]byte{0x55}, 9000), f[:3]...))
	p.Feed(f[3:])
	if r, err := p.Next(); err != nil || r.SW3 != 0x90 {
		t.Errorf("Next() after junk = %+v, %v; want SW3 0x90", r, err)
	}
	if _, err := p.Next(); !errors.Is(err, idcard.ErrIncomplete) {
		t.Errorf("Next() on empty parser = %v; want ErrIncomplete", err)
	}
	// A large frame fed whole right after a flood is kept.
	p.Feed(bytes.Repeat([]byte{0x55}, 8000))
	big := idcard.BuildResponse(0, 0, 0x90, make([]byte, idcard.MaxLen-4))
	p.Feed(big)
	if r, err := p.Next(); err != nil || len(r.Data) != idcard.MaxLen-4 {
		t.Errorf("Next() after a flood and a maximal frame = %d data bytes, %v; want %d, nil", len(r.Data), err, idcard.MaxLen-4)
	}
}

func TestParserReset(t *testing.T) {
	var p idcard.Parser
	p.Feed(unhex(t, "AA AA AA 96 69 00 04 00"))
	p.Reset()
	p.Feed(unhex(t, "AA AA AA 96 69 00 04 00 00 80 84"))
	if r, err := p.Next(); err != nil || r.SW3 != 0x80 {
		t.Errorf("Next() after Reset = %+v, %v; want SW3 0x80", r, err)
	}
}

// checkParse holds for any input: no panic, consumed within bounds, progress on bad
// frames, and a good frame that rebuilds to the bytes it came from.
func checkParse(t *testing.T, buf []byte, resp bool) {
	var n int
	var err error
	var rebuilt []byte
	if resp {
		var r idcard.Response
		r, n, err = idcard.ParseResponse(buf)
		rebuilt = r.Bytes()
	} else {
		var c idcard.Command
		c, n, err = idcard.ParseCommand(buf)
		rebuilt = c.Bytes()
	}
	if n < 0 || n > len(buf) {
		t.Fatalf("consumed %d of %d bytes", n, len(buf))
	}
	switch {
	case err == nil:
		if n < len(rebuilt) || !bytes.Equal(buf[n-len(rebuilt):n], rebuilt) {
			t.Fatalf("frame % X rebuilt as % X", buf[:n], rebuilt)
		}
	case errors.Is(err, idcard.ErrIncomplete):
		if rest := buf[n:]; len(rest) >= 7+idcard.MaxLen && bytes.HasPrefix(rest, []byte(idcard.Preamble)) {
			t.Fatalf("ErrIncomplete with a full frame's worth buffered")
		}
	case errors.Is(err, idcard.ErrChecksum), errors.Is(err, idcard.ErrFrameLength):
		if n <= bytes.Index(buf, []byte(idcard.Preamble)) {
			t.Fatalf("consumed %d on %v: no progress past the preamble", n, err)
		}
	default:
		t.Fatalf("unexpected error %v", err)
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, c := range responseFrames {
		f.Add(unhex(f, c.frame))
	}
	f.Add(unhex(f, "AA 00 AA AA 96 69 00 04 00 00 90 94"))
	f.Add(unhex(f, "AA AA AA 96 69 00 04 00 00 90 95 AA AA AA 96 69 00 04 00 00 90 94"))
	f.Add(unhex(f, "AA AA AA 96 69 FF FF"))
	f.Add(unhex(f, "AA AA AA"))
	f.Fuzz(func(t *testing.T, buf []byte) {
		checkParse(t, buf, true)
		// A parser fed the same bytes in two pieces must not panic or grow without bound.
		var p idcard.Parser
		p.Feed(buf[:len(buf)/2])
		p.Feed(buf[len(buf)/2:])
		for range len(buf) + 1 {
			if _, err := p.Next(); errors.Is(err, idcard.ErrIncomplete) {
				break
			}
		}
		if p.Buffered() > len(buf) {
			t.Fatalf("parser holds %d bytes of %d fed", p.Buffered(), len(buf))
		}
	})
}

func FuzzParseCommand(f *testing.F) {
	for _, c := range commandFrames {
		f.Add(unhex(f, c.frame))
	}
	f.Add(unhex(f, "00 AA AA AA 96 69 00 03 30 01 32 AA AA"))
	f.Add(unhex(f, "AA AA AA 96 69 00 02 20 22"))
	f.Fuzz(func(t *testing.T, buf []byte) {
		checkParse(t, buf, false)
	})
}

func BenchmarkParseResponse(b *testing.B) {
	data, err := idcard.EncodeBase(residentCard())
	if err != nil {
		b.Fatal(err)
	}
	frame := idcard.BuildResponse(0, 0, 0x90, data)
	if len(frame) != 1295 {
		b.Fatalf("frame is %d bytes; want 1295", len(frame))
	}
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, _, err := idcard.ParseResponse(frame); err != nil {
			b.Fatal(err)
		}
	}
}
