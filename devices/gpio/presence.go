package gpio

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

// Defaults of the input devices.
const (
	DefaultPoll     = 20 * time.Millisecond
	DefaultDebounce = 200 * time.Millisecond
)

// Event is what the GPIO devices emit.
type Event interface{ gpioEvent() }

// PersonNear is emitted when someone has stood in front of the kiosk for the debounce time.
type PersonNear struct{}

// PersonLeft is emitted when the sensor has seen nobody for the debounce time.
type PersonLeft struct{}

// TamperChanged is emitted when the cabinet door opens or closes.
type TamperChanged struct{ Open bool }

func (PersonNear) gpioEvent()    {}
func (PersonLeft) gpioEvent()    {}
func (TamperChanged) gpioEvent() {}

// InputConfig configures a polled, debounced input.
type InputConfig struct {
	Name     string
	Poll     time.Duration // sampling interval (default 20 ms)
	Debounce time.Duration // a level must hold this long to count (default 200 ms)
	// ActiveLow means the sensor pulls the line low when it detects (open-collector
	// outputs, switches to ground). Otherwise high means detected.
	ActiveLow bool
	Pull      gpio.Pull // bias to set on the line; PullNoChange (default) leaves it as wired
}

func (c *InputConfig) defaults(name string) {
	if c.Name == "" {
		c.Name = name
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Debounce < 0 {
		c.Debounce = 0
	} else if c.Debounce == 0 {
		c.Debounce = DefaultDebounce
	}
}

func (c *InputConfig) active(l gpio.Level) bool { return l != gpio.Level(c.ActiveLow) }

// input is the polling loop shared by PresenceSensor and TamperSwitch.
//
// It samples with Read on the injected clock instead of waiting in WaitForEdge: edge
// waits differ between gpiotest (0 = return at once) and gpioioctl (0 = wait forever),
// cannot be cancelled by a context, and a 20 ms poll costs nothing on a kiosk. Polling
// also makes the debounce testable with a fake clock.
type input struct {
	cfg    InputConfig
	pin    gpio.PinIn
	clock  clock.Clock
	log    *slog.Logger
	events chan Event

	dropped atomic.Int64
}

func newInput(pin gpio.PinIn, cfg InputConfig, log *slog.Logger, clk clock.Clock) input {
	return input{cfg: cfg, pin: pin, clock: clk, log: log.With("device", cfg.Name, "component", cfg.Name), events: make(chan Event, 16)}
}

func (in *input) emit(e Event) {
	select {
	case in.events <- e:
	default:
		in.dropped.Add(1)
	}
}

// run configures the pin, then calls change with every debounced active/inactive state,
// starting with the first one seen (after the debounce) when first is set.
func (in *input) run(ctx context.Context, initial bool, change func(active bool)) error {
	if err := in.pin.In(in.cfg.Pull, gpio.NoEdge); err != nil {
		return err
	}
	initLevel := gpio.Level(initial != in.cfg.ActiveLow)
	d := NewDebouncer(in.cfg.Debounce, initLevel)
	for {
		if l, changed := d.Update(in.pin.Read(), in.clock.Now()); changed {
			change(in.cfg.active(l))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-in.clock.After(in.cfg.Poll):
		}
	}
}

// PresenceSensor watches a presence sensor (PIR, microwave or IR proximity) so the screen
// can wake and greet when someone steps up.
type PresenceSensor struct{ input }

var _ devices.Device = (*PresenceSensor)(nil)

// NewPresenceSensor returns a sensor on pin; it does no I/O until Run.
func NewPresenceSensor(pin gpio.PinIn, cfg InputConfig, log *slog.Logger, clk clock.Clock) *PresenceSensor {
	cfg.defaults("presence")
	return &PresenceSensor{newInput(pin, cfg, log, clk)}
}

func (p *PresenceSensor) String() string { return p.cfg.Name }

// Halt does nothing: an input needs no reset.
func (p *PresenceSensor) Halt() error { return nil }

// Events delivers PersonNear and PersonLeft; events are dropped (and counted) when nobody
// reads them.
func (p *PresenceSensor) Events() <-chan Event { return p.events }

// Dropped counts events nobody read.
func (p *PresenceSensor) Dropped() int64 { return p.dropped.Load() }

// Run samples the sensor until ctx ends. Nobody is assumed near at start, so a person
// already there is announced after the debounce.
func (p *PresenceSensor) Run(ctx context.Context) error {
	return p.run(ctx, false, func(near bool) {
		if near {
			p.log.Debug("person near")
			p.emit(PersonNear{})
		} else {
			p.log.Debug("person left")
			p.emit(PersonLeft{})
		}
	})
}

// Health codes of the tamper switch.
const (
	CodeCabinetOpen   = "cabinet.open"
	CodeCabinetClosed = "cabinet.closed"
)

// TamperSwitch watches the cabinet door switch. "Active" in its InputConfig means open.
type TamperSwitch struct {
	input
	health health.Reporter
}

var _ devices.Device = (*TamperSwitch)(nil)

// NewTamperSwitch returns a switch on pin; it does no I/O until Run.
func NewTamperSwitch(pin gpio.PinIn, cfg InputConfig, rep health.Reporter, log *slog.Logger, clk clock.Clock) *TamperSwitch {
	cfg.defaults("cabinet")
	return &TamperSwitch{input: newInput(pin, cfg, log, clk), health: rep}
}

func (t *TamperSwitch) String() string { return t.cfg.Name }

// Halt does nothing: an input needs no reset.
func (t *TamperSwitch) Halt() error { return nil }

// Events delivers TamperChanged; events are dropped (and counted) when nobody reads them.
func (t *TamperSwitch) Events() <-chan Event { return t.events }

// Run samples the switch until ctx ends. The door is assumed closed at start and health
// says so; an open door is reported (and emitted) after the debounce.
func (t *TamperSwitch) Run(ctx context.Context) error {
	t.health.Report(t.cfg.Name, health.OK, CodeCabinetClosed, "cabinet door closed")
	return t.run(ctx, false, func(open bool) {
		if open {
			t.log.Warn("cabinet door opened")
			t.health.Report(t.cfg.Name, health.Degraded, CodeCabinetOpen, "cabinet door is open")
		} else {
			t.log.Info("cabinet door closed")
			t.health.Report(t.cfg.Name, health.OK, CodeCabinetClosed, "cabinet door closed")
		}
		t.emit(TamperChanged{Open: open})
	})
}
