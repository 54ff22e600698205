package devices

import (
	"context"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
)

// Reconnect is the run loop of a device on a port that can vanish: it opens the port, runs
// session on it until the session returns (a transport fault), closes the port, and tries
// again after a capped, jittered delay, until ctx ends. lost is told of every failed open
// (opened false) and every ended session (opened true) so the driver can report health.
// A session calls ready once the device has answered, which restarts the backoff, so a
// device that keeps vanishing is retried ever more slowly, up to retryCap.
func Reconnect(ctx context.Context, clk clock.Clock, retryCap time.Duration, open func() (Port, error),
	session func(ctx context.Context, p Port, ready func()) error, lost func(opened bool, err error)) {
	b := Backoff{Base: 100 * time.Millisecond, Cap: retryCap, Min: 20 * time.Millisecond}
	for ctx.Err() == nil {
		port, err := open()
		if err != nil {
			lost(false, err)
		} else {
			err = runSession(ctx, port, session, b.Reset)
			if ctx.Err() != nil {
				return
			}
			lost(true, err)
		}
		select {
		case <-ctx.Done():
		case <-clk.After(b.Next()):
		}
	}
}

// runSession runs one session and closes its port however the session ends, a driver's
// panic included, so the supervisor that recovers the panic does not leak the port.
func runSession(ctx context.Context, port Port, session func(ctx context.Context, p Port, ready func()) error, ready func()) error {
	defer port.Close()
	return session(ctx, port, ready)
}
