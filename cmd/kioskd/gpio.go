package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"periph.io/x/conn/v3/gpio"

	"github.com/hallkiosk/hallkiosk/devices"
	hkgpio "github.com/hallkiosk/hallkiosk/devices/gpio"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// gpioSpecs builds the cabinet's GPIO devices. Without GPIO chips (a PC, CI, simulator
// mode on a laptop) each configured one is skipped with the reason, never failed.
func (n *node) gpioSpecs(ctx context.Context) []devices.Spec {
	g := n.cfg.GPIO
	names := g.Lines()
	if len(names) == 0 {
		return nil
	}
	pins, err := hkgpio.Open(names...)
	pinByName := map[string]gpio.PinIO{}
	for i, p := range pins {
		pinByName[names[i]] = p
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
			n.followHealth(ctx, l)
			return l, nil
		})
	}
	return specs
}

// followHealth keeps the status light on the node's overall health: green ok, amber
// degraded, red down.
func (n *node) followHealth(ctx context.Context, l *hkgpio.StatusLight) {
	set := func() {
		state := hkgpio.LightOK
		switch health.Overall(n.health.All()) {
		case health.Degraded:
			state = hkgpio.LightDegraded
		case health.Down:
			state = hkgpio.LightOutOfService
		}
		if l.State() != hkgpio.LightStaffCalled && l.State() != state {
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
			n.log.Info("presence", "event", fmt.Sprintf("%T", ev))
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
			err := n.db.Write(ctx, func(tx *sql.Tx) error {
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
