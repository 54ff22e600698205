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
	// JobPoll is how often a job waiting for its barrier reads the real-time status, so a
	// printer that stops mid-job is reported and the job failed at once; default 500 ms.
	JobPoll time.Duration
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

	// mu: one exchange at a time on the port. A job holds it to its end, so Run cannot
	// poll meanwhile: the job reads and reports the status itself while it waits.
	mu     sync.Mutex
	port   devices.Port
	status Status
	known  bool
	// resync: a job was given up while its GS r 1 was unanswered. The printer keeps such
	// a job and answers it once it gets to it, so that answer may still come.
	resync bool
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
	if cfg.JobPoll <= 0 {
		cfg.JobPoll = 500 * time.Millisecond
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

// jobError turns a status into the reason a job cannot start.
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

// stopError is the reason a job under way cannot finish by itself. Offline alone is not
// one: a printer also goes offline for a while by itself (feed button, head too hot) and
// then goes on with the job.
func (s Status) stopError() error {
	if err := s.jobError(); err != ErrOffline {
		return err
	}
	return nil
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
	case errors.Is(err, devices.ErrWriteTimeout):
		p.health.Report(name, health.Down, CodeOffline, "printer at "+p.cfg.Target+" stopped taking data")
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
