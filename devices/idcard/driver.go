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

// Longest answers on the wire: a 30 01 read (DEVICES.md 1.5) and a 30 10 read with a
// 1024-byte fingerprint block (1.5).
const (
	readBaseFrame        = headerLen + 3 + 4 + TextSize + PhotoSize + 1 // 1295 bytes
	readFingerprintFrame = readBaseFrame + 2 + FingerprintSize          // 2321 bytes
	samWork              = time.Second                                  // the SAM's own time to answer a read
)

// CommandTimeoutFor returns a command timeout that lets the longest answer of a card read
// cross a UART at baud (8N1: 10 bits a byte; 0 means the default 115200), plus a second
// for the SAM's own work: about 1.1 s at 115200 and 2.4 s at 9600 (3.4 s with
// fingerprints), where a fixed second cannot carry the 1.35 s of a 1295-byte answer.
func CommandTimeoutFor(baud int, fingerprint bool) time.Duration {
	if baud <= 0 {
		baud = 115200
	}
	n := readBaseFrame
	if fingerprint {
		n = readFingerprintFrame
	}
	n += len(CmdReadBase.Bytes())
	return samWork + time.Duration(n)*10*time.Second/time.Duration(baud)
}

// Do sends one command and returns its response frame. A returned error is a transport
// or framing failure; the reader's own status is in Response.ErrFor.
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

// exchange runs cmd and returns its data, or the reader's status as a *StatusError when
// the answer is not cmd's success code.
func (c *Conn) exchange(cmd Command) ([]byte, error) {
	r, err := c.Do(cmd)
	if err != nil {
		return nil, err
	}
	if err := r.ErrFor(cmd); err != nil {
		return nil, err
	}
	return r.Data, nil
}

// SAMStatus asks the SAM whether it is working.
func (c *Conn) SAMStatus() error {
	_, err := c.exchange(CmdSAMStatus)
	return err
}

// SetMaxRFFrame sets the largest frame the reader exchanges with the card over the air,
// in bytes (command 61 FF n, DEVICES.md 1.3).
func (c *Conn) SetMaxRFFrame(n byte) error {
	_, err := c.exchange(CmdSetMaxRFFrame(n))
	return err
}

// SAMID reads and formats the SAM's management number.
func (c *Conn) SAMID() (string, error) {
	data, err := c.exchange(CmdSAMID)
	if err != nil {
		return "", err
	}
	return FormatSAMID(data)
}

// ReadCard runs find, select and read once. It returns ErrNoCard when no new card is on
// the reader.
func (c *Conn) ReadCard(fingerprint bool) (*Card, error) {
	for _, cmd := range []Command{CmdFind, CmdSelect} {
		if _, err := c.exchange(cmd); err != nil {
			return nil, err
		}
	}
	cmd, decode := CmdReadBase, DecodeBase
	if fingerprint {
		cmd, decode = CmdReadWithFingerprint, DecodeWithFingerprint
	}
	data, err := c.exchange(cmd)
	if err != nil {
		return nil, err
	}
	card, err := decode(data)
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
	st := r.ErrFor(CmdReadAppendedAddress)
	return st == nil || errors.Is(st, ErrNoContent), nil
}

// Config is a reader's settings after its firmware profile and overrides are applied.
type Config struct {
	Name            string // component name in health and logs
	Port            string
	Baud            int
	ReadTimeout     time.Duration
	PollInterval    time.Duration // at least 300 ms, the vendors' minimum
	CommandTimeout  time.Duration // 0: CommandTimeoutFor(Baud, ReadFingerprint)
	ReadFingerprint bool
	// MaxRFFrame, when 1 to 255, is sent with 61 FF after every connect to set the
	// reader's largest RF frame in bytes; 0 leaves the reader's own setting.
	MaxRFFrame int
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

	// last is the health the Run goroutine published last, so an unchanged state is not
	// published (or logged) again at every poll or reconnect.
	last struct {
		state     health.State
		code, msg string
	}

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
		cfg.CommandTimeout = CommandTimeoutFor(cfg.Baud, cfg.ReadFingerprint)
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
	// Another component (the supervisor) may have reported for this name since the last
	// Run, so nothing published before counts as current.
	r.last.state, r.last.code, r.last.msg = "", "", ""
	devices.Reconnect(ctx, r.clock, r.cfg.RetryCap, r.open, r.session, r.lost)
	return nil
}

// report publishes the reader's health unless it is exactly what was published last,
// and reports whether the state or the code changed. Only the Run goroutine calls it.
func (r *Reader) report(state health.State, code, msg string) (changed bool) {
	changed = state != r.last.state || code != r.last.code
	if changed || msg != r.last.msg {
		r.health.Report(r.cfg.Name, state, code, msg)
		r.last.state, r.last.code, r.last.msg = state, code, msg
	}
	return changed
}

// lost reports why there is no usable reader: the port did not open, the SAM answered
// with a fault status, or the link failed. Each cause is logged when it starts, not at
// every retry.
func (r *Reader) lost(opened bool, err error) {
	var st *StatusError
	switch {
	case !opened:
		r.report(health.Down, CodeNoReader, fmt.Sprintf("no reader at %s: %v", r.cfg.Port, err))
	case errors.As(err, &st):
		// The reader is there and answers, but its SAM cannot read cards. Reconnecting
		// keeps asking, and the fault stays what health shows until the SAM recovers.
		if r.report(health.Down, CodeSAMFault, fmt.Sprintf("SAM fault on %s: %v", r.cfg.Port, err)) {
			r.log.Error("SAM fault: the reader cannot read cards", "port", r.cfg.Port, "err", err)
		}
	default:
		code := CodeNoReader
		if errors.Is(err, ErrNoResponse) {
			code = CodeNoResponse
		}
		if r.report(health.Down, code, fmt.Sprintf("reader at %s lost: %v", r.cfg.Port, err)) {
			r.log.Warn("reader connection lost", "port", r.cfg.Port, "err", err)
		}
	}
}

// setMaxRFFrame sends the configured max RF frame size, if any. Only a transport fault is
// returned: a reader that refuses the command reads with its own frame size.
func (r *Reader) setMaxRFFrame(c *Conn) error {
	n := r.cfg.MaxRFFrame
	if n == 0 {
		return nil
	}
	if n < 0 || n > 255 {
		r.log.Warn("max RF frame size out of range 1-255; the reader keeps its own", "max_rf_frame", n)
		return nil
	}
	var st *StatusError
	switch err := c.SetMaxRFFrame(byte(n)); {
	case errors.As(err, &st):
		r.log.Warn("reader refused the max RF frame size (61 FF); it keeps its own", "max_rf_frame", n, "err", err)
	case err != nil:
		return err
	default:
		r.log.Info("max RF frame size set", "max_rf_frame", n)
	}
	return nil
}

// samFault reports whether a status means the SAM itself is broken rather than the card.
func samFault(err error) bool {
	return errors.Is(err, ErrSAMSelfTest) || errors.Is(err, ErrSAMNotAuthorised)
}

// session runs one connection until a transport or SAM fault; it returns that fault. A
// SAM fault is a *StatusError, which lost reports as CodeSAMFault.
func (r *Reader) session(ctx context.Context, port devices.Port, ready func()) error {
	c := NewConn(port, r.cfg.CommandTimeout)
	if err := c.SAMStatus(); err != nil {
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
	if err := r.setMaxRFFrame(c); err != nil {
		return err
	}
	r.report(health.OK, CodeReady, "reader ready on "+r.cfg.Port)

	// A card on the reader when the session ends, for whatever reason, has left it as far
	// as the consumer knows: the next session reads it again.
	present := false
	defer func() {
		if present {
			r.emit(CardRemoved{})
		}
	}()
	timeouts := 0
	for {
		select {
		case <-ctx.Done():
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
			case samFault(err):
				return err
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
			r.report(health.OK, CodeReady, "reader ready on "+r.cfg.Port)
		case errors.Is(err, ErrChecksum), errors.Is(err, ErrFrameLength):
			r.frameErrors.Add(1)
			r.report(health.Degraded, CodeCommError, err.Error())
			if err := c.Drain(); err != nil {
				return err
			}
		case errors.Is(err, ErrNoResponse):
			timeouts++
			r.report(health.Degraded, CodeNoResponse, "reader did not answer")
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
