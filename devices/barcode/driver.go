package barcode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

// Health codes of a scanner.
const (
	CodeReady    = "scanner.ready"
	CodeNoDevice = "scanner.no_device" // the port cannot be opened or vanished
)

var (
	// ErrNotConnected is returned by Trigger while the port is not open.
	ErrNotConnected = errors.New("barcode: scanner not connected")
	// ErrNoTrigger is returned by Trigger for a model without a host trigger command.
	ErrNoTrigger = errors.New("barcode: scanner model has no host trigger")
)

// Event is what a Scanner emits.
type Event interface{ barcodeEvent() }

// CodeScanned is one valid code.
type CodeScanned struct {
	Text      string
	Symbology string // "" unless StripAIM is set and the scanner sends AIM prefixes
}

func (CodeScanned) barcodeEvent() {}

// Config is a scanner's settings.
type Config struct {
	Name        string // component name in health and logs (default "scanner")
	Port        string
	Baud        int           // default 9600
	ReadTimeout time.Duration // serial read timeout; also how soon an unterminated code ends (default 100 ms)
	Model       Model         // command set for Trigger; "" = generic
	MaxLen      int           // longest accepted code in bytes (default 512)
	// Suffix the scanner is set to send after each code (default SuffixCR). Only it ends a
	// code, besides the gap, so a QR code may hold the other line breaks.
	Suffix   Suffix
	StripAIM bool // the scanner sends AIM symbology prefixes; strip and report them
	// RetryCap caps the delay between attempts to reopen a vanished port (default 1 s).
	RetryCap time.Duration
}

// Opener opens the scanner's transport.
type Opener func() (devices.Port, error)

// Scanner reads codes from a serial (or USB CDC) barcode/QR scanner.
type Scanner struct {
	cfg    Config
	open   Opener
	health health.Reporter
	log    *slog.Logger
	clock  clock.Clock
	events chan Event

	codes, tooLong, controlChar, invalidUTF8, empty, dropped, replies, refused atomic.Int64

	mu   sync.Mutex
	port devices.Port // the open port, for Trigger; nil between sessions

	// rejection log rate limit; only touched by Run's goroutine
	lastRejectLog time.Time
	suppressed    int
}

var _ devices.Device = (*Scanner)(nil)

// rejectLogEvery is the least interval between two logged rejections.
const rejectLogEvery = 10 * time.Second

// NewScanner returns a scanner; it does no I/O until Run. A nil opener opens cfg.Port as a
// serial line.
func NewScanner(cfg Config, open Opener, rep health.Reporter, log *slog.Logger, clk clock.Clock) *Scanner {
	if cfg.Name == "" {
		cfg.Name = "scanner"
	}
	if cfg.Baud <= 0 {
		cfg.Baud = 9600
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 100 * time.Millisecond
	}
	if cfg.Model == "" {
		cfg.Model = ModelGeneric
	}
	if cfg.MaxLen <= 0 {
		cfg.MaxLen = DefaultMaxLen
	}
	if cfg.Suffix == "" {
		cfg.Suffix = DefaultSuffix
	}
	if cfg.RetryCap <= 0 {
		cfg.RetryCap = time.Second
	}
	if open == nil {
		open = func() (devices.Port, error) {
			return devices.OpenSerial(devices.SerialConfig{Path: cfg.Port, Baud: cfg.Baud, ReadTimeout: cfg.ReadTimeout})
		}
	}
	return &Scanner{cfg: cfg, open: open, health: rep, log: log.With("device", cfg.Name, "component", cfg.Name),
		clock: clk, events: make(chan Event, 16)}
}

func (s *Scanner) String() string { return s.cfg.Name }

// Halt does nothing: Run closes the port when its context ends.
func (s *Scanner) Halt() error { return nil }

// Events delivers scanned codes. Events are dropped (and counted) when nobody reads them,
// so a missing consumer never stalls the scanner.
func (s *Scanner) Events() <-chan Event { return s.events }

// Stats are counters for metrics.
type Stats struct {
	Codes int64 // valid codes read
	// Rejected codes by reason.
	TooLong, ControlChar, InvalidUTF8, Empty int64
	DroppedEvents                            int64
	// Replies to host commands taken out of the stream (not codes), and how many of them
	// refused the command.
	Replies, Refused int64
}

// Rejected is the sum of every rejection.
func (st Stats) Rejected() int64 { return st.TooLong + st.ControlChar + st.InvalidUTF8 + st.Empty }

func (s *Scanner) Stats() Stats {
	return Stats{Codes: s.codes.Load(), TooLong: s.tooLong.Load(), ControlChar: s.controlChar.Load(),
		InvalidUTF8: s.invalidUTF8.Load(), Empty: s.empty.Load(), DroppedEvents: s.dropped.Load(),
		Replies: s.replies.Load(), Refused: s.refused.Load()}
}

// Trigger starts (on) or stops a read on a scanner whose model has a host trigger.
func (s *Scanner) Trigger(on bool) error {
	cmd := TriggerOff(s.cfg.Model)
	if on {
		cmd = TriggerOn(s.cfg.Model)
	}
	if cmd == nil {
		return fmt.Errorf("%w (model %s)", ErrNoTrigger, s.cfg.Model)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.port == nil {
		return ErrNotConnected
	}
	if _, err := s.port.Write(cmd); err != nil {
		return fmt.Errorf("barcode: trigger: %w", err)
	}
	return nil
}

func (s *Scanner) emit(e Event) {
	select {
	case s.events <- e:
	default:
		s.dropped.Add(1)
	}
}

// Run reads codes until ctx ends, reopening the port after any fault.
func (s *Scanner) Run(ctx context.Context) error {
	devices.Reconnect(ctx, s.clock, s.cfg.RetryCap, s.open, s.session, func(opened bool, err error) {
		if !opened {
			s.health.Report(s.cfg.Name, health.Down, CodeNoDevice, fmt.Sprintf("no scanner at %s: %v", s.cfg.Port, err))
			return
		}
		s.health.Report(s.cfg.Name, health.Down, CodeNoDevice, fmt.Sprintf("scanner at %s lost: %v", s.cfg.Port, err))
		s.log.Warn("scanner connection lost", "port", s.cfg.Port, "err", err)
	})
	return nil
}

// session reads one connection until a transport fault and returns that fault.
func (s *Scanner) session(ctx context.Context, port devices.Port, ready func()) error {
	ready()
	s.mu.Lock()
	s.port = port
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.port = nil
		s.mu.Unlock()
	}()
	s.health.Report(s.cfg.Name, health.OK, CodeReady, "scanner ready on "+s.cfg.Port)
	s.log.Info("scanner ready", "port", s.cfg.Port, "model", string(s.cfg.Model), "suffix", string(s.cfg.Suffix))
	// Replies to Trigger come on the same line as the codes: take them out first.
	rf := ReplyFilter{Model: s.cfg.Model}
	f := Framer{MaxLen: s.cfg.MaxLen, StripAIM: s.cfg.StripAIM, Suffix: s.cfg.Suffix}
	buf := make([]byte, 1024)
	for ctx.Err() == nil {
		n, err := port.Read(buf)
		switch {
		case errors.Is(err, devices.ErrTimeout):
			now := s.clock.Now()
			// A reply cut short is not coming: its bytes are noise for the framer.
			if held := rf.Flush(); len(held) > 0 {
				s.handle(f.Feed(held, now))
			}
			s.handle(f.Flush(now))
		case err != nil:
			// A code cut off by the unplug is not a code.
			return err
		default:
			data, replies := rf.Feed(buf[:n])
			s.handleReplies(replies)
			s.handle(f.Feed(data, s.clock.Now()))
		}
	}
	return ctx.Err()
}

func (s *Scanner) handle(rs []Result) {
	for _, r := range rs {
		if r.Err == nil {
			s.codes.Add(1)
			// The content is not logged: a code can carry personal data.
			s.log.Debug("code scanned", "len", r.Len, "symbology", r.Symbology)
			s.emit(CodeScanned{Text: r.Code, Symbology: r.Symbology})
			continue
		}
		switch {
		case errors.Is(r.Err, ErrTooLong):
			s.tooLong.Add(1)
		case errors.Is(r.Err, ErrControlChar):
			s.controlChar.Add(1)
		case errors.Is(r.Err, ErrInvalidUTF8):
			s.invalidUTF8.Add(1)
		case errors.Is(r.Err, ErrEmpty):
			s.empty.Add(1)
		}
		s.logReject(r)
	}
}

func (s *Scanner) handleReplies(rs []Reply) {
	for _, r := range rs {
		s.replies.Add(1)
		if r.OK {
			s.log.Debug("scanner acknowledged a command", "model", string(r.Model))
			continue
		}
		s.refused.Add(1)
		s.log.Warn("scanner refused a command", "model", string(r.Model), "len", r.Len)
	}
}

// logReject logs a rejected code by length and reason only, at most once per
// rejectLogEvery, saying how many were not logged in between.
func (s *Scanner) logReject(r Result) {
	now := s.clock.Now()
	if !s.lastRejectLog.IsZero() && now.Sub(s.lastRejectLog) < rejectLogEvery {
		s.suppressed++
		return
	}
	s.log.Warn("scanned code rejected", "len", r.Len, "reason", r.Err.Error(), "suppressed", s.suppressed)
	s.lastRejectLog = now
	s.suppressed = 0
}
