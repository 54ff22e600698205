package idcard

import "fmt"

// SW3 values that mean success.
const (
	SW3OK        = 0x90 // 操作成功
	SW3FoundCard = 0x9F // 寻找证/卡成功, the answer to a successful find
)

// StatusError is a SAM answer whose SW3 reports a failure, or a success code other than
// the one the command succeeds with. Sentinels such as ErrNoCard are StatusErrors too,
// and errors.Is matches any StatusError with the same SW3, so
// errors.Is(r.ErrFor(CmdFind), ErrNoCard) works and errors.As gives the code of unlisted
// failures.
type StatusError struct{ SW3 byte }

func (e *StatusError) Error() string {
	if e.SW3 == SW3OK || e.SW3 == SW3FoundCard {
		return fmt.Sprintf("idcard: unexpected %q answer (sw3=0x%02X)", StatusText(e.SW3), e.SW3)
	}
	return fmt.Sprintf("idcard: %s (sw3=0x%02X)", StatusText(e.SW3), e.SW3)
}

// Is reports whether target is a StatusError with the same SW3.
func (e *StatusError) Is(target error) bool {
	t, ok := target.(*StatusError)
	return ok && t != nil && t.SW3 == e.SW3
}

// The SW3 failure codes of DEVICES.md 1.4 (libsamv.h, HslCommunication SAMSerial.cs,
// softs.im protocol sheet).
var (
	ErrHostChecksum     error = &StatusError{0x10} // the SAM saw a bad XOR in our frame
	ErrHostLength       error = &StatusError{0x11} // the SAM saw a bad Len in our frame
	ErrCommand          error = &StatusError{0x21}
	ErrUnauthorised     error = &StatusError{0x23}
	ErrUnknown          error = &StatusError{0x24}
	ErrCardAuthSAM      error = &StatusError{0x31}
	ErrSAMAuthCard      error = &StatusError{0x32}
	ErrVerify           error = &StatusError{0x33}
	ErrCardType         error = &StatusError{0x40}
	ErrReadFailed       error = &StatusError{0x41}
	ErrRandom           error = &StatusError{0x47}
	ErrSAMSelfTest      error = &StatusError{0x60}
	ErrSAMNotAuthorised error = &StatusError{0x66}
	ErrNoCard           error = &StatusError{0x80} // also the normal answer to find with no card
	ErrSelectFailed     error = &StatusError{0x81}
	ErrNoContent        error = &StatusError{0x91} // e.g. no appended address on the card
)

var statusText = map[byte]string{
	0x90: "success",
	0x9F: "card found",
	0x91: "no such item on the card",
	0x10: "checksum error in the frame from the host",
	0x11: "length error in the frame from the host",
	0x21: "command error",
	0x23: "unauthorised operation",
	0x24: "unrecognised error",
	0x31: "card failed to authenticate the SAM",
	0x32: "SAM failed to authenticate the card",
	0x33: "information verification error",
	0x40: "unrecognised card type",
	0x41: "card read failed",
	0x47: "get random number failed",
	0x60: "SAM self-test failed",
	0x66: "SAM not authorised",
	0x80: "no card found",
	0x81: "card select failed",
	// Only libsamv.h lists 0xFF, as its own communication fault; kept so the message
	// reads well if a reader sends it.
	0xFF: "communication fault",
}

// StatusText describes an SW3 value in English.
func StatusText(sw3 byte) string {
	if s, ok := statusText[sw3]; ok {
		return s
	}
	return "unknown status"
}

// Success returns the SW3 with which cmd succeeds (DEVICES.md 1.3, 1.4): 0x9F (card
// found) for find card, 0x90 for every other command.
func (c Command) Success() byte {
	if c.Cmd == CmdFind.Cmd && c.Para == CmdFind.Para {
		return SW3FoundCard
	}
	return SW3OK
}

// ErrFor returns nil when r is the success answer to cmd, otherwise a *StatusError: a
// failure code, or a success code that cmd does not answer with (0x9F to anything but
// find, 0x90 to find), which means the reader and the driver disagree about the exchange.
func (r Response) ErrFor(cmd Command) error {
	if r.SW3 == cmd.Success() {
		return nil
	}
	return &StatusError{r.SW3}
}
