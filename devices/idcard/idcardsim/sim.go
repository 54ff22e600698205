// Package idcardsim is a GA 467 reader simulator on a pseudo-terminal, for tests and devsim.
//
// It answers the same frames a real SAM_V reader does, paced at the configured baud rate,
// and models a card on the antenna: a placed card is found (9F), selected and read; after a
// successful read it is no longer found until it is removed and placed again, while reads of
// the appended address (30 03) keep answering as long as it stays. Faults are injected
// through the methods below or the line protocol of ServeControl (see control.go).
package idcardsim

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/idcard"
	"github.com/hallkiosk/hallkiosk/internal/pty"
)

// Fault is an injectable misbehaviour.
type Fault string

const (
	FaultChecksum Fault = "checksum" // answer with a wrong XOR byte
	FaultReadFail Fault = "readfail" // a card read answers SW3 0x41
	FaultJunk     Fault = "junk"     // junk bytes (with a false preamble start) before the answer
	FaultGarbage  Fault = "garbage"  // random bytes instead of the answer
	FaultTruncate Fault = "truncate" // only the first half of the answer
	FaultSilence  Fault = "silence"  // no answer at all
	// FaultSAM makes the SAM fail its self-test: every command answers SW3 0x60, which
	// DEVICES.md 1.4 describes as "SAM self-test failed, cannot accept commands".
	FaultSAM Fault = "sam"
)

// Faults lists every fault kind.
var Faults = []Fault{FaultChecksum, FaultReadFail, FaultJunk, FaultGarbage, FaultTruncate, FaultSilence, FaultSAM}

type cardState int

const (
	noCard   cardState = iota
	fresh              // on the antenna, not yet read: find answers 9F
	selected           // found and selected
	halted             // read: find answers 80 until removed
)

// Config sets up a simulator.
type Config struct {
	Link  string // symlink to the pty slave that drivers open
	Baud  int    // pacing; 0 sends as fast as the pty takes it
	Cards []*idcard.Card
	Log   *slog.Logger
}

// Sim is a simulated reader.
type Sim struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	card   *idcard.Card
	state  cardState
	faults map[Fault]int // remaining count; -1 = until cleared
	plug   pty.Plug
	// Commands counts the frames received, for tests.
	commands int
	// rfFrame is the max RF frame size last set with 61 FF since the reader was plugged
	// in; 0 when it was not set.
	rfFrame int
}

// New returns a simulator; Start opens its pty.
func New(cfg Config) *Sim {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Sim{cfg: cfg, log: cfg.Log.With("sim", "idcard"), faults: map[Fault]int{}}
	s.plug = pty.Plug{Link: cfg.Link, Serve: s.serve}
	return s
}

// Start plugs the simulated reader in.
func (s *Sim) Start() error { return s.Replug() }

// Link is the path drivers open.
func (s *Sim) Link() string { return s.cfg.Link }

// Cards lists the fixture cards.
func (s *Sim) Cards() []*idcard.Card { return s.cfg.Cards }

// Place puts fixture card i on the antenna.
func (s *Sim) Place(i int) error {
	if i < 0 || i >= len(s.cfg.Cards) {
		return fmt.Errorf("idcardsim: no card %d (have %d)", i, len(s.cfg.Cards))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.card, s.state = s.cfg.Cards[i], fresh
	return nil
}

// Remove takes the card away.
func (s *Sim) Remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.card, s.state = nil, noCard
}

// Inject makes the next n answers misbehave as f (n < 0: until Clear).
func (s *Sim) Inject(f Fault, n int) error {
	known := false
	for _, k := range Faults {
		known = known || k == f
	}
	if !known {
		return fmt.Errorf("idcardsim: unknown fault %q", f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n == 0 {
		delete(s.faults, f)
	} else {
		s.faults[f] = n
	}
	return nil
}

// Clear removes every injected fault.
func (s *Sim) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[Fault]int{}
}

// Commands returns how many command frames the simulator has received.
func (s *Sim) Commands() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands
}

// Unplug closes the pty and removes the link, as pulling the USB cable does.
func (s *Sim) Unplug() error { return s.plug.Out() }

// RFFrame returns the max RF frame size the host set with 61 FF since the reader was
// plugged in, or 0.
func (s *Sim) RFFrame() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rfFrame
}

// Replug opens a new pty and points the link at it. Like a real reader powered up again,
// it forgets the 61 FF setting, and a card left on it is found again as a new placement.
func (s *Sim) Replug() error {
	// Unplug first, so no answer of the old pty runs after the power-up reset.
	if err := s.plug.Out(); err != nil {
		return err
	}
	s.mu.Lock()
	s.rfFrame = 0
	if s.card != nil {
		s.state = fresh
	}
	s.mu.Unlock()
	pair, err := s.plug.In()
	if err != nil {
		return err
	}
	s.log.Info("reader plugged in", "link", s.cfg.Link, "pty", pair.SlavePath)
	return nil
}

// Close unplugs the reader for good.
func (s *Sim) Close() error { return s.Unplug() }

func (s *Sim) serve(m *os.File) {
	var buf []byte
	rd := make([]byte, 4096)
	for {
		n, err := m.Read(rd)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) && !errors.Is(err, io.EOF) {
				s.log.Debug("pty read", "err", err)
			}
			return
		}
		buf = append(buf, rd[:n]...)
		for {
			cmd, used, err := idcard.ParseCommand(buf)
			buf = buf[used:]
			if errors.Is(err, idcard.ErrIncomplete) {
				break
			}
			if err != nil {
				// A real SAM answers a bad frame from the host with 0x10 (checksum) or 0x11 (length).
				sw3 := byte(0x11)
				if errors.Is(err, idcard.ErrChecksum) {
					sw3 = 0x10
				}
				s.write(m, idcard.BuildResponse(0, 0, sw3, nil), 10)
				continue
			}
			resp := s.answer(cmd)
			if resp != nil {
				s.write(m, resp, len(cmd.Bytes()))
			}
		}
		if len(buf) > 1<<16 {
			buf = nil
		}
	}
}

// take consumes one use of a fault if it is armed.
func (s *Sim) take(f Fault) bool {
	n := s.faults[f]
	switch {
	case n == 0:
		return false
	case n > 0:
		if n == 1 {
			delete(s.faults, f)
		} else {
			s.faults[f] = n - 1
		}
	}
	return true
}

// answer runs the reader's state machine for one command and returns the bytes to send.
func (s *Sim) answer(cmd idcard.Command) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands++
	if s.take(FaultSilence) {
		return nil
	}
	if s.take(FaultSAM) {
		return idcard.BuildResponse(0, 0, 0x60, nil)
	}
	isRead := cmd.Cmd == 0x30 && (cmd.Para == 0x01 || cmd.Para == 0x10)
	var resp []byte
	ok := func(data []byte) []byte { return idcard.BuildResponse(0, 0, 0x90, data) }
	status := func(sw3 byte) []byte { return idcard.BuildResponse(0, 0, sw3, nil) }
	switch {
	case cmd.Cmd == 0x10 && cmd.Para == 0xFF, cmd.Cmd == 0x11 && cmd.Para == 0xFF:
		resp = ok(nil)
	case cmd.Cmd == 0x12 && cmd.Para == 0xFF:
		resp = ok(samID)
	case cmd.Cmd == 0x20 && cmd.Para == 0x01:
		if s.state == fresh || s.state == selected {
			s.state = fresh
			resp = idcard.BuildResponse(0, 0, 0x9F, []byte{0, 0, 0, 0})
		} else {
			resp = status(0x80)
		}
	case cmd.Cmd == 0x20 && cmd.Para == 0x02:
		if s.state == fresh {
			s.state = selected
			resp = ok(make([]byte, 8))
		} else {
			resp = status(0x81)
		}
	case isRead:
		switch {
		case s.state != selected:
			resp = status(0x41)
		case s.take(FaultReadFail):
			// The RF exchange failed; the card is found again on the next poll.
			s.state = fresh
			resp = status(0x41)
		default:
			enc := idcard.EncodeBase
			if cmd.Para == 0x10 {
				enc = idcard.EncodeWithFingerprint
			}
			data, err := enc(s.card)
			if err != nil {
				s.log.Error("fixture card does not encode", "err", err)
				resp = status(0x41)
				break
			}
			s.state = halted
			resp = ok(data)
		}
	case cmd.Cmd == 0x30 && cmd.Para == 0x03:
		switch {
		case s.state != halted:
			resp = status(0x41)
		case s.card.AppendedAddress == "":
			resp = status(0x91)
		default:
			resp = ok(encodeUCS2(s.card.AppendedAddress, 70))
		}
	case cmd.Cmd == 0x60 && cmd.Para <= 0x04:
		resp = ok(nil)
	case cmd.Cmd == 0x61 && cmd.Para == 0xFF:
		// 61 FF carries exactly one data byte, the size (DEVICES.md 1.3).
		if len(cmd.Data) != 1 || cmd.Data[0] == 0 {
			resp = status(0x21)
			break
		}
		s.rfFrame = int(cmd.Data[0])
		resp = ok(nil)
	default:
		resp = status(0x21)
	}
	switch {
	case s.take(FaultChecksum):
		resp[len(resp)-1] ^= 0x5A
	case s.take(FaultGarbage):
		resp = make([]byte, 64)
		rand.Read(resp)
		resp[0] = 0x00 // never a preamble start
	case s.take(FaultTruncate):
		resp = resp[:len(resp)/2]
	case s.take(FaultJunk):
		resp = append([]byte{0x00, 0xAA, 0x13, 0xAA, 0xAA, 0x00}, resp...)
	}
	return resp
}

// samID is a fixed fictitious SAM management number (16 bytes).
var samID = []byte{0x05, 0x00, 0x01, 0x00, 0x40, 0xE2, 0x01, 0x00, 0x15, 0xCD, 0x5B, 0x07, 0xB1, 0x68, 0xDE, 0x3A}

func encodeUCS2(s string, size int) []byte {
	out := make([]byte, 0, size)
	for _, r := range s {
		if len(out)+2 > size {
			break
		}
		out = append(out, byte(r), byte(r>>8))
	}
	for len(out)+2 <= size {
		out = append(out, 0x20, 0x00)
	}
	return out
}

// write sends b to the host as a UART at the configured baud would: the command of cmdLen
// bytes takes its wire time to arrive, then the answer leaves byte after byte.
func (s *Sim) write(m *os.File, b []byte, cmdLen int) {
	if s.cfg.Baud <= 0 {
		m.Write(b)
		return
	}
	perByte := time.Second * 10 / time.Duration(s.cfg.Baud) // 8N1: ten bits a byte
	start := time.Now().Add(time.Duration(cmdLen) * perByte)
	time.Sleep(time.Until(start))
	chunk := max(1, s.cfg.Baud/10/1000) // about a millisecond of bytes per write
	for off := 0; off < len(b); off += chunk {
		end := min(off+chunk, len(b))
		if _, err := m.Write(b[off:end]); err != nil {
			return
		}
		time.Sleep(time.Until(start.Add(time.Duration(end) * perByte)))
	}
}
