package idcard

import (
	"encoding/binary"
	"fmt"
)

// SAMIDSize is the length of the data of a 12 FF (read SAM ID) answer.
const SAMIDSize = 16

// FormatSAMID formats the data of a 12 FF answer the way HslCommunication's
// SAMSerial.ExtractSafeModuleNumber does (DEVICES.md 1.8):
//
//	D2(b[0]) "." D2(b[2]) "-" uint32LE(b[4:]) "-" uint32LE(b[8:]) as D9 "-" uint32LE(b[12:]) as D9
//
// HslCommunication reads the three numbers as signed Int32; they are read unsigned here
// so that a value with its top bit set cannot put a second '-' into the dashed format.
// Bytes beyond the 16 are ignored: the answer's size is not confirmed on real readers.
func FormatSAMID(data []byte) (string, error) {
	if len(data) < SAMIDSize {
		return "", fmt.Errorf("idcard: SAM id is %d bytes, want %d", len(data), SAMIDSize)
	}
	le := binary.LittleEndian
	return fmt.Sprintf("%02d.%02d-%d-%09d-%09d", data[0], data[2],
		le.Uint32(data[4:]), le.Uint32(data[8:]), le.Uint32(data[12:])), nil
}
