package barcode

import (
	"bytes"
	"fmt"
	"testing"
)

// Frames from DEVICES.md 4: a Newland reply is 02 01 "0000" ... 06 3B 03; a Zebra
// scanner's CMD_ACK is an SSI packet with opcode D0 from the decoder (source 00).
var (
	newlandACK = append(append([]byte{0x02, 0x01, '0', '0', '0', '0'}, "#SCNTRG1"...), 0x06, ';', 0x03)
	newlandNAK = append(append([]byte{0x02, 0x01, '0', '0', '0', '0'}, "#SCNTRG9"...), 0x15, ';', 0x03)
	newlandTwo = append(append(append(append([]byte{0x02, 0x01, '0', '0', '0', '0'}, "@SCNMOD0"...), 0x06, ';'), "#SCNTRG1"...), 0x06, ';', 0x03)
	ssiACK     = []byte{0x04, 0xD0, 0x00, 0x00, 0xFF, 0x2C}
	ssiHostACK = []byte{0x04, 0xD0, 0x04, 0x00, 0xFF, 0x28} // DEVICES.md's CMD_ACK frame, source host
	ssiNAK     = []byte{0x05, 0xD1, 0x00, 0x00, 0x01, 0xFF, 0x29}
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestSSIReplyChecksums(t *testing.T) {
	for _, p := range [][]byte{ssiACK, ssiHostACK, ssiNAK} {
		var sum uint16
		for _, c := range p[:len(p)-2] {
			sum += uint16(c)
		}
		if sum+(uint16(p[len(p)-2])<<8|uint16(p[len(p)-1])) != 0 {
			t.Errorf("% X: checksum does not make the sum zero", p)
		}
	}
	if got := SSIPacket(SSICmdAck, nil); !bytes.Equal(got, ssiHostACK) {
		t.Errorf("SSIPacket(CMD_ACK) = % X; want % X", got, ssiHostACK)
	}
}

func TestReplyFilter(t *testing.T) {
	cases := []struct {
		name    string
		model   Model
		reads   [][]byte
		data    string
		replies string
		held    bool
	}{
		{"newland ack then code", ModelNewland, [][]byte{cat(newlandACK, []byte("CODE\r"))}, "CODE\r", "[newland:ok]", false},
		{"newland nak", ModelNewland, [][]byte{newlandNAK}, "", "[newland:refused]", false},
		{"newland two commands", ModelNewland, [][]byte{newlandTwo}, "", "[newland:ok]", false},
		{"newland reply in pieces", ModelNewland, [][]byte{newlandACK[:3], newlandACK[3:9], cat(newlandACK[9:], []byte("X\r"))}, "X\r", "[newland:ok]", false},
		{"newland reply inside a code", ModelNewland, [][]byte{cat([]byte("AB"), newlandACK, []byte("C\r"))}, "ABC\r", "[newland:ok]", false},
		{"newland partial held", ModelNewland, [][]byte{newlandACK[:8]}, "", "[]", true},
		{"newland stx not a reply", ModelNewland, [][]byte{[]byte("A\x02B\r")}, "A\x02B\r", "[]", false},
		{"newland no status", ModelNewland, [][]byte{cat(newlandACK[:14], []byte{';', 0x03})}, string(cat(newlandACK[:14], []byte{';', 0x03})), "[]", false},
		{"newland status not before ;", ModelNewland, [][]byte{cat(newlandACK[:14], []byte{0x06, 'X', ';', 0x03})}, string(cat(newlandACK[:14], []byte{0x06, 'X', ';', 0x03})), "[]", false},
		{"ssi ack then code", ModelZebraSSI, [][]byte{cat(ssiACK, []byte("6901234567892\r"))}, "6901234567892\r", "[zebra-ssi:ok]", false},
		{"ssi host-source ack", ModelZebraSSI, [][]byte{ssiHostACK}, "", "[zebra-ssi:ok]", false},
		{"ssi nak with cause", ModelZebraSSI, [][]byte{ssiNAK}, "", "[zebra-ssi:refused]", false},
		{"ssi ack split", ModelZebraSSI, [][]byte{ssiACK[:1], ssiACK[1:5], cat(ssiACK[5:], []byte("Q\r"))}, "Q\r", "[zebra-ssi:ok]", false},
		{"ssi bad checksum", ModelZebraSSI, [][]byte{{0x04, 0xD0, 0x00, 0x00, 0xFF, 0x2D}}, "\x04\xd0\x00\x00\xff\x2d", "[]", false},
		{"ssi other opcode", ModelZebraSSI, [][]byte{{0x04, 0xF3, 0x00, 0x00, 0xFF, 0x09, 'A', '\r'}}, "\x04\xf3\x00\x00\xff\x09A\r", "[]", false},
		{"ssi len byte then text", ModelZebraSSI, [][]byte{{0x04}, []byte("CODE\r")}, "\x04CODE\r", "[]", false},
		{"ssi partial held", ModelZebraSSI, [][]byte{ssiACK[:4]}, "", "[]", true},
		{"newland frame passes a zebra filter", ModelZebraSSI, [][]byte{newlandACK}, string(newlandACK), "[]", false},
		{"honeywell passes all", ModelHoneywell, [][]byte{cat(ssiACK, newlandACK)}, string(cat(ssiACK, newlandACK)), "[]", false},
		{"generic passes all", ModelGeneric, [][]byte{ssiACK}, string(ssiACK), "[]", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rf := ReplyFilter{Model: c.model}
			var data []byte
			var reps []string
			for _, rd := range c.reads {
				d, rs := rf.Feed(rd)
				data = append(data, d...)
				for _, r := range rs {
					st := "ok"
					if !r.OK {
						st = "refused"
					}
					reps = append(reps, string(r.Model)+":"+st)
				}
			}
			if rf.Pending() != c.held {
				t.Errorf("Pending() = %v; want %v", rf.Pending(), c.held)
			}
			if string(data) != c.data || fmt.Sprint(reps) != c.replies {
				t.Errorf("Feed(% X) = %q, %v; want %q, %s", c.reads, data, reps, c.data, c.replies)
			}
		})
	}
}

// A reply held when the read times out goes to the framer: it was not a reply.
func TestReplyFilterFlush(t *testing.T) {
	rf := ReplyFilter{Model: ModelZebraSSI}
	if d, rs := rf.Feed(ssiACK[:3]); len(d) != 0 || len(rs) != 0 {
		t.Fatalf("Feed(partial ACK) = % X, %v; want everything held", d, rs)
	}
	if got := rf.Flush(); !bytes.Equal(got, ssiACK[:3]) || rf.Pending() {
		t.Errorf("Flush() = % X (pending %v); want % X", got, rf.Pending(), ssiACK[:3])
	}
}

func FuzzReplyFilter(f *testing.F) {
	f.Add(cat(newlandACK, []byte("CODE\r")), uint8(3), false)
	f.Add(cat([]byte("AB"), newlandTwo, newlandNAK), uint8(1), false)
	f.Add(cat(ssiACK, []byte("X\r"), ssiNAK), uint8(2), true)
	f.Add([]byte{0x05, 0xD1, 0x04, 0x00, 0x02, 0x04, 0xD0}, uint8(0), true)
	f.Fuzz(func(t *testing.T, in []byte, split uint8, zebra bool) {
		model := ModelNewland
		if zebra {
			model = ModelZebraSSI
		}
		step := int(split)%7 + 1
		rf := ReplyFilter{Model: model}
		var data []byte
		taken := 0
		for i := 0; i < len(in); i += step {
			d, rs := rf.Feed(in[i:min(i+step, len(in))])
			data = append(data, d...)
			for _, r := range rs {
				if r.Model != model || r.Len < 6 {
					t.Fatalf("reply %+v from a %s filter", r, model)
				}
				taken += r.Len
			}
		}
		data = append(data, rf.Flush()...)
		if len(data)+taken != len(in) {
			t.Fatalf("%d data + %d reply bytes from %d input bytes", len(data), taken, len(in))
		}
		// Codes are never touched: what is not a reply stays in order.
		if taken == 0 && !bytes.Equal(data, in) {
			t.Fatalf("no reply, but data % X differs from the input % X", data, in)
		}
		// Printable text has no reply in it and passes whole.
		text := bytes.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return 'x'
			}
			return r
		}, in)
		rf2 := ReplyFilter{Model: model}
		d, rs := rf2.Feed(text)
		if len(rs) != 0 || !bytes.Equal(d, text) || rf2.Pending() {
			t.Fatalf("printable input % X changed: % X, %v", text, d, rs)
		}
	})
}
