package escpossim

import (
	"bytes"
	"testing"
)

func TestStatusOnlyKeepsRequestsAcrossReads(t *testing.T) {
	stream := []byte{0x1B, 0x40, 'A', 0x10, 0x04, 0x01, 0x1C, 0x26, 0xB2, 0xBB, 0x1D, 0x72, 0x01, 'x', 0x1B, 0x76, 0x10, 0x04, 0x04}
	want := []byte{0x10, 0x04, 0x01, 0x1D, 0x72, 0x01, 0x1B, 0x76, 0x10, 0x04, 0x04}
	for size := 1; size <= len(stream); size++ {
		var got, carry []byte
		for off := 0; off < len(stream); off += size {
			var kept []byte
			kept, carry = statusOnly(append(carry, stream[off:min(off+size, len(stream))]...))
			got = append(got, kept...)
		}
		if !bytes.Equal(got, want) || len(carry) != 0 {
			t.Errorf("statusOnly in %d-byte reads = % x (carry % x); want % x", size, got, carry, want)
		}
	}
}
