package barcode

import (
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The frames are the ones in DEVICES.md section 4.
func TestTriggerBytes(t *testing.T) {
	cases := []struct {
		m       Model
		on, off string
	}{
		{ModelHoneywell, "16 54 0D", "16 55 0D"},
		{ModelNewland, "7E 01 30 30 30 30 23 53 43 4E 54 52 47 31 3B 03", "7E 01 30 30 30 30 23 53 43 4E 54 52 47 30 3B 03"},
		{ModelZebraSSI, "04 E4 04 00 FF 14", "04 E5 04 00 FF 13"},
		{ModelGeneric, "", ""},
	}
	for _, c := range cases {
		if got, want := TriggerOn(c.m), unhex(t, c.on); string(got) != string(want) {
			t.Errorf("TriggerOn(%s) = % X; want % X", c.m, got, want)
		}
		if got, want := TriggerOff(c.m), unhex(t, c.off); string(got) != string(want) {
			t.Errorf("TriggerOff(%s) = % X; want % X", c.m, got, want)
		}
	}
}

func TestSSIPacket(t *testing.T) {
	cases := []struct {
		op   byte
		want string
	}{
		{SSIStartDecode, "04 E4 04 00 FF 14"},
		{SSIStopDecode, "04 E5 04 00 FF 13"},
		{SSIScanEnable, "04 E9 04 00 FF 0F"},
		{SSIScanDisable, "04 EA 04 00 FF 0E"},
		{SSICmdAck, "04 D0 04 00 FF 28"},
		{SSIRequestRev, "04 A3 04 00 FF 55"},
	}
	for _, c := range cases {
		if got, want := SSIPacket(c.op, nil), unhex(t, c.want); string(got) != string(want) {
			t.Errorf("SSIPacket(%02X) = % X; want % X", c.op, got, want)
		}
	}
	// With data, the checksum still makes the 16-bit sum of the whole packet zero.
	p := SSIPacket(0xC6, []byte{0x08, 0x00, 0xF0, 0x01})
	var sum uint16
	for _, b := range p[:len(p)-2] {
		sum += uint16(b)
	}
	sum += uint16(p[len(p)-2])<<8 | uint16(p[len(p)-1])
	if p[0] != 8 || sum != 0 {
		t.Errorf("SSIPacket(C6, 4 bytes) = % X: len %d, sum+checksum %#x; want len 8, 0", p, p[0], sum)
	}
}
