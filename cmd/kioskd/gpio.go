package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"periph.io/x/conn/v3/gpio"

	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/hallkiosk/hallkiosk/devices"
	hkgpio "github.com/hallkiosk/hallkiosk/devices/gpio"
	"github.com/hallkiosk/hallkiosk/internal/config"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/store"
	"github.com/hallkiosk/hallkiosk/kiosk"
)

// gpioSpecs builds the cabinet's GPIO devices. Without GPIO chips (a PC, CI, simulator
// mode on a laptop) each configured one is skipped with the reason, never failed.
func (n *node) gpioSpecs(ctx context.Context) []devices.Spec {
	g := n.cfg.GPIO
	names := g.Lines()
	if len(names) == 0 {
		return nil
	}
	pinByName := map[string]gpio.PinIO{}
	var err error
	if n.sims != nil && n.sims.gpio != nil {
		for name, p := range n.sims.gpio.pins {
			pinByName[name] = p
		}
	} else {
		var pins []gpio.PinIO
		pins, err = hkgpio.Open(names...)
		for i, p := range pins {
			pinByName[names[i]] = p
		}
	}
	var specs []devices.Spec
	add := func(name, kind, line string, build func() (devices.Device, error)) {
		s := devices.Spec{Name: name, Kind: kind, Build: build}
		switch {
		case errors.Is(err, hkgpio.ErrNoGPIO):
			s.Skip = "no GPIO chips on this machine (no /dev/gpiochip*)"
		case err != nil:
			e := err
			s.Build = func() (devices.Device, error) { return nil, fmt.Errorf("gpio line %s: %w", line, e) }
		}
		specs = append(specs, s)
	}
	if g.Presence != "" {
		add("presence", "gpio", g.Presence, func() (devices.Device, error) {
			ps := hkgpio.NewPresenceSensor(pinByName[g.Presence], hkgpio.InputConfig{Name: "presence", ActiveLow: g.PresenceActiveLow}, n.log, n.clock)
			go n.consumePresence(ctx, ps)
			n.health.Report("presence", health.OK, "gpio.ready", "presence sensor on "+g.Presence)
			return ps, nil
		})
	}
	if g.Tamper != "" {
		add("cabinet", "gpio", g.Tamper, func() (devices.Device, error) {
			ts := hkgpio.NewTamperSwitch(pinByName[g.Tamper], hkgpio.InputConfig{Name: "cabinet", ActiveLow: g.TamperActiveLow}, n.health, n.log, n.clock)
			go n.consumeTamper(ctx, ts)
			return ts, nil
		})
	}
	if g.LightGreen != "" || g.LightAmber != "" || g.LightRed != "" {
		add("light", "gpio", g.LightGreen+","+g.LightAmber+","+g.LightRed, func() (devices.Device, error) {
			out := func(name string) gpio.PinOut {
				if p, ok := pinByName[name]; ok {
					return p
				}
				return nil
			}
			l := hkgpio.NewStatusLight(out(g.LightGreen), out(g.LightAmber), out(g.LightRed), hkgpio.LightConfig{Name: "light", ActiveLow: g.LightActiveLow}, n.log, n.clock)
			n.health.Report("light", health.OK, "gpio.ready", "status light on "+strings.Trim(g.LightGreen+","+g.LightAmber+","+g.LightRed, ","))
			n.followHealth(ctx, l)
			n.light.Store(l)
			return l, nil
		})
	}
	return specs
}

// gpioSim stands in for the cabinet's GPIO lines in simulator mode: in-process pins
// (periph's gpiotest) that the control protocol sets and reads.
type gpioSim struct {
	cfg  config.GPIO
	pins map[string]*gpiotest.Pin
}

func newGPIOSim(cfg config.GPIO) *gpioSim {
	g := &gpioSim{cfg: cfg, pins: map[string]*gpiotest.Pin{}}
	for _, name := range cfg.Lines() {
		g.pins[name] = &gpiotest.Pin{N: name}
	}
	g.set(cfg.Presence, false, cfg.PresenceActiveLow)
	g.set(cfg.Tamper, false, cfg.TamperActiveLow)
	return g
}

// set drives an input line to active or inactive.
func (g *gpioSim) set(name string, active, activeLow bool) bool {
	p, ok := g.pins[name]
	if !ok {
		return false
	}
	p.Lock()
	p.L = gpio.Level(active != activeLow)
	p.Unlock()
	return true
}

func (g *gpioSim) lamp(name string) string {
	p, ok := g.pins[name]
	if !ok {
		return "none"
	}
	if p.Read() != gpio.Level(g.cfg.LightActiveLow) {
		return "on"
	}
	return "off"
}

// Exec runs one control command: near, left, door open, door closed, lights, help.
func (g *gpioSim) Exec(line string) string {
	ok := true
	switch strings.Join(strings.Fields(line), " ") {
	case "near":
		ok = g.set(g.cfg.Presence, true, g.cfg.PresenceActiveLow)
	case "left":
		ok = g.set(g.cfg.Presence, false, g.cfg.PresenceActiveLow)
	case "door open":
		ok = g.set(g.cfg.Tamper, true, g.cfg.TamperActiveLow)
	case "door closed":
		ok = g.set(g.cfg.Tamper, false, g.cfg.TamperActiveLow)
	case "lights":
		return fmt.Sprintf("ok green=%s amber=%s red=%s", g.lamp(g.cfg.LightGreen), g.lamp(g.cfg.LightAmber), g.lamp(g.cfg.LightRed))
	case "help":
		return "ok commands: near | left | door open | door closed | lights"
	default:
		return "err unknown command (try help)"
	}
	if !ok {
		return "err that line is not configured in [gpio]"
	}
	return "ok " + line
}

// healthState is the status light for the node's overall health: green ok, amber
// degraded, red down.
func (n *node) healthState() hkgpio.LightState {
	switch health.Overall(n.health.All()) {
	case health.Degraded:
		return hkgpio.LightDegraded
	case health.Down:
		return hkgpio.LightOutOfService
	}
	return hkgpio.LightOK
}

// followHealth keeps the status light on the node's overall health, except while a citizen
// has called staff.
func (n *node) followHealth(ctx context.Context, l *hkgpio.StatusLight) {
	set := func() {
		if state := n.healthState(); l.State() != hkgpio.LightStaffCalled && l.State() != state {
			l.Set(state)
		}
	}
	cancel := n.health.Subscribe(func(health.Status) { set() })
	go func() { <-ctx.Done(); cancel() }()
	set()
}

func (n *node) consumePresence(ctx context.Context, ps *hkgpio.PresenceSensor) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-ps.Events():
			n.log.Debug("presence", "event", fmt.Sprintf("%T", ev))
			switch ev.(type) {
			case hkgpio.PersonNear:
				n.sessionInput(kiosk.PersonNear{})
			case hkgpio.PersonLeft:
				n.sessionInput(kiosk.PersonLeft{})
			}
		}
	}
}

// consumeTamper reports every cabinet door change to the platform (tamper.alarm on the
// business stream, UPLINK.md), through the outbox so it survives a network outage.
func (n *node) consumeTamper(ctx context.Context, ts *hkgpio.TamperSwitch) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-ts.Events():
			te, ok := ev.(hkgpio.TamperChanged)
			if !ok {
				continue
			}
			state := "closed"
			if te.Open {
				state = "open"
			}
			err := n.db.Write(ctx, func(tx *store.Tx) error {
				_, _, err := store.AppendOutbox(tx, "business", "tamper.alarm", n.clock.Now(),
					map[string]string{"sensor": "cabinet", "state": state})
				return err
			})
			if err != nil {
				n.log.Error("recording tamper alarm", "err", err)
			}
		}
	}
}
