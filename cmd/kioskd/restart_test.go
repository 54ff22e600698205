package main

import (
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/config"
	"github.com/hallkiosk/hallkiosk/kiosk/uplink"
)

func testNodeConfig() uplink.NodeConfig {
	return uplink.NodeConfig{Hall: "hall-0571-01", HallName: "平台大厅", Timezone: "Asia/Shanghai",
		Categories: []uplink.ConfigCategory{{Code: "Z", Prefix: "Z", NameZH: "平台业务", Windows: []int{7}}},
		Windows:    []uplink.ConfigWindow{{ID: 7, Categories: []string{"Z"}}}}
}

// TestNodeConfigPending: a node config that makes no valid queue is refused; one equal to
// the config running is not pending; a different one is, until it is applied.
func TestNodeConfigPending(t *testing.T) {
	n := &node{cfg: config.Default(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	bad := testNodeConfig()
	bad.Windows[0].Categories = []string{"Q"}
	if err := n.nodeConfig(bad); err == nil || n.configPending.Load() {
		t.Errorf("a config whose window serves an unknown category: err %v, pending %v; want refused", err, n.configPending.Load())
	}
	good := testNodeConfig()
	n.appliedConfig.Store(&good)
	if err := n.nodeConfig(testNodeConfig()); err != nil || n.configPending.Load() {
		t.Errorf("the config running, again: err %v, pending %v; want accepted, not pending", err, n.configPending.Load())
	}
	changed := testNodeConfig()
	changed.HallName = "新名字"
	// The pull of start-up brings what start-up applies at once: not pending.
	n.configStarting.Store(true)
	if err := n.nodeConfig(changed); err != nil || n.configPending.Load() {
		t.Errorf("a changed config pulled at start: err %v, pending %v; want accepted, not pending", err, n.configPending.Load())
	}
	n.configStarting.Store(false)
	if err := n.nodeConfig(changed); err != nil || !n.configPending.Load() {
		t.Errorf("a changed config: err %v, pending %v; want accepted and pending", err, n.configPending.Load())
	}
}

// TestApplyConfigAtNight: kioskd restarts a minute after the hall's midnight, and only when
// a new node config waits; a citizen on the screen then finishes first.
func TestApplyConfigAtNight(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	for _, pending := range []bool{false, true} {
		fc := clock.NewFake(time.Date(2026, 12, 1, 15, 30, 0, 0, loc))
		cfg := config.Default()
		cfg.Node.Timezone = "Asia/Shanghai"
		restarted := make(chan time.Time, 1)
		n := &node{cfg: cfg, clock: fc, restart: func(string) { restarted <- fc.Now() }}
		n.configPending.Store(pending)
		ctx := t.Context()
		go n.applyConfigAtNight(ctx)
		for fc.Waiters() == 0 {
			time.Sleep(time.Millisecond)
		}
		fc.Advance(8*time.Hour + 30*time.Minute) // 00:00 the next day: not yet
		fc.Advance(time.Minute)                  // 00:01
		select {
		case at := <-restarted:
			if want := time.Date(2026, 12, 2, 0, 1, 0, 0, loc); !pending || !at.Equal(want) {
				t.Errorf("pending %v: restarted at %v; want %v and only when pending", pending, at.In(loc), want)
			}
		case <-time.After(200 * time.Millisecond):
			if pending {
				t.Error("no restart after midnight with a new config waiting")
			}
		}
	}

	// Someone at the screen at 00:01: the restart waits for the attract loop.
	fc := clock.NewFake(time.Date(2026, 12, 1, 23, 59, 0, 0, loc))
	cfg := config.Default()
	restarted := make(chan time.Time, 1)
	n := &node{cfg: cfg, clock: fc, restart: func(string) { restarted <- fc.Now() }}
	n.configPending.Store(true)
	var screen atomic.Value
	screen.Store("ticket.category")
	name := func() string { return screen.Load().(string) }
	n.screenName.Store(&name)
	go n.applyConfigAtNight(t.Context())
	for fc.Waiters() == 0 {
		time.Sleep(time.Millisecond)
	}
	fc.Advance(2 * time.Minute) // 00:01
	for range 3 {
		for fc.Waiters() == 0 {
			time.Sleep(time.Millisecond)
		}
		fc.Advance(10 * time.Second)
	}
	select {
	case at := <-restarted:
		t.Fatalf("restarted at %v with a citizen on the screen", at)
	case <-time.After(100 * time.Millisecond):
	}
	screen.Store("attract")
	for fc.Waiters() == 0 {
		time.Sleep(time.Millisecond)
	}
	fc.Advance(10 * time.Second)
	select {
	case <-restarted:
	case <-time.After(2 * time.Second):
		t.Error("no restart once the screen was back on the attract loop")
	}
}
