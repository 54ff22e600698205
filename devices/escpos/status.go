package escpos

import (
	"errors"
	"fmt"
)

// Status is the printer state read with DLE EOT 1..4 (DEVICES.md 3.3).
type Status struct {
	Online     bool // DLE EOT 1 bit 3 clear
	Offline    bool // DLE EOT 1 bit 3
	FeedButton bool // DLE EOT 1 bit 6: paper-feed button pressed
	CoverOpen  bool // DLE EOT 2 bit 2

	// PaperEndStop: printing stopped because the paper ran out (DLE EOT 2 bit 5).
	PaperEndStop  bool
	ErrorOccurred bool // DLE EOT 2 bit 6

	CutterError     bool // DLE EOT 3 bit 3
	Unrecoverable   bool // DLE EOT 3 bit 5
	AutoRecoverable bool // DLE EOT 3 bit 6: head or motor temperature and the like

	PaperNearEnd bool // DLE EOT 4 bit 2 or 3 (both on Epson: 0x0C)
	PaperOut     bool // DLE EOT 4 bit 5 or 6 (both on Epson: 0x60)
}

// ErrBadStatusByte: the byte read is not a status answer, e.g. a stale byte or line noise.
var ErrBadStatusByte = errors.New("escpos: status byte fails the (b & 0x93) == 0x12 check")

// ErrBadStatusRequest: n is not 1..4.
var ErrBadStatusRequest = errors.New("escpos: status request n not 1..4")

// DecodeStatus decodes b, the answer to DLE EOT n, into the fields of into that n reports;
// other fields are left alone. Every answer has bits 1 and 4 set and bits 0 and 7 clear;
// a byte that fails this check changes nothing and returns ErrBadStatusByte.
//
// DEVICES.md gives the sensor pairs as both bits set; a bit of either pair alone is taken
// as set, because a kiosk that warns about paper once too often loses less than one that
// does not warn.
func DecodeStatus(n byte, b byte, into *Status) error {
	if n < 1 || n > 4 {
		return fmt.Errorf("%w: %d", ErrBadStatusRequest, n)
	}
	if b&0x93 != 0x12 {
		return fmt.Errorf("%w: DLE EOT %d answered %#02x", ErrBadStatusByte, n, b)
	}
	bit := func(i uint) bool { return b&(1<<i) != 0 }
	switch n {
	case 1:
		into.Offline = bit(3)
		into.Online = !into.Offline
		into.FeedButton = bit(6)
	case 2:
		into.CoverOpen = bit(2)
		into.PaperEndStop = bit(5)
		into.ErrorOccurred = bit(6)
	case 3:
		into.CutterError = bit(3)
		into.Unrecoverable = bit(5)
		into.AutoRecoverable = bit(6)
	case 4:
		into.PaperNearEnd = b&0x0C != 0
		into.PaperOut = b&0x60 != 0
	}
	return nil
}

// DecodeAll decodes the answers to DLE EOT 1, 2, 3 and 4, in that order.
func DecodeAll(b [4]byte) (Status, error) {
	var s Status
	for i, v := range b {
		if err := DecodeStatus(byte(i+1), v, &s); err != nil {
			return Status{}, err
		}
	}
	return s, nil
}

// Faults returns the health codes the status shows, in the order of the health codes:
// offline, cover open, paper out, paper low, cutter error, unrecoverable. Paper low is
// left out when the paper is out; an auto-recoverable error alone is not a fault (it
// clears by itself and shows as offline while it lasts).
func (s Status) Faults() []string {
	var f []string
	if s.Offline {
		f = append(f, CodeOffline)
	}
	if s.CoverOpen {
		f = append(f, CodeCoverOpen)
	}
	out := s.PaperOut || s.PaperEndStop
	if out {
		f = append(f, CodePaperOut)
	}
	if s.PaperNearEnd && !out {
		f = append(f, CodePaperLow)
	}
	if s.CutterError {
		f = append(f, CodeCutterError)
	}
	if s.Unrecoverable {
		f = append(f, CodeFault)
	}
	return f
}
