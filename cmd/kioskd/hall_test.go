package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/config"
	"github.com/hallkiosk/hallkiosk/internal/store"
	"github.com/hallkiosk/hallkiosk/queue"
	"github.com/hallkiosk/hallkiosk/web/hall"
)

// TestQueueConfigKeys: kioskd -check names the TOML keys a technician edits, not the
// engine's Go field names.
func TestQueueConfigKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(c *config.Config)
		want   []string
		absent []string
	}{
		{"duplicate code", func(c *config.Config) { c.Queue.Categories = append(c.Queue.Categories, c.Queue.Categories[0]) },
			[]string{"queue.category[", ".code appears twice"}, []string{"Categories[", ".Code"}},
		{"bad prefix", func(c *config.Config) { c.Queue.Categories[0].Prefix = "ab" },
			[]string{"queue.category[0]", ".prefix"}, []string{"Categories[", ".Prefix"}},
		{"bad range", func(c *config.Config) { c.Queue.Categories[0].Range = []int{10, 5} },
			[]string{"queue.category[0]", ".range", "range = [first, last]"}, []string{"RangeFrom"}},
		{"bad hours", func(c *config.Config) { c.Queue.Categories[0].Open = "9am" },
			[]string{"queue.category[0]", ".open"}, []string{".Open"}},
		{"weights", func(c *config.Config) {
			c.Queue.Windows = append(c.Queue.Windows, config.QueueWindow{ID: 1, Weights: map[string]int{"ZZ": 1}})
		}, []string{"queue.window[0]", ".weights", "[[queue.category]] codes"}, []string{"Policy", "Windows["}},
		{"recalls", func(c *config.Config) { c.Queue.MaxRecalls = -1 },
			[]string{"queue.max_recalls"}, []string{"MaxRecalls"}},
	} {
		c := config.Default()
		tc.edit(c)
		_, err := queueConfig(c)
		if err == nil {
			t.Errorf("%s: queueConfig = nil; want an error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q; want it to contain %q", tc.name, err, w)
			}
		}
		for _, a := range tc.absent {
			if strings.Contains(err.Error(), a) {
				t.Errorf("%s: error %q still says %q", tc.name, err, a)
			}
		}
	}
}

// steppedClock is a wall clock that can step (NTP) while the timers, like the monotonic
// clock real timers run on, do not see the step.
type steppedClock struct {
	*clock.Fake
	mu   sync.Mutex
	step time.Duration
}

func (c *steppedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Fake.Now().Add(c.step)
}

func (c *steppedClock) Step(d time.Duration) {
	c.mu.Lock()
	c.step += d
	c.mu.Unlock()
}

// TestEndDaysFollowsTheWallClock: a node that booted with its clock a day behind (no
// real-time clock) resets yesterday's tickets within a minute of the clock being set, not
// when a timer set for the wrong midnight runs out; and at a real midnight it resets too.
func TestEndDaysFollowsTheWallClock(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	fake := clock.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, shanghai)) // the wrong day
	clk := &steppedClock{Fake: fake}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "kioskd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := queue.New(db, queue.Config{Location: shanghai, Categories: []queue.Category{{Code: "A", Prefix: "A", Windows: []int{1}}},
		Windows: []queue.Window{{ID: 1}}}, clk)
	if err != nil {
		t.Fatal(err)
	}
	issue := func() queue.Ticket {
		tk, _, err := q.Issue(ctx, queue.IssueRequest{Category: "A", Source: queue.SourceWalkIn})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	stale := issue()
	n := &node{clock: clk, log: slog.New(slog.DiscardHandler)}
	hub := &hall.Hub{}
	events, unsubscribe := hub.Subscribe()
	defer unsubscribe()
	// As startHall does: EndDay at start, then the loop from that day's midnight.
	if _, err := q.EndDay(ctx); err != nil {
		t.Fatal(err)
	}
	go n.endDays(ctx, q, hub, q.NextDay(clk.Now()))
	// waitReset moves the clock on a check at a time until the loop publishes a reset. The
	// loop publishes before it sleeps again, so once it waits, a reset is in events.
	waitReset := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			for fake.Waiters() == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%s: the loop stopped waiting", what)
				}
				time.Sleep(100 * time.Microsecond)
			}
			select {
			case <-events:
				return
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no reset", what)
			}
			fake.Advance(endDayCheck)
		}
	}

	clk.Step(24 * time.Hour) // NTP sets the right day: 2026-11-22 10:00
	waitReset("after the clock stepped past midnight")
	if got, want := clk.Now(), time.Date(2026, 11, 22, 10, 0, 0, 0, shanghai).Add(endDayCheck); got.After(want) {
		t.Errorf("reset after the step at %v; want by %v", got, want)
	}
	if tk, _ := q.Ticket(ctx, stale.Number); tk.State != queue.Finished || tk.Outcome != queue.Reset {
		t.Fatalf("yesterday's %s after the step = %s %s; want finished reset", stale.Number, tk.State, tk.Outcome)
	}
	today := issue()
	waitReset("at the next midnight") // about 14 h of minute checks
	if got := clk.Now(); got.Before(time.Date(2026, 11, 23, 0, 0, 0, 0, shanghai)) || got.After(time.Date(2026, 11, 23, 0, 1, 0, 0, shanghai)) {
		t.Errorf("reset at %v; want within a minute after midnight", got)
	}
	if tk, _ := q.Ticket(ctx, today.Number); tk.State != queue.Finished || tk.Outcome != queue.Reset {
		t.Errorf("%s after midnight = %s %s; want finished reset", today.Number, tk.State, tk.Outcome)
	}
}
