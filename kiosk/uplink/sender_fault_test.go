package uplink

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

func TestSendBackoff(t *testing.T) {
	half := func() float64 { return 0.5 }
	top := func() float64 { return 0.999999 }
	tests := []struct {
		n     int
		after time.Duration
		rnd   func() float64
		want  time.Duration
	}{
		{1, 0, half, 500 * time.Millisecond},
		{2, 0, half, time.Second},
		{4, 0, half, 4 * time.Second},
		{9, 0, half, 128 * time.Second},
		{10, 0, half, 150 * time.Second}, // 512s capped at 300s
		{100, 0, half, 150 * time.Second},
		{1, 30 * time.Second, half, 30 * time.Second}, // Retry-After is a floor
		{12, 30 * time.Second, top, 299999700 * time.Microsecond},
		{3, 0, func() float64 { return 0 }, 0},
	}
	for _, tt := range tests {
		if got := sendBackoff(tt.n, time.Second, 5*time.Minute, tt.after, tt.rnd); got != tt.want {
			t.Errorf("sendBackoff(%d, after %s) = %s; want %s", tt.n, tt.after, got, tt.want)
		}
	}
}

func TestSendBucket(t *testing.T) {
	fc := clock.NewFake(sendT0)
	b := newSendBucket(fc, 200, 500)
	ctx := context.Background()
	if err := b.take(ctx, 500); err != nil { // the burst is there at once
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- b.take(ctx, 100) }() // 100 more cost half a second
	sendEventually(t, 5*time.Second, "the taker to wait on the clock", func() bool { return fc.Waiters() == 1 })
	fc.Advance(499 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("take(100) returned before 0.5s at 200/s")
	default:
	}
	fc.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestSenderBadAnswersNeverAck: an answer that is not the contract's shape is a failed
// attempt; the batch is sent again whole and only a good answer deletes it.
func TestSenderBadAnswersNeverAck(t *testing.T) {
	bad := map[string]func(evs []sendWire) (int, string){
		"fewer results": func(evs []sendWire) (int, string) {
			return 200, fmt.Sprintf(`{"results":[{"id":%q,"status":"accepted"}]}`, evs[0].ID)
		},
		"wrong order": func(evs []sendWire) (int, string) {
			return 200, fmt.Sprintf(`{"results":[{"id":%q,"status":"accepted"},{"id":%q,"status":"accepted"}]}`, evs[1].ID, evs[0].ID)
		},
		"unknown status": func(evs []sendWire) (int, string) {
			return 200, fmt.Sprintf(`{"results":[{"id":%q,"status":"ok"},{"id":%q,"status":"accepted"}]}`, evs[0].ID, evs[1].ID)
		},
		"no results":  func([]sendWire) (int, string) { return 200, `{"ok":true}` },
		"null":        func([]sendWire) (int, string) { return 200, `{"results":null}` },
		"garbage":     func([]sendWire) (int, string) { return 200, "<html>502 Bad Gateway</html>" },
		"202":         func([]sendWire) (int, string) { return 202, `{"results":[]}` },
		"500":         func([]sendWire) (int, string) { return 500, `{"error":{"code":"internal","message":"x"}}` },
		"400 no body": func([]sendWire) (int, string) { return 400, `Bad Request` },
		"409 api":     func([]sendWire) (int, string) { return 409, `{"error":{"code":"conflict","message":"x"}}` },
	}
	for name, answer := range bad {
		t.Run(name, func(t *testing.T) {
			fc := clock.NewFake(sendT0)
			f := newSendFake(fc)
			var mu sync.Mutex
			var firsts []string
			f.setHook(func(n int, w http.ResponseWriter, r *http.Request, evs []sendWire) bool {
				mu.Lock()
				firsts = append(firsts, evs[0].ID)
				mu.Unlock()
				if n > 3 {
					return false
				}
				code, body := answer(evs)
				w.WriteHeader(code)
				fmt.Fprint(w, body)
				return true
			})
			r := newSendRig(t, f, fc, SenderConfig{Streams: []string{StreamQueue}})
			ids := sendAdd(t, r.db, StreamQueue, "ticket.issued", 2, nil)
			sendPump(t, fc, 100*time.Millisecond)
			r.start(t)
			sendEventually(t, 10*time.Second, "delivery", func() bool { return f.accepted() == 2 })
			sendEventually(t, 5*time.Second, "outbox empty", func() bool { return sendCount(t, r.db, `SELECT COUNT(*) FROM outbox`) == 0 })
			mu.Lock()
			defer mu.Unlock()
			for i, id := range firsts[:4] {
				if id != ids[0] {
					t.Errorf("attempt %d started with %s; want %s again (a bad answer must not ack)", i+1, id, ids[0])
				}
			}
		})
	}
}

func TestSenderUnauthorizedStopsAll(t *testing.T) {
	fc := clock.NewFake(sendT0)
	f := newSendFake(fc)
	f.token = "new-token"
	r := newSendRig(t, f, fc, SenderConfig{})
	for _, st := range []string{StreamQueue, StreamBusiness, StreamTelemetry} {
		sendAdd(t, r.db, st, "x.happened", 10, nil)
	}
	r.start(t)
	sendEventually(t, 5*time.Second, "uplink.unauthorized", func() bool {
		h, _ := r.health.Get("uplink")
		return h.Code == "uplink.unauthorized" && h.State == health.Down
	})
	f.mu.Lock()
	before := f.requests
	f.mu.Unlock()
	if before > 3 {
		t.Errorf("%d requests before stopping; want at most one per stream", before)
	}
	fc.Advance(time.Hour) // no backoff retry: only a new token or Resume restarts
	fc.Advance(time.Hour)
	st, err := r.sender.State(context.Background())
	if err != nil || !st.Unauthorized || st.Overall != StateOffline || st.Backlog != 30 {
		t.Errorf("State = %+v, %v; want unauthorized, offline, 30 kept", st, err)
	}
	f.mu.Lock()
	after := f.requests
	f.mu.Unlock()
	if after > 3 {
		t.Errorf("%d requests while unauthorized; want at most the first refusal of each stream", after)
	}
	sendPump(t, fc, 100*time.Millisecond)
	r.sender.SetToken("new-token")
	sendEventually(t, 10*time.Second, "delivery with the new token", func() bool { return f.accepted() == 30 })
	sendEventually(t, 5*time.Second, "uplink.ok", func() bool {
		r.sender.reportNow()
		h, _ := r.health.Get("uplink")
		return h.Code == "uplink.ok"
	})
}

// TestSenderRetryAfter: a 429 with Retry-After: 30 delays the next attempt by at least 30s of
// the clock, though the backoff alone would wait under a second.
func TestSenderRetryAfter(t *testing.T) {
	fc := clock.NewFake(sendT0)
	f := newSendFake(fc)
	var mu sync.Mutex
	var at []time.Time
	f.setHook(func(n int, w http.ResponseWriter, r *http.Request, evs []sendWire) bool {
		mu.Lock()
		at = append(at, fc.Now())
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(429)
			fmt.Fprint(w, `{"error":{"code":"rate_limited","message":"slow down"}}`)
			return true
		}
		return false
	})
	r := newSendRig(t, f, fc, SenderConfig{Streams: []string{StreamQueue}})
	sendAdd(t, r.db, StreamQueue, "ticket.issued", 3, nil)
	sendPumpWhen(t, fc, 250*time.Millisecond, 2) // the stream and the health loop both wait
	r.start(t)
	sendEventually(t, 10*time.Second, "delivery", func() bool { return f.accepted() == 3 })
	mu.Lock()
	defer mu.Unlock()
	if gap := at[1].Sub(at[0]); gap < 30*time.Second || gap > 31*time.Second {
		t.Errorf("retry after %s of the clock; want 30s (Retry-After)", gap)
	}
}

func TestSenderRejectDeadLetterRequeue(t *testing.T) {
	fc := clock.NewFake(sendT0)
	f := newSendFake(fc)
	r := newSendRig(t, f, fc, SenderConfig{Streams: []string{StreamBusiness}})
	ids := sendAdd(t, r.db, StreamBusiness, "application.submitted", 5, nil)
	f.mu.Lock()
	f.reject[ids[2]] = "item_code unknown"
	f.mu.Unlock()
	sendPump(t, fc, 100*time.Millisecond)
	r.start(t)
	sendEventually(t, 10*time.Second, "4 accepted", func() bool { return f.accepted() == 4 })
	sendEventually(t, 5*time.Second, "outbox empty", func() bool { return sendCount(t, r.db, `SELECT COUNT(*) FROM outbox`) == 0 })
	dead, err := r.sender.ListDead(context.Background())
	if err != nil || len(dead) != 1 || dead[0].ID != ids[2] || dead[0].Seq != 3 || dead[0].Error != "item_code unknown" {
		t.Fatalf("ListDead = %+v, %v; want %s seq 3 with the platform's error", dead, err, ids[2])
	}
	var data map[string]int
	if json.Unmarshal(dead[0].Data, &data) != nil || data["i"] != 2 {
		t.Errorf("dead data = %s; want {\"i\":2}", dead[0].Data)
	}
	st, _ := r.sender.State(context.Background())
	if st.Overall != StateDegraded || st.Code != "uplink.degraded" || st.DeadLetters != 1 {
		t.Errorf("State = %s %s, %d dead; want degraded uplink.degraded, 1", st.Overall, st.Code, st.DeadLetters)
	}
	// A rejected event is never retried by the sender itself.
	fc.Advance(time.Hour)
	if n := f.count("rejected"); n != 1 {
		t.Errorf("rejected %d times; want 1", n)
	}
	f.mu.Lock()
	delete(f.reject, ids[2])
	f.mu.Unlock()
	if err := r.sender.Requeue(context.Background(), ids[2]); err != nil {
		t.Fatal(err)
	}
	sendEventually(t, 10*time.Second, "the requeued event accepted", func() bool { return f.accepted() == 5 })
	f.mu.Lock()
	last := f.got[len(f.got)-1]
	ooo := f.outOfOrder
	f.mu.Unlock()
	if last.ID != ids[2] || last.Seq != 6 || ooo != 0 {
		t.Errorf("requeued event sent as %s seq %d (out of order %d); want %s with the fresh seq 6, in order", last.ID, last.Seq, ooo, ids[2])
	}
	if dead, _ := r.sender.ListDead(context.Background()); len(dead) != 0 {
		t.Errorf("dead letters after requeue = %d; want 0", len(dead))
	}
	if err := r.sender.Requeue(context.Background(), ids[2]); err == nil || !strings.Contains(err.Error(), "no dead letter") {
		t.Errorf("Requeue of a live event = %v; want ErrNoDead", err)
	}
}

func TestSenderOversizeEventDeadLettered(t *testing.T) {
	fc := clock.NewFake(sendT0)
	f := newSendFake(fc)
	r := newSendRig(t, f, fc, SenderConfig{Streams: []string{StreamBusiness}})
	sendAdd(t, r.db, StreamBusiness, "x.small", 2, nil)
	huge := sendAdd(t, r.db, StreamBusiness, "x.huge", 1, func(int) any { return map[string]string{"b": strings.Repeat("y", MaxBatchBytes)} })
	sendAdd(t, r.db, StreamBusiness, "x.small", 2, nil)
	sendPump(t, fc, 100*time.Millisecond)
	r.start(t)
	sendEventually(t, 10*time.Second, "4 accepted", func() bool { return f.accepted() == 4 })
	dead, err := r.sender.ListDead(context.Background())
	if err != nil || len(dead) != 1 || dead[0].ID != huge[0] || !strings.Contains(dead[0].Error, "1 MiB") {
		t.Fatalf("ListDead = %v, %v; want the huge event with a clear error", len(dead), err)
	}
	t.Logf("dead letter error: %s", dead[0].Error)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.outOfOrder != 0 {
		t.Errorf("out of order %d", f.outOfOrder)
	}
}

// TestSenderStreamsIndependent: business events hang at the platform (every attempt runs
// into the attempt timeout) while queue and telemetry drain completely.
func TestSenderStreamsIndependent(t *testing.T) {
	fc := clock.NewFake(sendT0)
	f := newSendFake(fc)
	release := make(chan struct{})
	f.setHook(func(n int, w http.ResponseWriter, r *http.Request, evs []sendWire) bool {
		if evs[0].Stream != StreamBusiness {
			return false
		}
		select {
		case <-release:
			return false
		case <-r.Context().Done():
			return true
		}
	})
	r := newSendRig(t, f, fc, SenderConfig{AttemptTimeout: 50 * time.Millisecond, DrainRate: 1e6})
	sendAdd(t, r.db, StreamBusiness, "x.happened", 20, nil)
	sendAdd(t, r.db, StreamQueue, "x.happened", 1500, nil)
	sendAdd(t, r.db, StreamTelemetry, "x.happened", 700, nil)
	sendPump(t, fc, 100*time.Millisecond)
	r.start(t)
	sendEventually(t, 10*time.Second, "queue and telemetry drained", func() bool { return f.accepted() == 2200 })
	sendEventually(t, 10*time.Second, "business failing", func() bool {
		st, _ := r.sender.State(context.Background())
		return st.Streams[1].Stream == StreamBusiness && st.Streams[1].Backlog == 20 && st.Streams[1].FailStreak > 0
	})
	close(release)
	sendEventually(t, 20*time.Second, "business drained", func() bool { return f.accepted() == 2220 })
}

// TestSenderDrainPace: after an outage, the backlog leaves at DrainRate with at most
// DrainBurst at once, measured by the platform's receive times on the fake clock.
func TestSenderDrainPace(t *testing.T) {
	fc := clock.NewFake(sendT0)
	f := newSendFake(fc)
	const rate, burst = 200.0, 100
	r := newSendRig(t, f, fc, SenderConfig{DrainRate: rate, DrainBurst: burst})
	sendAdd(t, r.db, StreamQueue, "x.happened", 1200, nil)
	sendAdd(t, r.db, StreamBusiness, "x.happened", 800, nil)
	// Move the clock only while all four loops (three streams, health) wait on it, so that it
	// stands still while a batch is on the wire and receive time is departure time.
	sendPumpWhen(t, fc, time.Millisecond, 4)
	r.start(t)
	sendEventually(t, 20*time.Second, "drained", func() bool { return f.accepted() == 2000 })
	f.mu.Lock()
	defer f.mu.Unlock()
	sendCheckPace(t, timesOf(f.got), rate, burst, time.Millisecond) // the clock moves in 1ms steps
	if f.maxBatch > burst {
		t.Errorf("largest batch %d; want <= burst %d", f.maxBatch, burst)
	}
}

func timesOf(got []sendGot) []time.Time {
	var out []time.Time
	for _, g := range got {
		out = append(out, g.at)
	}
	return out
}

// sendCheckPace checks that any window [t_i, t_j] of receive times holds at most
// burst + rate*(t_j - t_i + slack) events (times sorted ascending), and reports the mean
// rate. slack is the test's time resolution: a timer fires at the fake clock's next step, so
// the first event of a window may leave up to one step late.
func sendCheckPace(t *testing.T, at []time.Time, rate float64, burst int, slack time.Duration) {
	t.Helper()
	worst, wi, wj := 0.0, 0, 0
	for i := range at {
		for j := i; j < len(at); j++ {
			allowed := float64(burst) + rate*(at[j].Sub(at[i])+slack).Seconds()
			if n := float64(j - i + 1); n-allowed > worst {
				worst, wi, wj = n-allowed, i, j
			}
		}
	}
	if worst > 0 {
		t.Errorf("pace exceeded by %.1f events: %d events received from %s to %s (rate %g/s, burst %d)",
			worst, wj-wi+1, at[wi].Format("15:04:05.000"), at[wj].Format("15:04:05.000"), rate, burst)
	}
	if len(at) > 1 {
		span := at[len(at)-1].Sub(at[0]).Seconds()
		t.Logf("%d events over %.2fs of the clock: %.0f/s (rate %g, burst %d)", len(at), span, float64(len(at))/span, rate, burst)
	}
}

// TestSenderRunOnce: a second Run while one runs would put two batches of a stream in flight.
func TestSenderRunOnce(t *testing.T) {
	fc := clock.NewFake(sendT0)
	r := newSendRig(t, newSendFake(fc), fc, SenderConfig{Streams: []string{StreamQueue, StreamQueue}})
	if got := r.sender.cfg.Streams; len(got) != 1 {
		t.Errorf("Streams = %q; want the duplicate removed", got)
	}
	r.start(t)
	sendEventually(t, 5*time.Second, "Run to start", func() bool { return r.sender.running.Load() })
	if err := r.sender.Run(context.Background()); err == nil {
		t.Error("a second Run = nil; want an error")
	}
}
