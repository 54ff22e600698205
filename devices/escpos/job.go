package escpos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

// The two kinds of answer tell themselves apart (DEVICES.md 3.3): every DLE EOT answer has
// bits 1 and 4 set and bits 0 and 7 clear; a GS r 1 answer uses bits 0-3 only (Epson near
// end 0x03 and paper end 0x0C, clones 00 and 0F), so a byte with bit 4 set is never one.
func isStatusAnswer(b byte) bool  { return b&0x93 == 0x12 }
func isBarrierAnswer(b byte) bool { return b&0x10 == 0 }

// I/O deadlines below are wall-clock time, like the port's own read timeout that bounds
// every wait; the injected clock paces only Run's poll loop.

// Print sends one job and returns nil only when the printer confirmed it: it checks the
// status first, sends the data, waits for a queued status answer (which comes only after
// the data was processed) and checks the status again. While it waits it reads the
// real-time status every JobPoll, reports it, and fails at once when the printer cannot
// finish (paper out, cover open, error).
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
	deadline := time.Now().Add(p.cfg.JobTimeout)
	if p.resync {
		if err := p.resyncLocked(ctx, deadline); err != nil {
			return err
		}
	}
	for off := 0; off < len(job); {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		end := min(off+4096, len(job))
		n, err := p.port.Write(job[off:end])
		off += n
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNotConfirmed, p.writeFailedLocked(err))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: job not sent within %s", ErrNotConfirmed, p.cfg.JobTimeout)
		}
	}
	ans, err := p.awaitBarrierLocked(ctx, deadline)
	if err != nil {
		return err
	}
	st, err = p.refreshLocked()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotConfirmed, err)
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

// awaitBarrierLocked sends GS r 1 behind the job and waits for its answer, reading the
// real-time status every JobPoll meanwhile. A printer without paper holds the job and
// does not answer GS r 1, but answers DLE EOT (DEVICES.md 3.3): so the job fails as soon
// as the status says it cannot finish, and that status is reported at once.
func (p *Printer) awaitBarrierLocked(ctx context.Context, deadline time.Time) (byte, error) {
	p.drainLocked()
	if err := p.writeLocked(gsr1); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrNotConfirmed, err)
	}
	// giveUp leaves the GS r 1 unanswered: the next job resynchronises first.
	giveUp := func(err error) (byte, error) {
		p.resync = true
		return 0, err
	}
	var (
		ans      byte
		answered bool
		raw      [4]byte
		got      int       // answers to the poll in flight
		polled   time.Time // when the poll in flight was sent; zero: none
		nextPoll = time.Now().Add(p.cfg.JobPoll)
		buf      [16]byte
	)
	for {
		now := time.Now()
		switch {
		case answered && polled.IsZero():
			return ans, nil
		// Until the job is answered, a poll waits in the link's output behind the rest of
		// the job (seconds for a big logo or a slow line): only the job's deadline bounds
		// it. Once the job is answered the link is clear, and a poll has StatusTimeout.
		case !polled.IsZero() && answered && now.Sub(polled) > p.cfg.StatusTimeout:
			p.dropLocked()
			p.report(Status{}, ErrNoAnswer)
			if answered {
				return 0, fmt.Errorf("%w: %w after the job", ErrNotConfirmed, ErrNoAnswer)
			}
			return giveUp(fmt.Errorf("%w: %w during the job", ErrNotConfirmed, ErrNoAnswer))
		case answered:
			// Finish the poll in flight, so its answers do not meet the next request.
		case ctx.Err() != nil:
			return giveUp(fmt.Errorf("%w: %w", ErrNotConfirmed, ctx.Err()))
		case now.After(deadline):
			p.health.Report(p.cfg.Name, health.Down, CodeOffline,
				fmt.Sprintf("printer at %s did not finish a job within %s", p.cfg.Target, p.cfg.JobTimeout))
			return giveUp(fmt.Errorf("%w: no answer within %s after the job", ErrNotConfirmed, p.cfg.JobTimeout))
		case polled.IsZero() && !now.Before(nextPoll):
			if err := p.writeLocked(statusRequests); err != nil {
				return giveUp(fmt.Errorf("%w: %w", ErrNotConfirmed, err))
			}
			polled, got = now, 0
		}
		n, err := p.port.Read(buf[:])
		if err != nil && !errors.Is(err, devices.ErrTimeout) {
			p.dropLocked()
			p.report(Status{}, err)
			return giveUp(fmt.Errorf("%w: %w", ErrNoPrinter, err))
		}
		for _, b := range buf[:n] {
			switch {
			case isBarrierAnswer(b) && !answered:
				ans, answered = b, true
				if !polled.IsZero() {
					polled = time.Now() // the link is clear now: the poll's time starts here
				}
			case isStatusAnswer(b) && !polled.IsZero():
				raw[got] = b
				got++
				if got < len(raw) {
					continue
				}
				polled, nextPoll = time.Time{}, time.Now().Add(p.cfg.JobPoll)
				st, _ := DecodeAll(raw) // every byte passed the check
				p.status, p.known = st, true
				p.report(st, nil)
				if err := st.stopError(); err != nil && !answered {
					return giveUp(fmt.Errorf("during the job: %w", err))
				}
			default:
				// A second barrier answer, a status answer nobody waits for, or noise.
				p.log.Debug("unexpected byte while waiting for a job", "byte", b)
			}
		}
	}
}

// resyncLocked brings the port back in step after a job was given up with its GS r 1
// unanswered. The printer answers queued requests in order, so a GS r 1 sent now is
// answered after that old one: once an answer came, any other follows at once, and what
// comes within a status timeout is read and dropped.
func (p *Printer) resyncLocked(ctx context.Context, deadline time.Time) error {
	if _, err := p.awaitBarrierLocked(ctx, deadline); err != nil {
		return err
	}
	quiet := time.Now().Add(p.cfg.StatusTimeout)
	buf := make([]byte, 16)
	for time.Now().Before(quiet) {
		if _, err := p.port.Read(buf); err != nil && !errors.Is(err, devices.ErrTimeout) {
			p.dropLocked()
			p.report(Status{}, err)
			return fmt.Errorf("%w: %w", ErrNoPrinter, err)
		}
	}
	p.resync = false
	return nil
}

// refreshLocked (re)connects if needed, reads DLE EOT 1-4 and reports health.
func (p *Printer) refreshLocked() (Status, error) {
	if p.port == nil {
		port, err := p.open()
		if err != nil {
			p.report(Status{}, err)
			return Status{}, fmt.Errorf("%w: %w", ErrNoPrinter, err)
		}
		p.port = port
	}
	raw, err := p.readStatusLocked()
	if err != nil {
		p.report(Status{}, err)
		return Status{}, err
	}
	st, err := DecodeAll(raw)
	if err != nil { // cannot happen: readStatusLocked checked every byte
		p.report(Status{}, err)
		return Status{}, fmt.Errorf("%w: %w", ErrNoAnswer, err)
	}
	p.status, p.known = st, true
	p.report(st, nil)
	return st, nil
}

// readStatusLocked sends DLE EOT 1-4 and reads their answers. DLE EOT is answered as soon
// as each request arrives, in order, so the four go out in one write: one round trip.
// Stale input is drained first; after a timeout or a byte that is no status answer the
// port is out of step (a late answer may still come) and is dropped, to be reopened.
func (p *Printer) readStatusLocked() ([4]byte, error) {
	var raw [4]byte
	p.drainLocked()
	if err := p.writeLocked(statusRequests); err != nil {
		return raw, err
	}
	deadline := time.Now().Add(p.cfg.StatusTimeout)
	var buf [4]byte
	for got := 0; got < len(raw); {
		n, err := p.port.Read(buf[:len(raw)-got])
		for _, b := range buf[:n] {
			switch {
			case isStatusAnswer(b):
				raw[got] = b
				got++
			case isBarrierAnswer(b) && p.resync:
				// The late answer to a job given up on: expected, skipped.
			default:
				p.dropLocked()
				return raw, fmt.Errorf("%w: %w: %#02x", ErrNoAnswer, ErrBadStatusByte, b)
			}
		}
		if err != nil && !errors.Is(err, devices.ErrTimeout) {
			p.dropLocked()
			return raw, fmt.Errorf("%w: %w", ErrNoPrinter, err)
		}
		if got < len(raw) && time.Now().After(deadline) {
			p.dropLocked()
			return raw, ErrNoAnswer
		}
	}
	return raw, nil
}

// writeLocked writes a request. A printer that takes no byte for the port's write timeout
// has stopped reading; its port is dropped and the health says so.
func (p *Printer) writeLocked(b []byte) error {
	if _, err := p.port.Write(b); err != nil {
		return p.writeFailedLocked(err)
	}
	return nil
}

func (p *Printer) writeFailedLocked(err error) error {
	p.dropLocked()
	p.report(Status{}, err)
	if errors.Is(err, devices.ErrWriteTimeout) {
		return fmt.Errorf("%w: it stopped taking data: %w", ErrNoAnswer, err)
	}
	return fmt.Errorf("%w: %w", ErrNoPrinter, err)
}

// inputFlusher is a port that can discard unread input at once (devices' serial, file
// and TCP ports can).
type inputFlusher interface{ FlushInput() error }

// drainLocked discards stale answers, e.g. late ones to a request that timed out.
func (p *Printer) drainLocked() {
	if p.port == nil {
		return
	}
	if f, ok := p.port.(inputFlusher); ok && f.FlushInput() == nil {
		return
	}
	buf := make([]byte, 64)
	for i := 0; i < 16 && p.port != nil; i++ {
		if _, err := p.port.Read(buf); err != nil {
			return
		}
	}
}
