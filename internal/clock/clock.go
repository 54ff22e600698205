// Package clock lets code read time through an interface so tests can move it.
package clock

import "time"

// Clock is the time source every loop, timeout and backoff reads.
type Clock interface {
	Now() time.Time
	// After is like time.After.
	After(d time.Duration) <-chan time.Time
}

// Timer is After with a stop function, for a wait that something else may end first (a
// wake-up, a cancelled context). Call stop once the wait is over either way: a stopped
// timer of a Fake no longer counts in Waiters, so a test that moves the clock only while
// every loop sleeps is not fooled by timers nobody waits on.
func Timer(c Clock, d time.Duration) (ch <-chan time.Time, stop func()) {
	if s, ok := c.(interface {
		NewTimer(time.Duration) (<-chan time.Time, func())
	}); ok {
		return s.NewTimer(d)
	}
	return c.After(d), func() {}
}

// Real is the wall clock.
type Real struct{}

func (Real) Now() time.Time                         { return time.Now() }
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// NewTimer is a time.Timer as a channel and its stop.
func (Real) NewTimer(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}
