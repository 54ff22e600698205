package gpio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/internal/clock"
)

// LightState is what the status light on top of the kiosk tells staff.
type LightState int

const (
	LightOff          LightState = iota // all off
	LightOK                             // steady green
	LightDegraded                       // steady amber: works, but something needs a look
	LightOutOfService                   // steady red
	LightStaffCalled                    // blinking amber: a citizen asked for help
)

func (s LightState) String() string {
	switch s {
	case LightOff:
		return "off"
	case LightOK:
		return "ok"
	case LightDegraded:
		return "degraded"
	case LightOutOfService:
		return "out_of_service"
	case LightStaffCalled:
		return "staff_called"
	}
	return fmt.Sprintf("LightState(%d)", int(s))
}

// DefaultBlink is the blink period of LightStaffCalled: 2 Hz, half on, half off.
const DefaultBlink = 500 * time.Millisecond

// LightConfig configures a StatusLight.
type LightConfig struct {
	Name      string
	Blink     time.Duration // full blink period (default 500 ms = 2 Hz)
	ActiveLow bool          // the driver board lights a lamp on a low line
}

// Lamps is the on/off level of each lamp.
type Lamps struct{ Green, Amber, Red bool }

// Pattern returns the lamps of state at elapsed time since the state was set. It does no I/O.
func Pattern(state LightState, elapsed, blink time.Duration) Lamps {
	switch state {
	case LightOK:
		return Lamps{Green: true}
	case LightDegraded:
		return Lamps{Amber: true}
	case LightOutOfService:
		return Lamps{Red: true}
	case LightStaffCalled:
		if blink <= 0 {
			blink = DefaultBlink
		}
		return Lamps{Amber: elapsed%blink < blink/2}
	}
	return Lamps{}
}

// StatusLight drives a three-lamp signal tower (green, amber, red). A nil pin is a lamp
// that is not fitted.
type StatusLight struct {
	cfg               LightConfig
	green, amber, red gpio.PinOut
	clock             clock.Clock
	log               *slog.Logger

	mu      sync.Mutex
	state   LightState
	since   time.Time
	changed chan struct{}
}

var _ devices.Device = (*StatusLight)(nil)

// NewStatusLight returns a light; it does no I/O until Set or Run.
func NewStatusLight(green, amber, red gpio.PinOut, cfg LightConfig, log *slog.Logger, clk clock.Clock) *StatusLight {
	if cfg.Name == "" {
		cfg.Name = "status_light"
	}
	if cfg.Blink <= 0 {
		cfg.Blink = DefaultBlink
	}
	return &StatusLight{cfg: cfg, green: green, amber: amber, red: red, clock: clk,
		log: log.With("device", cfg.Name, "component", cfg.Name), changed: make(chan struct{}, 1)}
}

func (l *StatusLight) String() string { return l.cfg.Name }

// State returns the state last set.
func (l *StatusLight) State() LightState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Set shows state at once; a blinking state keeps blinking while Run runs.
func (l *StatusLight) Set(state LightState) error {
	l.mu.Lock()
	l.state, l.since = state, l.clock.Now()
	err := l.apply(Pattern(state, 0, l.cfg.Blink))
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return err
}

// apply drives the lamps; l.mu must be held.
func (l *StatusLight) apply(lamps Lamps) error {
	var errs []error
	for _, x := range []struct {
		pin gpio.PinOut
		on  bool
	}{{l.green, lamps.Green}, {l.amber, lamps.Amber}, {l.red, lamps.Red}} {
		if x.pin == nil {
			continue
		}
		if err := x.pin.Out(gpio.Level(x.on != l.cfg.ActiveLow)); err != nil {
			errs = append(errs, fmt.Errorf("gpio: %s: %w", x.pin, err))
		}
	}
	return errors.Join(errs...)
}

// Run keeps a blinking state blinking until ctx ends, timed by the injected clock. The
// phase is computed from the time since Set, so a late tick never drifts the pattern.
func (l *StatusLight) Run(ctx context.Context) error {
	tick := l.cfg.Blink / 2
	for {
		l.mu.Lock()
		blinking := l.state == LightStaffCalled
		if blinking {
			if err := l.apply(Pattern(l.state, l.clock.Now().Sub(l.since), l.cfg.Blink)); err != nil {
				l.log.Warn("status light", "err", err)
			}
		}
		l.mu.Unlock()
		var next <-chan time.Time
		if blinking {
			next = l.clock.After(tick)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.changed:
		case <-next:
		}
	}
}

// Halt turns every lamp off.
func (l *StatusLight) Halt() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.state = LightOff
	return l.apply(Lamps{})
}
