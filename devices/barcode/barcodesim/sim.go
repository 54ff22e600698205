// Package barcodesim is a serial barcode/QR scanner simulator on a pseudo-terminal, for
// tests and devsim.
//
// It sends scanned codes followed by the configured suffix (CR, LF, CRLF or none, as a
// real scanner's suffix setting) and records the trigger commands the host sends it,
// answering them as the model does (DEVICES.md 4): a Newland scanner echoes the command
// between STX SOH "0000" and ACK ";" ETX, a Zebra SSI scanner sends CMD_ACK; a Honeywell
// scanner answers nothing.
// Codes are put on the line through the methods below or the line protocol of
// ServeControl (see control.go).
package barcodesim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/hallkiosk/hallkiosk/devices/barcode"
	"github.com/hallkiosk/hallkiosk/internal/pty"
)

// Suffix is what the scanner appends to every code: the driver's setting of the same name.
type Suffix = barcode.Suffix

// Suffixes a scanner can be set to send.
const (
	SuffixCR   = barcode.SuffixCR
	SuffixLF   = barcode.SuffixLF
	SuffixCRLF = barcode.SuffixCRLF
	SuffixNone = barcode.SuffixNone
)

// Config sets up a simulator.
type Config struct {
	Link   string // symlink to the pty slave that drivers open
	Suffix Suffix // default CR, the factory setting of most scanners
	Log    *slog.Logger
}

// Sim is a simulated scanner.
type Sim struct {
	cfg Config
	log *slog.Logger

	plug pty.Plug

	mu       sync.Mutex
	suffix   Suffix
	received []byte   // bytes from the host not yet matched as a command
	triggers []string // recognised trigger commands, e.g. "honeywell:on"
	replies  [][]byte // answers to commands, not yet written
	scans    int
}

// New returns a simulator; Start opens its pty.
func New(cfg Config) *Sim {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Suffix == "" {
		cfg.Suffix = SuffixCR
	}
	s := &Sim{cfg: cfg, log: cfg.Log.With("sim", "barcode"), suffix: cfg.Suffix}
	s.plug = pty.Plug{Link: cfg.Link, Serve: s.serve}
	return s
}

// Start plugs the simulated scanner in.
func (s *Sim) Start() error { return s.Replug() }

// Link is the path drivers open.
func (s *Sim) Link() string { return s.cfg.Link }

// SetSuffix changes the suffix sent after each code.
func (s *Sim) SetSuffix(x Suffix) error {
	if _, err := x.Bytes(); err != nil {
		return fmt.Errorf("barcodesim: unknown suffix %q (want cr, lf, crlf or none)", string(x))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suffix = x
	return nil
}

// Scan sends text followed by the suffix, as a scanner does after a good read.
func (s *Sim) Scan(text string) error {
	s.mu.Lock()
	suf, _ := s.suffix.Bytes()
	s.mu.Unlock()
	return s.Send(append([]byte(text), suf...))
}

// Send puts raw bytes on the line (no suffix added), for malformed payloads.
func (s *Sim) Send(b []byte) error {
	s.mu.Lock()
	m := s.plug.Master()
	s.scans++
	s.mu.Unlock()
	if m == nil {
		return errors.New("barcodesim: unplugged")
	}
	// Written outside the lock: a full pty buffer must not stall serve.
	_, err := m.Write(b)
	return err
}

// Triggers lists the trigger commands received so far ("honeywell:on", "zebra-ssi:off"...).
func (s *Sim) Triggers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.triggers...)
}

// Unplug closes the pty and removes the link, as pulling the USB cable does.
func (s *Sim) Unplug() error { return s.plug.Out() }

// Replug opens a new pty and points the link at it.
func (s *Sim) Replug() error {
	pair, err := s.plug.In()
	if err != nil {
		return err
	}
	s.log.Info("scanner plugged in", "link", s.cfg.Link, "pty", pair.SlavePath)
	return nil
}

// Close unplugs the scanner for good.
func (s *Sim) Close() error { return s.Unplug() }

// commands are the trigger frames the simulator recognises.
var commands = func() map[string][]byte {
	m := map[string][]byte{}
	for _, model := range barcode.Models {
		if on := barcode.TriggerOn(model); on != nil {
			m[string(model)+":on"] = on
		}
		if off := barcode.TriggerOff(model); off != nil {
			m[string(model)+":off"] = off
		}
	}
	return m
}()

func (s *Sim) serve(m *os.File) {
	rd := make([]byte, 1024)
	for {
		n, err := m.Read(rd)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) && !errors.Is(err, io.EOF) {
				s.log.Debug("pty read", "err", err)
			}
			return
		}
		s.mu.Lock()
		s.received = append(s.received, rd[:n]...)
		s.match()
		replies := s.replies
		s.replies = nil
		s.mu.Unlock()
		for _, r := range replies {
			if _, err := m.Write(r); err != nil {
				s.log.Debug("pty write", "err", err)
			}
		}
	}
}

// reply is the model's answer to a command it accepted, or nil: Newland echoes the
// command between STX SOH "0000" and ACK ";" ETX (NLS-HR52 manual p. 35); a Zebra SSI
// scanner answers CMD_ACK from the decoder (source 00). Honeywell's trigger has no answer.
func reply(cmd []byte) []byte {
	switch {
	case bytes.HasPrefix(cmd, []byte{0x7E, 0x01, '0', '0', '0', '0'}):
		echo := bytes.TrimSuffix(cmd[6:], []byte{';', 0x03})
		b := append([]byte{0x02, 0x01, '0', '0', '0', '0'}, echo...)
		return append(b, 0x06, ';', 0x03)
	case len(cmd) > 2 && cmd[2] == 0x04 && (cmd[1] == barcode.SSIStartDecode || cmd[1] == barcode.SSIStopDecode):
		p := barcode.SSIPacket(barcode.SSICmdAck, nil)
		p[2] = 0x00 // from the decoder
		var sum uint16
		for _, c := range p[:4] {
			sum += uint16(c)
		}
		sum = -sum
		p[4], p[5] = byte(sum>>8), byte(sum)
		return p
	}
	return nil
}

// match moves every complete known command from received to triggers. Bytes that cannot
// start a known command are dropped, as a scanner ignores noise.
func (s *Sim) match() {
	for len(s.received) > 0 {
		prefix := false
		found := ""
		for name, cmd := range commands {
			switch {
			case bytes.HasPrefix(s.received, cmd):
				found = name
			case bytes.HasPrefix(cmd, s.received):
				prefix = true
			}
		}
		switch {
		case found != "":
			s.triggers = append(s.triggers, found)
			s.received = s.received[len(commands[found]):]
			s.log.Debug("trigger command", "command", found)
			if r := reply(commands[found]); r != nil {
				s.replies = append(s.replies, r)
			}
		case prefix:
			return // wait for the rest
		default:
			s.received = s.received[1:]
		}
	}
}
