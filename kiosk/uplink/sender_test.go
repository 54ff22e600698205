package uplink

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// sendT0 is near the wall clock so that created_at (written by the store with time.Now) and
// the fake clock agree about ages.
var sendT0 = time.Now().Truncate(time.Second)

func sendOpenDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kioskd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sendAdd appends n events to stream in one transaction and returns their ids in seq order.
func sendAdd(t testing.TB, db *store.DB, stream, typ string, n int, data func(i int) any) []string {
	t.Helper()
	var ids []string
	err := db.Write(context.Background(), func(tx *store.Tx) error {
		for i := range n {
			var d any = map[string]int{"i": i}
			if data != nil {
				d = data(i)
			}
			id, _, err := store.AppendOutbox(tx, stream, typ, sendT0, d)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func sendCount(t testing.TB, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sendGot is one event as the fake platform received it.
type sendGot struct {
	sendWire
	at     time.Time // fake clock
	status string
}

// sendFake is a small platform: it deduplicates by id, can reject ids, checks the token and
// lets a test take over any request through hook.
type sendFake struct {
	clock clock.Clock
	token string

	mu         sync.Mutex
	seen       map[string]bool
	reject     map[string]string
	got        []sendGot
	lastSeq    map[string]int64
	outOfOrder int
	requests   int
	maxBatch   int
	maxBytes   int
	// hook may answer a request itself (returning true); n counts requests from 1.
	hook func(n int, w http.ResponseWriter, r *http.Request, evs []sendWire) bool
}

func newSendFake(c clock.Clock) *sendFake {
	return &sendFake{clock: c, token: "tok", seen: map[string]bool{}, reject: map[string]string{}, lastSeq: map[string]int64{}}
}

func (f *sendFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Events []sendWire `json:"events"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, `{"error":{"code":"bad_request","message":"bad json"}}`, 400)
		return
	}
	f.mu.Lock()
	f.requests++
	n, hook, tok := f.requests, f.hook, f.token
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+tok {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":{"code":"unauthorized","message":"bad token"}}`)
		return
	}
	if hook != nil && hook(n, w, r, req.Events) {
		return
	}
	f.mu.Lock()
	f.maxBatch = max(f.maxBatch, len(req.Events))
	f.maxBytes = max(f.maxBytes, int(r.ContentLength))
	type result struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Error  string `json:"error,omitempty"`
	}
	var res []result
	now := f.clock.Now()
	for _, e := range req.Events {
		st := "accepted"
		if msg, ok := f.reject[e.ID]; ok {
			res = append(res, result{e.ID, "rejected", msg})
			f.got = append(f.got, sendGot{e, now, "rejected"})
			continue
		}
		if f.seen[e.ID] {
			st = "duplicate"
		} else {
			f.seen[e.ID] = true
			if e.Seq <= f.lastSeq[e.Stream] {
				f.outOfOrder++
			}
			f.lastSeq[e.Stream] = e.Seq
		}
		f.got = append(f.got, sendGot{e, now, st})
		res = append(res, result{ID: e.ID, Status: st})
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"results": res})
}

func (f *sendFake) accepted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

func (f *sendFake) count(status string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, g := range f.got {
		if g.status == status {
			n++
		}
	}
	return n
}

func (f *sendFake) setHook(h func(n int, w http.ResponseWriter, r *http.Request, evs []sendWire) bool) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

// sendRig is a sender with its store, fake clock and platform handler.
type sendRig struct {
	db     *store.DB
	clock  *clock.Fake
	health *health.Registry
	sender *Sender
	srv    *httptest.Server
	cancel context.CancelFunc
	done   chan struct{}
}

func newSendRig(t testing.TB, h http.Handler, fc *clock.Fake, cfg SenderConfig) *sendRig {
	t.Helper()
	if fc == nil {
		fc = clock.NewFake(sendT0)
	}
	r := &sendRig{clock: fc, health: health.NewRegistry(fc.Now), srv: httptest.NewServer(h)}
	t.Cleanup(r.srv.Close)
	if cfg.DB == nil {
		cfg.DB = sendOpenDB(t)
	}
	r.db = cfg.DB
	if cfg.Client == nil {
		cfg.Client = &Client{Base: r.srv.URL, Node: "hall-0571-01-t03", Token: "tok", HTTP: r.srv.Client()}
	}
	cfg.Clock, cfg.Health = fc, r.health
	if cfg.AttemptTimeout == 0 {
		cfg.AttemptTimeout = 5 * time.Second
	}
	r.sender = NewSender(cfg)
	return r
}

// start runs the sender until the test ends (or stop).
func (r *sendRig) start(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		if err := r.sender.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(r.stop)
}

func (r *sendRig) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

// sendPump advances the fake clock by step whenever something waits on it, until the test
// ends, so that backoff, pacing and polling run at test speed. It returns a stop function.
func sendPump(t testing.TB, fc *clock.Fake, step time.Duration) func() {
	return sendPumpWhen(t, fc, step, 1)
}

// sendPumpWhen is sendPump that advances only while at least n timers wait.
func sendPumpWhen(t testing.TB, fc *clock.Fake, step time.Duration, n int) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(100 * time.Microsecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				// Many steps per tick, but only while the loops still wait: a timer that
				// fires takes its waiter away, and the clock stops until it is back.
				for k := 0; k < 200 && fc.Waiters() >= n; k++ {
					fc.Advance(step)
				}
			}
		}
	}()
	var once sync.Once
	stop := func() { once.Do(func() { close(done); <-stopped }) }
	t.Cleanup(stop)
	return stop
}

// sendEventually waits (real time, with a deadline) until cond holds.
func sendEventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSenderDeliversInOrder(t *testing.T) {
	fc := clock.NewFake(sendT0)
	f := newSendFake(fc)
	r := newSendRig(t, f, fc, SenderConfig{DrainRate: 1e6, DrainBurst: 500})
	want := map[string]bool{}
	for _, st := range []string{StreamQueue, StreamBusiness, StreamTelemetry} {
		for _, id := range sendAdd(t, r.db, st, "x.happened", 1203, nil) {
			want[id] = true
		}
	}
	// Big events: the byte cap, not the count, must end these batches.
	big := strings.Repeat("x", 300_000)
	for _, id := range sendAdd(t, r.db, StreamBusiness, "x.big", 7, func(int) any { return map[string]string{"blob": big} }) {
		want[id] = true
	}
	sendPump(t, fc, 10*time.Millisecond)
	r.start(t)
	sendEventually(t, 20*time.Second, "all events accepted", func() bool { return f.accepted() == len(want) })
	sendEventually(t, 5*time.Second, "outbox empty", func() bool { return sendCount(t, r.db, `SELECT COUNT(*) FROM outbox`) == 0 })
	if d := f.count("duplicate"); d != 0 {
		t.Errorf("%d duplicates on a clean run; want 0", d)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.outOfOrder != 0 {
		t.Errorf("out of order = %d; want 0", f.outOfOrder)
	}
	if f.maxBatch > MaxBatchEvents || f.maxBytes > MaxBatchBytes {
		t.Errorf("largest batch %d events, %d bytes; want <= %d, <= %d", f.maxBatch, f.maxBytes, MaxBatchEvents, MaxBatchBytes)
	}
	for id := range want {
		if !f.seen[id] {
			t.Errorf("event %s never arrived", id)
		}
	}
}

// An event the queue commits goes out at once: the sender does not wait for its poll. The
// fake clock never moves here, so the poll never fires.
func TestSenderSendsCommittedEventsAtOnce(t *testing.T) {
	fc := clock.NewFake(sendT0)
	f := newSendFake(fc)
	r := newSendRig(t, f, fc, SenderConfig{DrainRate: math.Inf(1), PollEvery: time.Hour})
	r.start(t)
	// Every stream loop idle on its poll, and the health loop on its tick.
	sendEventually(t, 5*time.Second, "the sender idle", func() bool { return fc.Waiters() >= 4 })
	for i, st := range []string{StreamQueue, StreamBusiness} {
		sendAdd(t, r.db, st, "ticket.issued", 1, nil)
		sendEventually(t, 5*time.Second, st+" event accepted", func() bool { return f.accepted() == i+1 })
	}
}
