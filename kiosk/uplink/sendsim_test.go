package uplink

// End-to-end tests of the Sender against the reference platform (internal/platformsim).

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/platformsim"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

const simNode = "hall-0571-01-t03"

type simRig struct {
	sim    *platformsim.Sim
	srv    *httptest.Server
	clock  *clock.Fake
	db     *store.DB
	client *Client
	mu     sync.Mutex
	reqAt  []time.Time // fake clock at each request to the events endpoint
	// intercept, if set, sees each request first and may answer it itself (true), e.g. by
	// calling the platform's handler h and holding its answer.
	intercept func(w http.ResponseWriter, req *http.Request, h http.Handler) bool
}

func newSimRig(t testing.TB) *simRig {
	t.Helper()
	fc := clock.NewFake(sendT0)
	sim, err := platformsim.Open(context.Background(), platformsim.Config{DBPath: filepath.Join(t.TempDir(), "platform.db"), Clock: fc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	r := &simRig{sim: sim, clock: fc, db: sendOpenDB(t)}
	h := sim.Handler()
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqAt = append(r.reqAt, fc.Now())
		intercept := r.intercept
		r.mu.Unlock()
		if intercept != nil && intercept(w, req, h) {
			return
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	tok := sim.AddNode(simNode, "hall-0571-01")
	r.client = &Client{Base: r.srv.URL, Node: simNode, Token: tok, HTTP: r.srv.Client()}
	return r
}

// sender returns a Sender wired to the rig (not started).
func (r *simRig) sender(t testing.TB, cfg SenderConfig) *sendRig {
	cfg.DB, cfg.Client = r.db, r.client
	return newSendRig(t, http.NotFoundHandler(), r.clock, cfg)
}

func (r *simRig) outbox(t testing.TB) int { return sendCount(t, r.db, `SELECT COUNT(*) FROM outbox`) }

// checkExactlyOnce: every event created arrived accepted exactly once, in seq order.
func (r *simRig) checkExactlyOnce(t *testing.T, created map[string]int, allowDuplicates bool) {
	t.Helper()
	st := r.sim.Stats(simNode)
	for stream, n := range created {
		ss := st.Streams[stream]
		if ss.Accepted != n || ss.OutOfOrder != 0 || (!allowDuplicates && ss.Duplicate != 0) {
			t.Errorf("stream %s: %+v; want %d accepted, none out of order%s", stream, ss, n, map[bool]string{false: ", no duplicates"}[allowDuplicates])
		}
		seen := map[string]bool{}
		for _, e := range r.sim.Events(simNode, stream) {
			if seen[e.ID] {
				t.Errorf("stream %s: %s stored twice", stream, e.ID)
			}
			seen[e.ID] = true
		}
	}
}

func simAddAll(t testing.TB, db *store.DB, n int) map[string]int {
	sendAdd(t, db, StreamQueue, "ticket.issued", n, nil)
	sendAdd(t, db, StreamBusiness, "evaluation.submitted", n, nil)
	sendAdd(t, db, StreamTelemetry, "x.metric", n, nil) // not compacted: only device.health and node.heartbeat are
	return map[string]int{StreamQueue: n, StreamBusiness: n, StreamTelemetry: n}
}

func TestSimDeliversExactlyOnceInOrder(t *testing.T) {
	r := newSimRig(t)
	created := simAddAll(t, r.db, 1234)
	s := r.sender(t, SenderConfig{DrainRate: 1e6})
	sendPump(t, r.clock, 10*time.Millisecond)
	s.start(t)
	sendEventually(t, 30*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
	r.checkExactlyOnce(t, created, false)
	if st := r.sim.Stats(simNode); st.MaxBatch > MaxBatchEvents {
		t.Errorf("MaxBatch = %d", st.MaxBatch)
	}
}

// TestSimFaults: under each fault the sender keeps trying and keeps everything; once the
// fault ends, every event is accepted exactly once and in order.
func TestSimFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults platformsim.Faults
		dups   bool // the platform stores the batch but answers badly: resent as duplicates
	}{
		{"errors", platformsim.Faults{ErrorRate: 1}, false},
		{"drops", platformsim.Faults{DropRate: 1}, false},
		{"hang", platformsim.Faults{Hang: true}, true}, // a request let go when the fault ends may be one the node gave up on
		{"garbage", platformsim.Faults{Garbage: true}, false},
		{"wrong shape", platformsim.Faults{WrongShape: true}, true},
		{"partition", platformsim.Faults{Partition: true}, false},
		{"rate limit", platformsim.Faults{RateLimit: 2 * time.Second}, false},
		{"latency", platformsim.Faults{Latency: 30 * time.Millisecond}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSimRig(t)
			r.sim.SetFaults(tt.faults)
			created := simAddAll(t, r.db, 300)
			timeout := 10 * time.Second
			if tt.faults.Hang {
				timeout = 100 * time.Millisecond
			}
			s := r.sender(t, SenderConfig{AttemptTimeout: timeout, DrainRate: 1e6})
			sendPump(t, r.clock, 100*time.Millisecond)
			s.start(t)
			if tt.name != "latency" {
				sendEventually(t, 20*time.Second, "three failed attempts per stream", func() bool {
					st, _ := s.sender.State(context.Background())
					for _, p := range st.Streams {
						if p.FailStreak < 3 {
							return false
						}
					}
					return true
				})
				if n := r.outbox(t); n != 900 {
					t.Fatalf("outbox holds %d during the fault; want all 900 (nothing acked falsely)", n)
				}
				if st, _ := s.sender.State(context.Background()); st.Overall != StateOffline || st.Code != "uplink.offline" {
					t.Errorf("State during the fault = %s %s; want offline uplink.offline", st.Overall, st.Code)
				}
				r.sim.SetFaults(platformsim.Faults{})
			}
			sendEventually(t, 30*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
			r.checkExactlyOnce(t, created, tt.dups)
		})
	}
}

// TestSimFlaky: errors and drops at random, never cleared: all arrive all the same.
func TestSimFlaky(t *testing.T) {
	r := newSimRig(t)
	r.sim.SetFaults(platformsim.Faults{ErrorRate: 0.3, DropRate: 0.3})
	created := simAddAll(t, r.db, 2000)
	s := r.sender(t, SenderConfig{DrainRate: 1e6, BatchMax: 100})
	sendPump(t, r.clock, time.Second)
	s.start(t)
	sendEventually(t, 60*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
	r.checkExactlyOnce(t, created, false)
}

func TestSimUnauthorizedAndResume(t *testing.T) {
	r := newSimRig(t)
	r.sim.SetFaults(platformsim.Faults{Unauthorized: true})
	created := simAddAll(t, r.db, 50)
	s := r.sender(t, SenderConfig{})
	sendPump(t, r.clock, 100*time.Millisecond)
	s.start(t)
	sendEventually(t, 10*time.Second, "unauthorized", func() bool {
		st, _ := s.sender.State(context.Background())
		return st.Unauthorized
	})
	reqs := r.sim.Stats(simNode).Requests
	r.clock.Advance(time.Hour)
	time.Sleep(20 * time.Millisecond) // nothing to wait for: proving that nothing happens
	if n := r.sim.Stats(simNode).Requests; n > 3 || n != reqs && reqs >= 3 {
		t.Errorf("%d requests while unauthorized (%d at the refusal); want at most one per stream", n, reqs)
	}
	if n := r.outbox(t); n != 150 {
		t.Errorf("outbox = %d while unauthorized; want 150 kept", n)
	}
	r.sim.SetFaults(platformsim.Faults{})
	if !s.sender.Resume() {
		t.Error("Resume = false; want true: sending had stopped")
	}
	if s.sender.Resume() {
		t.Error("a second Resume = true; want false: sending had not stopped")
	}
	sendEventually(t, 20*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
	r.checkExactlyOnce(t, created, false)
}

// TestSimRetryAfter: the platform's 429 Retry-After: 7 spaces attempts at least 7s apart on
// the clock, where the backoff alone would retry within a second at first.
func TestSimRetryAfter(t *testing.T) {
	r := newSimRig(t)
	r.sim.SetFaults(platformsim.Faults{RateLimit: 7 * time.Second})
	sendAdd(t, r.db, StreamQueue, "ticket.issued", 10, nil)
	s := r.sender(t, SenderConfig{Streams: []string{StreamQueue}, DrainRate: 1e6})
	sendPump(t, r.clock, 100*time.Millisecond)
	s.start(t)
	sendEventually(t, 10*time.Second, "4 attempts", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.reqAt) >= 4
	})
	r.mu.Lock()
	at := append([]time.Time(nil), r.reqAt...)
	r.mu.Unlock()
	for i := 1; i < 4; i++ {
		if gap := at[i].Sub(at[i-1]); gap < 7*time.Second {
			t.Errorf("attempt %d came %s after the 429; want >= 7s (Retry-After)", i+1, gap)
		}
	}
	r.sim.SetFaults(platformsim.Faults{})
	sendEventually(t, 20*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
	r.checkExactlyOnce(t, map[string]int{StreamQueue: 10}, false)
}

// TestSimRejectedStreamDoesNotHoldOthers: the platform rejects every business event; they go
// to the dead letters while queue and telemetry flow; re-queued, they are accepted.
func TestSimRejectedStreamDoesNotHoldOthers(t *testing.T) {
	r := newSimRig(t)
	r.sim.SetFaults(platformsim.Faults{Reject: []string{"evaluation.submitted"}})
	created := simAddAll(t, r.db, 600)
	s := r.sender(t, SenderConfig{DrainRate: 1e6})
	sendPump(t, r.clock, 100*time.Millisecond)
	s.start(t)
	sendEventually(t, 20*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
	st := r.sim.Stats(simNode)
	if st.Streams[StreamQueue].Accepted != 600 || st.Streams[StreamTelemetry].Accepted != 600 || st.Streams[StreamBusiness].Rejected != 600 {
		t.Fatalf("stats = %+v; want queue and telemetry accepted, business rejected", st.Streams)
	}
	dead, err := s.sender.ListDead(context.Background())
	if err != nil || len(dead) != 600 {
		t.Fatalf("ListDead = %d, %v; want 600", len(dead), err)
	}
	r.sim.SetFaults(platformsim.Faults{})
	for _, d := range dead {
		if err := s.sender.Requeue(context.Background(), d.ID); err != nil {
			t.Fatal(err)
		}
	}
	sendEventually(t, 20*time.Second, "requeued accepted", func() bool {
		return r.sim.Stats(simNode).Streams[StreamBusiness].Accepted == 600
	})
	r.checkExactlyOnce(t, created, false)
	if d, _ := s.sender.ListDead(context.Background()); len(d) != 0 {
		t.Errorf("%d dead letters left", len(d))
	}
}

// TestSimDrainPace: a 3,000-event backlog reaches the platform at no more than DrainRate
// events/s plus DrainBurst, by the platform's receive times on the shared fake clock.
func TestSimDrainPace(t *testing.T) {
	r := newSimRig(t)
	sendAdd(t, r.db, StreamQueue, "ticket.issued", 1500, nil)
	sendAdd(t, r.db, StreamBusiness, "evaluation.submitted", 1000, nil)
	sendAdd(t, r.db, StreamTelemetry, "x.metric", 500, nil)
	const rate, burst = 300.0, 200
	s := r.sender(t, SenderConfig{DrainRate: rate, DrainBurst: burst})
	sendPumpWhen(t, r.clock, time.Millisecond, 4) // the clock stands while a batch is on the wire
	s.start(t)
	sendEventually(t, 30*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
	var at []time.Time
	for _, stream := range []string{StreamQueue, StreamBusiness, StreamTelemetry} {
		for _, e := range r.sim.Events(simNode, stream) {
			at = append(at, e.ReceivedAt)
		}
	}
	if len(at) != 3000 {
		t.Fatalf("%d events arrived; want 3000", len(at))
	}
	slicesSortTimes(at)
	sendCheckPace(t, at, rate, burst, 2*time.Millisecond) // clock steps, and the platform's millisecond timestamps
}

// TestSimKillSafety: the sender is stopped at random points, mid-batch included, again and
// again; every event still arrives exactly once as accepted, resends only as duplicate.
func TestSimKillSafety(t *testing.T) {
	r := newSimRig(t)
	r.sim.SetFaults(platformsim.Faults{Latency: 2 * time.Millisecond})
	created := simAddAll(t, r.db, 1500)
	sendPump(t, r.clock, 10*time.Millisecond)
	rnd := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 150 && r.outbox(t) > 0; round++ {
		s := r.sender(t, SenderConfig{DrainRate: 1e6, BatchMax: 50 + rnd.IntN(200)})
		s.start(t)
		// Real time, on purpose: the point is to stop the sender anywhere in its work.
		time.Sleep(time.Duration(rnd.IntN(30000)) * time.Microsecond)
		s.stop()
	}
	t.Logf("%d events left after the random stops", r.outbox(t))
	s := r.sender(t, SenderConfig{DrainRate: 1e6})
	s.start(t)
	sendEventually(t, 60*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
	r.checkExactlyOnce(t, created, true)
	var dups int
	for _, ss := range r.sim.Stats(simNode).Streams {
		dups += ss.Duplicate
	}
	t.Logf("duplicates after random stops: %d", dups)
}

func slicesSortTimes(at []time.Time) {
	for i := 1; i < len(at); i++ { // insertion sort: the input is nearly sorted
		for j := i; j > 0 && at[j].Before(at[j-1]); j-- {
			at[j], at[j-1] = at[j-1], at[j]
		}
	}
}

// TestSimTelemetryCompactedWhileOffline: telemetry piled up during a partition reaches the
// platform thinned to the latest state per device and the latest heartbeat; the queue
// events of the same time all arrive.
func TestSimTelemetryCompactedWhileOffline(t *testing.T) {
	r := newSimRig(t)
	r.sim.SetFaults(platformsim.Faults{Partition: true})
	s := r.sender(t, SenderConfig{})
	ctx := context.Background()
	for i := range 60 {
		dev := []string{"printer", "idcard", "scanner"}[i%3]
		if err := s.sender.AppendTelemetry(ctx, "device.health", map[string]any{"device": dev, "state": "ok", "n": i}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := s.sender.Heartbeat(ctx, "1.0.0", time.Duration(i)*time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	sendAdd(t, r.db, StreamQueue, "ticket.issued", 40, nil)
	sendPump(t, r.clock, 100*time.Millisecond)
	s.start(t)
	sendEventually(t, 10*time.Second, "offline", func() bool {
		st, _ := s.sender.State(ctx)
		return st.Overall == StateOffline
	})
	r.sim.SetFaults(platformsim.Faults{})
	sendEventually(t, 20*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
	var got []string
	for _, e := range r.sim.Events(simNode, StreamTelemetry) {
		got = append(got, e.Type+" "+string(e.Data))
	}
	if len(got) != 4 {
		t.Fatalf("telemetry at the platform = %q; want the latest of 3 devices and 1 heartbeat", got)
	}
	for _, want := range []string{`"n":57`, `"n":58`, `"n":59`, `"uptime_s":57`} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("telemetry at the platform = %q; want one with %s", got, want)
		}
	}
	r.checkExactlyOnce(t, map[string]int{StreamQueue: 40, StreamTelemetry: 4}, false)
}
