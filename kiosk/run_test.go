package kiosk

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/ui"
)

// TestRun drives the loop as cmd/kioskd does: inputs on a channel, the clock for timeouts,
// and the printing screen shown before the ticket prints.
func TestRun(t *testing.T) {
	r := newRig(t)
	shown := make(chan string, 100)
	var mu sync.Mutex
	var last string
	r.taker.onTake = func() {
		mu.Lock()
		defer mu.Unlock()
		if last != ScreenPrinting {
			t.Errorf("Take called while %q was shown; want %q first", last, ScreenPrinting)
		}
	}
	show := func(sc ui.Screen, m ui.Mode) {
		name := sc.Name
		if sc.Modal != nil {
			name += "+modal"
		}
		mu.Lock()
		last = name
		mu.Unlock()
		shown <- name
	}
	expect := func(want string) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case got := <-shown:
				if got == want {
					return
				}
			case <-deadline:
				t.Fatalf("screen %q was never shown", want)
			}
		}
	}
	in := make(chan Input)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.s.Run(ctx, in, show)
		close(done)
	}()
	expect(ScreenAttract)
	in <- UIEvent{ui.Event{Kind: ui.Touch}}
	expect(ScreenHome)
	r.clk.Advance(60 * time.Second)
	expect(ScreenHome + "+modal")
	r.clk.Advance(20 * time.Second)
	expect(ScreenAttract)

	in <- UIEvent{ui.Event{Kind: ui.Touch}}
	for _, id := range []string{"tile:ticket", "cat:A", "skip"} {
		in <- UIEvent{ui.Event{Kind: ui.Tap, ID: id}}
	}
	expect(ScreenPrinting)
	expect(ScreenTicketDone)
	if len(r.taker.reqs) != 1 {
		t.Fatalf("%d tickets taken; want 1", len(r.taker.reqs))
	}
	cancel()
	<-done
	if h := r.s.held(); len(h) > 0 {
		t.Errorf("after Run the session holds %v", h)
	}
}

func TestLoadAppointments(t *testing.T) {
	b, err := LoadAppointments("testdata/appointments.json")
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := b.Find(" 1001 "); !ok || a.ID != "AP-20261123-001" || a.Category != "B" || a.NameMasked != "王*" {
		t.Errorf("Find(1001) = %+v, %v", a, ok)
	}
	if _, ok := b.Find("AP-20261123-002"); !ok {
		t.Error("Find by id failed")
	}
	if _, used := b.Used("AP-20261123-001"); used {
		t.Error("used before check-in")
	}
	b.MarkUsed("AP-20261123-001", "B001")
	if tk, used := b.Used("AP-20261123-001"); !used || tk != "B001" {
		t.Errorf("Used = %q, %v; want B001, true", tk, used)
	}
	for _, tc := range []struct{ name, json, want string }{
		{"unknown field", `[{"id":"1","code":"1","category":"A","start":"2026-11-23T09:00:00+08:00","end":"2026-11-23T10:00:00+08:00","phone":"x"}]`, "unknown field"},
		{"duplicate", `[{"id":"1","code":"1","category":"A","start":"2026-11-23T09:00:00+08:00","end":"2026-11-23T10:00:00+08:00"},
			{"id":"2","code":"1","category":"A","start":"2026-11-23T09:00:00+08:00","end":"2026-11-23T10:00:00+08:00"}]`, "twice"},
		{"end before start", `[{"id":"1","code":"1","category":"A","start":"2026-11-23T10:00:00+08:00","end":"2026-11-23T09:00:00+08:00"}]`, "not before"},
		{"missing code", `[{"id":"1","category":"A","start":"2026-11-23T09:00:00+08:00","end":"2026-11-23T10:00:00+08:00"}]`, "set id, code"},
		{"trailing data", `[] []`, "after the array"},
	} {
		path := filepath.Join(t.TempDir(), "a.json")
		os.WriteFile(path, []byte(tc.json), 0o644)
		if _, err := LoadAppointments(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: LoadAppointments = %v; want an error with %q", tc.name, err, tc.want)
		}
	}
	// Full names in the file are masked on load: the screen shows only what it may.
	b, _ = NewAppointmentBook([]Appointment{{ID: "1", Code: "1", Category: "A", Start: t0, End: t0.Add(time.Hour), NameMasked: testName}})
	if a, _ := b.Find("1"); a.NameMasked != "张**" {
		t.Errorf("NameMasked = %q; want 张**", a.NameMasked)
	}
}
