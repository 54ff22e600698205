package barcode

import "fmt"

// Model selects a scanner's serial command set.
type Model string

const (
	ModelGeneric   Model = "generic" // no host trigger: the scanner reads on its own button or presence sensing
	ModelHoneywell Model = "honeywell"
	ModelNewland   Model = "newland"
	ModelZebraSSI  Model = "zebra-ssi"
)

// Models lists every known model.
var Models = []Model{ModelGeneric, ModelHoneywell, ModelNewland, ModelZebraSSI}

// ParseModel checks a configured model name; "" means generic.
func ParseModel(s string) (Model, error) {
	if s == "" {
		return ModelGeneric, nil
	}
	for _, m := range Models {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("barcode: unknown scanner model %q (want generic, honeywell, newland or zebra-ssi)", s)
}

// SSI opcodes used here (DEVICES.md 4).
const (
	SSIStartDecode byte = 0xE4
	SSIStopDecode  byte = 0xE5
	SSIScanEnable  byte = 0xE9
	SSIScanDisable byte = 0xEA
	SSICmdAck      byte = 0xD0
	SSICmdNak      byte = 0xD1
	SSIRequestRev  byte = 0xA3
)

// SSIPacket builds a Zebra SSI packet from the host: Len, Opcode, Source 04 (host),
// Status 00, Data, then a big-endian checksum that is 0x10000 minus the sum of every byte
// before it. Len counts the packet without the checksum.
func SSIPacket(opcode byte, data []byte) []byte {
	p := make([]byte, 0, 4+len(data)+2)
	p = append(p, byte(4+len(data)), opcode, 0x04, 0x00)
	p = append(p, data...)
	var sum uint16
	for _, b := range p {
		sum += uint16(b)
	}
	chk := -sum // 0x10000 - sum, in 16 bits
	return append(p, byte(chk>>8), byte(chk))
}

// newlandCmd wraps a Newland setting command in its serial frame: "~<SOH>0000" + cmd + ";<ETX>".
func newlandCmd(cmd string) []byte {
	b := []byte{0x7E, 0x01, '0', '0', '0', '0'}
	b = append(b, cmd...)
	return append(b, ';', 0x03)
}

// TriggerOn returns the bytes that start a read on model m, or nil when the model has no
// host trigger. The scanner must be configured for a host/serial trigger mode.
func TriggerOn(m Model) []byte {
	switch m {
	case ModelHoneywell:
		return []byte{0x16, 'T', 0x0D}
	case ModelNewland:
		return newlandCmd("#SCNTRG1")
	case ModelZebraSSI:
		return SSIPacket(SSIStartDecode, nil)
	}
	return nil
}

// TriggerOff returns the bytes that stop a read on model m, or nil.
func TriggerOff(m Model) []byte {
	switch m {
	case ModelHoneywell:
		return []byte{0x16, 'U', 0x0D}
	case ModelNewland:
		return newlandCmd("#SCNTRG0")
	case ModelZebraSSI:
		return SSIPacket(SSIStopDecode, nil)
	}
	return nil
}
