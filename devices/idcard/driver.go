package idcard

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

// Health codes of the reader.
const (
	CodeReady      = "idcard.ready"
	CodeNoReader   = "idcard.no_reader"   // the port cannot be opened or vanished
	CodeNoResponse = "idcard.no_response" // the port opens but nothing answers
	CodeSAMFault   = "idcard.sam_fault"   // the SAM answers with a fault status
	CodeCommError  = "idcard.comm_error"  // corrupt frames; the reader still answers
)

var (
	// ErrNoResponse means no complete frame arrived within the command timeout.
	ErrNoResponse = errors.New("idcard: no response from reader")
	// ErrBadCardData means the reader answered a read but the card data did not decode.
	ErrBadCardData = errors.New("idcard: card data not decodable")
)

// Event is what a Reader emits.
type Event interface{ idcardEvent() }

// CardPresented is emitted once per placement of a card that was read successfully. The
// receiver owns Card and must Wipe it when the session that used it ends.
type CardPresented struct{ Card *Card }

// CardRemoved is emitted when the card that was presented has left the reader.
type CardRemoved struct{}

// CardReadFailed is emitted when a card was found but could not be read; the citizen
// should place it again.
type CardReadFailed struct{ Err error }

func (CardPresented) idcardEvent()  {}
func (CardRemoved) idcardEvent()    {}
func (CardReadFailed) idcardEvent() {}

// Conn runs GA 467 command/response exchanges over an open port, one at a time.
type Conn struct {
	port    devices.Port
	timeout time.Duration
	parser  Parser
	buf     []byte
	// WireBytes counts bytes both ways, so benchmarks can compute wire time at a baud rate.
	WireBytes int64
}

// NewConn wraps an open port. timeout bounds each exchange (default 1 s).
func NewConn(p devices.Port, timeout time.Duration) *Conn {
	if timeout <= 0 {
		timeout = time.Second
	}
	return &Conn{port: p, timeout: timeout, buf: make([]byte, 4096)}
}

// Do sends one command and returns its response frame. A returned error is a transport
// or framing failure; the reader's own status is in Response.Err.
func (c *Conn) Do(cmd Command) (Response, error) {
	// The protocol does not echo the command in its answer, so stale bytes from an
	// earlier timed-out exchange must not be taken for this one.
	c.parser = Parser{}
	frame := cmd.Bytes()
	if _, err := c.port.Write(frame); err != nil {
		return Response{}, err
	}
	c.WireBytes += int64(len(frame))
	deadline := time.Now().Add(c.timeout)
	for {
		r, err := c.parser.Next()
		if err == nil {
			c.WireBytes += int64(7 + 3 + len(r.Data) + 1)
			return r, nil
		}
		if !errors.Is(err, ErrIncomplete) {
			return Response{}, err
		}
		if time.Now().After(deadline) {
			return Response{}, ErrNoResponse
		}
		n, err := c.port.Read(c.buf)
		if errors.Is(err, devices.ErrTimeout) {
			continue
		}
		if err != nil {
			return Response{}, err
		}
		c.parser.Feed(c.buf[:n])
	}
}

// Drain reads and discards input until the line is quiet, to resynchronise after a fault.
func (c *Conn) Drain() error {
	for i := 0; i < 50; i++ {
		_, err := c.port.Read(c.buf)
		if errors.Is(err, devices.ErrTimeout) {
			c.parser = Parser{}
			return nil
		}
		if err != nil {
			return err
		}
	}
	c.parser = Parser{}
	return nil
}

// SAMStatus asks the SAM whether it is working.
func (c *Conn) SAMStatus() error {
	r, err := c.Do(CmdSAMStatus)
	if err != nil {
		return err
	}
	return r.Err()
}

// SAMID reads and formats the SAM's management number.
func (c *Conn) SAMID() (string, error) {
	r, err := c.Do(CmdSAMID)
	if err != nil {
		return "", err
	}
	if err := r.Err(); err != nil {
		return "", err
	}
	return FormatSAMID(r.Data)
}

// ReadCard runs find, select and read once. It returns ErrNoCard when no new card is on
// the reader.
func (c *Conn) ReadCard(fingerprint bool) (*Card, error) {
	for _, cmd := range []Command{CmdFind, CmdSelect} {
		r, err := c.Do(cmd)
		if err != nil {
			return nil, err
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
	}
	cmd, decode := CmdReadBase, DecodeBase
	if fingerprint {
		cmd, decode = CmdReadWithFingerprint, DecodeWithFingerprint
	}
	r, err := c.Do(cmd)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	card, err := decode(r.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCardData, err)
	}
	return card, nil
}

// StillPresent asks for the appended address, which a reader answers without a new
// authentication only while the card it just read stays on the antenna; after a read,
// "find" no longer sees that card, so this is how removal is noticed.
func (c *Conn) StillPresent() (bool, error) {
	r, err := c.Do(CmdReadAppendedAddress)
	if err != nil {
		return false, err
	}
	st := r.Err()
	return st == nil || errors.Is(st, ErrNoContent), nil
}

// Config is a reader's settings after its firmware profile and overrides are applied.
type Config struct {
	Name            string // component name in health and logs
	Port            string
	Baud            int
	ReadTimeout     time.Duration
	PollInterval    time.Duration // at least 300 ms, the vendors' minimum
	CommandTimeout  time.Duration
	ReadFingerprint bool
	// RetryCap caps the delay between attempts to reopen a vanished port. Recovery after a
	// replug takes at most about this long.
	RetryCap time.Duration
}

// Opener opens the reader's transport.
type Opener func() (devices.Port, error)

// Reader polls a GA 467 reader and emits card events.
type Reader struct {
	cfg    Config
	open   Opener
	health health.Reporter
	log    *slog.Logger
	clock  clock.Clock
	events chan Event

	reads, readErrors, frameErrors, dropped atomic.Int64

	mu    sync.Mutex
	samID string
}

var _ devices.Device = (*Reader)(nil)

// NewReader returns a reader; it does no I/O until Run. A nil opener opens cfg.Port as a
// serial line.
func NewReader(cfg Config, open Opener, rep health.Reporter, log *slog.Logger, clk clock.Clock) *Reader {
	if cfg.Name == "" {
		cfg.Name = "idcard"
	}
	cfg.PollInterval = max(cfg.PollInterval, 300*time.Millisecond)
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = time.Second
	}
	if cfg.RetryCap <= 0 {
		cfg.RetryCap = time.Second
	}
	if open == nil {
		open = func() (devices.Port, error) {
			return devices.OpenSerial(devices.SerialConfig{Path: cfg.Port, Baud: cfg.Baud, ReadTimeout: cfg.ReadTimeout})
		}
	}
	return &Reader{cfg: cfg, open: open, health: rep, log: log.With("device", cfg.Name, "component", cfg.Name),
		clock: clk, events: make(chan Event, 16)}
}

func (r *Reader) String() string { return r.cfg.Name }

// Halt does nothing: Run closes the port when its context ends.
func (r *Reader) Halt() error { return nil }

// Events delivers card events. Events are dropped (and counted) when nobody reads them,
// so a missing consumer never stalls the reader.
func (r *Reader) Events() <-chan Event { return r.events }

// Stats are counters for metrics.
type Stats struct{ Reads, ReadErrors, FrameErrors, DroppedEvents int64 }

func (r *Reader) Stats() Stats {
	return Stats{r.reads.Load(), r.readErrors.Load(), r.frameErrors.Load(), r.dropped.Load()}
}

// SAMID returns the SAM id read at the last connect.
func (r *Reader) SAMID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.samID
}

func (r *Reader) emit(e Event) {
	select {
	case r.events <- e:
	default:
		r.dropped.Add(1)
	}
}

// Run polls the reader until ctx ends, reopening the port after any fault.
func (r *Reader) Run(ctx context.Context) error {
	devices.Reconnect(ctx, r.clock, r.cfg.RetryCap, r.open, r.session, func(opened bool, err error) {
		if !opened {
			r.health.Report(r.cfg.Name, health.Down, CodeNoReader, fmt.Sprintf("no reader at %s: %v", r.cfg.Port, err))
			return
		}
		code := CodeNoReader
		if errors.Is(err, ErrNoResponse) {
			code = CodeNoResponse
		}
		r.health.Report(r.cfg.Name, health.Down, code, fmt.Sprintf("reader at %s lost: %v", r.cfg.Port, err))
		r.log.Warn("reader connection lost", "port", r.cfg.Port, "err", err)
	})
	return nil
}

// session runs one connection until a transport fault; it returns that fault.
func (r *Reader) session(ctx context.Context, port devices.Port, ready func()) error {
	c := NewConn(port, r.cfg.CommandTimeout)
	if err := c.SAMStatus(); err != nil {
		var st *StatusError
		if !errors.As(err, &st) {
			return err
		}
		// The SAM answers but is broken: nothing to read cards with; keep asking.
		r.health.Report(r.cfg.Name, health.Down, CodeSAMFault, err.Error())
		return err
	}
	ready()
	if id, err := c.SAMID(); err == nil {
		r.mu.Lock()
		r.samID = id
		r.mu.Unlock()
		r.log.Info("reader ready", "port", r.cfg.Port, "sam_id", id)
	} else {
		r.log.Info("reader ready; SAM id not readable", "port", r.cfg.Port, "err", err)
	}
	r.health.Report(r.cfg.Name, health.OK, CodeReady, "reader ready on "+r.cfg.Port)

	present := false
	timeouts := 0
	for {
		select {
		case <-ctx.Done():
			if present {
				r.emit(CardRemoved{})
			}
			return ctx.Err()
		case <-r.clock.After(r.cfg.PollInterval):
		}
		var err error
		if present {
			var still bool
			still, err = c.StillPresent()
			if err == nil && !still {
				present = false
				r.emit(CardRemoved{})
			}
		} else {
			var card *Card
			card, err = c.ReadCard(r.cfg.ReadFingerprint)
			switch {
			case err == nil:
				present = true
				r.reads.Add(1)
				r.log.Debug("card read", "card", card)
				r.emit(CardPresented{Card: card})
			case errors.Is(err, ErrNoCard):
				err = nil
			default:
				var st *StatusError
				if errors.As(err, &st) {
					// The reader works; the card did not read. Tell the citizen to place it again.
					r.readErrors.Add(1)
					r.log.Warn("card found but not read", "err", err)
					r.emit(CardReadFailed{Err: err})
					err = nil
				}
			}
		}
		switch {
		case err == nil:
			timeouts = 0
			r.health.Report(r.cfg.Name, health.OK, CodeReady, "reader ready on "+r.cfg.Port)
		case errors.Is(err, ErrChecksum), errors.Is(err, ErrFrameLength):
			r.frameErrors.Add(1)
			r.health.Report(r.cfg.Name, health.Degraded, CodeCommError, err.Error())
			if err := c.Drain(); err != nil {
				return err
			}
		case errors.Is(err, ErrNoResponse):
			timeouts++
			r.health.Report(r.cfg.Name, health.Degraded, CodeNoResponse, "reader did not answer")
			if timeouts >= 3 {
				return err
			}
			if err := c.Drain(); err != nil {
				return err
			}
		default:
			if errors.Is(err, ErrBadCardData) {
				r.readErrors.Add(1)
				r.log.Warn("card data not decodable", "err", err)
				r.emit(CardReadFailed{Err: err})
				continue
			}
			return err
		}
	}
}
