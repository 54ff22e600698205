package escpos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

// Errors a print returns. Any error means the job did not complete: the caller must not
// count the ticket as printed.
var (
	ErrPaperOut     = errors.New("escpos: paper out")
	ErrCoverOpen    = errors.New("escpos: cover open")
	ErrOffline      = errors.New("escpos: printer offline")
	ErrPrinterFault = errors.New("escpos: printer error")
	ErrNoPrinter    = errors.New("escpos: printer not connected")
	ErrNoAnswer     = errors.New("escpos: printer did not answer")
	ErrNotConfirmed = errors.New("escpos: printer did not confirm the job")
)

// Health codes of the printer.
const (
	CodeReady       = "printer.ready"
	CodeNoDevice    = "printer.no_device"
	CodeOffline     = "printer.offline"
	CodeCoverOpen   = "printer.cover_open"
	CodePaperOut    = "printer.paper_out"
	CodePaperLow    = "printer.paper_low"
	CodeCutterError = "printer.cutter_error"
	CodeFault       = "printer.unrecoverable"
)

// gsr1 is GS r 1, a queued status request: the printer answers only after it has processed
// every byte before it, so its answer confirms the job went through the mechanism.
var gsr1 = []byte{0x1D, 0x72, 0x01}

// statusRequests are DLE EOT 1, 2, 3 and 4.
var statusRequests = slices.Concat(StatusRequest(1), StatusRequest(2), StatusRequest(3), StatusRequest(4))

// Config is a ticket printer's settings after its profile and overrides are applied.
type Config struct {
	Name          string
	Target        string        // port, host:port or device file, for messages
	PollInterval  time.Duration // status poll; default 3 s
	StatusTimeout time.Duration // one status answer; default 1 s
	JobTimeout    time.Duration // data plus completion barrier; default 20 s
	RetryCap      time.Duration // reconnect backoff cap; default 2 s
}

// Opener opens the printer's transport.
type Opener func() (devices.Port, error)

// Printer drives an ESC/POS ticket printer and reports its health.
type Printer struct {
	cfg    Config
	open   Opener
	health health.Reporter
	log    *slog.Logger
	clock  clock.Clock

	mu     sync.Mutex // one exchange at a time on the port: polls and jobs
	port   devices.Port
	status Status
	known  bool
	jobs   int64
	failed int64
}

var _ devices.Device = (*Printer)(nil)

// NewPrinter returns a printer; it does no I/O until Run or Print.
func NewPrinter(cfg Config, open Opener, rep health.Reporter, log *slog.Logger, clk clock.Clock) *Printer {
	if cfg.Name == "" {
		cfg.Name = "printer"
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 3 * time.Second
	}
	if cfg.StatusTimeout <= 0 {
		cfg.StatusTimeout = time.Second
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 20 * time.Second
	}
	if cfg.RetryCap <= 0 {
		cfg.RetryCap = 2 * time.Second
	}
	return &Printer{cfg: cfg, open: open, health: rep, log: log.With("device", cfg.Name, "component", cfg.Name), clock: clk}
}

func (p *Printer) String() string { return p.cfg.Name }

// Halt closes the port.
func (p *Printer) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropLocked()
	return nil
}

// Stats counts jobs.
type Stats struct{ Jobs, Failed int64 }

func (p *Printer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{p.jobs, p.failed}
}

// LastStatus returns the last status read, and whether one was read since connecting.
func (p *Printer) LastStatus() (Status, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status, p.known
}

// Run polls the printer's status until ctx ends, reconnecting after faults.
func (p *Printer) Run(ctx context.Context) error {
	b := devices.Backoff{Base: 100 * time.Millisecond, Cap: p.cfg.RetryCap, Min: 20 * time.Millisecond}
	for {
		wait := p.cfg.PollInterval
		p.mu.Lock()
		_, err := p.refreshLocked()
		p.mu.Unlock()
		if err != nil {
			wait = b.Next()
		} else {
			b.Reset()
		}
		select {
		case <-ctx.Done():
			p.Halt()
			return nil
		case <-p.clock.After(wait):
		}
	}
}

// Check reads the printer's status now and returns the reason it cannot print, if any.
func (p *Printer) Check() (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := p.refreshLocked()
	if err == nil {
		err = st.jobError()
	}
	return st, err
}

// Print sends one job and returns nil only when the printer confirmed it: it checks the
// status first, sends the data, waits for a queued status answer (which comes only after
// the data was processed) and checks the status again.
func (p *Printer) Print(ctx context.Context, job []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jobs++
	err := p.printLocked(ctx, job)
	if err != nil {
		p.failed++
		p.log.Warn("print failed", "err", err, "bytes", len(job))
	}
	return err
}

func (p *Printer) printLocked(ctx context.Context, job []byte) error {
	st, err := p.refreshLocked()
	if err != nil {
		return err
	}
	if err := st.jobError(); err != nil {
		return err
	}
	deadline := p.clock.Now().Add(p.cfg.JobTimeout)
	for off := 0; off < len(job); {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		end := min(off+4096, len(job))
		n, err := p.port.Write(job[off:end])
		off += n
		if err != nil {
			p.dropLocked()
			return fmt.Errorf("%w: %v", ErrNoPrinter, err)
		}
		if p.clock.Now().After(deadline) {
			return fmt.Errorf("%w: job not sent within %s", ErrNotConfirmed, p.cfg.JobTimeout)
		}
	}
	var ansb [1]byte
	err = p.exchange(gsr1, ansb[:], time.Until(deadline))
	ans := ansb[0]
	if err != nil {
		if errors.Is(err, ErrNoAnswer) {
			// Whatever the printer did, we do not know the job completed.
			p.report(Status{}, fmt.Errorf("%w after the job", ErrNoAnswer))
			return fmt.Errorf("%w: no answer after the job", ErrNotConfirmed)
		}
		return err
	}
	st, err = p.refreshLocked()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotConfirmed, err)
	}
	if err := st.jobError(); err != nil {
		return fmt.Errorf("during the job: %w", err)
	}
	// Both Epson (bits 2-3) and Chinese clones (0x0F) set 0x0C in GS r 1 for paper end.
	if ans&0x0C == 0x0C {
		return fmt.Errorf("during the job: %w", ErrPaperOut)
	}
	return nil
}

// jobError turns a status into the reason a job cannot print.
func (s Status) jobError() error {
	switch {
	case s.CoverOpen:
		return ErrCoverOpen
	case s.PaperOut || s.PaperEndStop:
		return ErrPaperOut
	case s.Unrecoverable || s.CutterError:
		return ErrPrinterFault
	case s.Offline:
		return ErrOffline
	}
	return nil
}

// refreshLocked (re)connects if needed, reads DLE EOT 1-4 and reports health.
func (p *Printer) refreshLocked() (Status, error) {
	if p.port == nil {
		port, err := p.open()
		if err != nil {
			p.report(Status{}, err)
			return Status{}, fmt.Errorf("%w: %v", ErrNoPrinter, err)
		}
		p.port = port
		p.drainLocked()
	}
	// DLE EOT is answered as soon as each request arrives, in order, so the four requests
	// go out in one write: one round trip instead of four.
	var raw [4]byte
	if err := p.exchange(statusRequests, raw[:], p.cfg.StatusTimeout); err != nil {
		p.report(Status{}, err)
		return Status{}, err
	}
	st, err := DecodeAll(raw)
	if err != nil {
		p.report(Status{}, err)
		p.drainLocked()
		return Status{}, fmt.Errorf("%w: %v", ErrNoAnswer, err)
	}
	p.status, p.known = st, true
	p.report(st, nil)
	return st, nil
}

// exchange writes requests and reads len(ans) answer bytes.
func (p *Printer) exchange(req, ans []byte, timeout time.Duration) error {
	if _, err := p.port.Write(req); err != nil {
		p.dropLocked()
		return fmt.Errorf("%w: %v", ErrNoPrinter, err)
	}
	deadline := time.Now().Add(timeout)
	for got := 0; got < len(ans); {
		n, err := p.port.Read(ans[got:])
		got += n
		if err != nil && !errors.Is(err, devices.ErrTimeout) {
			p.dropLocked()
			return fmt.Errorf("%w: %v", ErrNoPrinter, err)
		}
		if got < len(ans) && time.Now().After(deadline) {
			return ErrNoAnswer
		}
	}
	return nil
}

// drainLocked discards stale answers, e.g. from a request that timed out.
func (p *Printer) drainLocked() {
	buf := make([]byte, 64)
	for i := 0; i < 10 && p.port != nil; i++ {
		if _, err := p.port.Read(buf); err != nil {
			return
		}
	}
}

func (p *Printer) dropLocked() {
	if p.port != nil {
		p.port.Close()
		p.port = nil
	}
	p.known = false
}

// report turns a status (or the error that prevented reading one) into health.
func (p *Printer) report(st Status, err error) {
	name := p.cfg.Name
	switch {
	case errors.Is(err, ErrNoAnswer):
		p.health.Report(name, health.Down, CodeOffline, "printer at "+p.cfg.Target+" does not answer status requests")
	case err != nil:
		p.health.Report(name, health.Down, CodeNoDevice, fmt.Sprintf("no printer at %s: %v", p.cfg.Target, err))
	case st.CoverOpen:
		p.health.Report(name, health.Down, CodeCoverOpen, "printer cover is open")
	case st.PaperOut || st.PaperEndStop:
		p.health.Report(name, health.Down, CodePaperOut, "printer is out of paper")
	case st.CutterError:
		p.health.Report(name, health.Down, CodeCutterError, "printer cutter error")
	case st.Unrecoverable:
		p.health.Report(name, health.Down, CodeFault, "printer reports an unrecoverable error")
	case st.Offline:
		p.health.Report(name, health.Down, CodeOffline, "printer is offline")
	case st.PaperNearEnd:
		p.health.Report(name, health.Degraded, CodePaperLow, "printer paper is running low")
	default:
		p.health.Report(name, health.OK, CodeReady, "printer ready on "+p.cfg.Target)
	}
}
