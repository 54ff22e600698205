// Package barcodesim is a serial barcode/QR scanner simulator on a pseudo-terminal, for
// tests and devsim.
//
// It sends scanned codes followed by the configured suffix (CR, LF, CRLF or none, as a
// real scanner's suffix setting) and records the trigger commands the host sends it.
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

// Suffix is what the scanner appends to every code.
type Suffix string

const (
	SuffixCR   Suffix = "cr"
	SuffixLF   Suffix = "lf"
	SuffixCRLF Suffix = "crlf"
	SuffixNone Suffix = "none"
)

// Bytes returns the suffix bytes.
func (s Suffix) Bytes() ([]byte, error) {
	switch s {
	case SuffixCR, "":
		return []byte{'\r'}, nil
	case SuffixLF:
		return []byte{'\n'}, nil
	case SuffixCRLF:
		return []byte{'\r', '\n'}, nil
	case SuffixNone:
		return nil, nil
	}
	return nil, fmt.Errorf("barcodesim: unknown suffix %q (want cr, lf, crlf or none)", string(s))
}

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
		return err
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
		s.mu.Unlock()
	}
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
		case prefix:
			return // wait for the rest
		default:
			s.received = s.received[1:]
		}
	}
}
