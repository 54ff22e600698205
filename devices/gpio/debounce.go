package gpio

import (
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Debouncer turns raw samples into stable levels: a new level counts only once every
// sample for Delay has shown it. It does no I/O.
type Debouncer struct {
	Delay time.Duration

	stable, candidate gpio.Level
	since             time.Time
	started           bool
}

// NewDebouncer starts from a known stable level.
func NewDebouncer(delay time.Duration, initial gpio.Level) *Debouncer {
	return &Debouncer{Delay: delay, stable: initial, candidate: initial}
}

// Update takes a sample read at now and reports whether the stable level changed.
func (d *Debouncer) Update(l gpio.Level, now time.Time) (gpio.Level, bool) {
	if !d.started || l != d.candidate {
		d.started = true
		d.candidate, d.since = l, now
	}
	if d.candidate != d.stable && now.Sub(d.since) >= d.Delay {
		d.stable = d.candidate
		return d.stable, true
	}
	return d.stable, false
}

// Level is the stable level.
func (d *Debouncer) Level() gpio.Level { return d.stable }
