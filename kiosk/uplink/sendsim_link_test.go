package uplink

// The Sender and the Puller together on one Client against the reference platform
// (internal/platformsim), wired as kioskd wires them: a request with the refused token that
// succeeds resumes sending (Client.Accepted, Sender.TokenAccepted), and a settled
// certificate.printed deletes the pickup's document (SenderConfig.Settled, Puller.Settled).

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/platformsim"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// puller returns a Puller on the rig's client, store and clock.
func (r *simRig) puller(t testing.TB) *Puller {
	t.Helper()
	p, err := NewPuller(PullerConfig{Client: r.client, DB: r.db, Clock: r.clock, DocKey: pullKey(), Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func simUnauthorized(s *Sender) bool {
	st, _ := s.State(context.Background())
	return st.Unauthorized
}

// simResumes counts the times sending was resumed (or the token changed): each makes the
// refusals of requests sent before it stale.
func simResumes(s *Sender) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authGen
}

// TestSimUnauthorizedResumesByItself: a 401 blip stops sending; once the platform takes the
// token again, the puller's next successful pull resumes sending, without anyone calling
// Resume, and every event arrives once, in order.
func TestSimUnauthorizedResumesByItself(t *testing.T) {
	r := newSimRig(t)
	r.sim.SetFaults(platformsim.Faults{Unauthorized: true})
	created := simAddAll(t, r.db, 50)
	s := r.sender(t, SenderConfig{})
	r.client.Accepted = s.sender.TokenAccepted // as kioskd wires it
	p := r.puller(t)
	sendPump(t, r.clock, 100*time.Millisecond)
	s.start(t)
	ctx, cancel := context.WithCancel(context.Background())
	pulling := make(chan struct{})
	go func() { defer close(pulling); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-pulling })

	sendEventually(t, 10*time.Second, "unauthorized", func() bool { return simUnauthorized(s.sender) })
	// The pulls are refused too and go on trying: that resumes nothing.
	refused := r.sim.Stats(simNode).Requests
	sendEventually(t, 10*time.Second, "refused pulls", func() bool { return r.sim.Stats(simNode).Requests >= refused+6 })
	if !simUnauthorized(s.sender) || r.outbox(t) != 150 {
		t.Fatalf("while the platform refuses the token: unauthorized %v, outbox %d; want true, 150", simUnauthorized(s.sender), r.outbox(t))
	}

	r.sim.SetFaults(platformsim.Faults{})
	sendEventually(t, 30*time.Second, "outbox empty without a manual resume", func() bool { return r.outbox(t) == 0 })
	r.checkExactlyOnce(t, created, false)
	s.sender.reportNow()
	if h, _ := s.health.Get("uplink"); h.Code != "uplink.ok" {
		t.Errorf("health after the automatic resume = %+v; want uplink.ok", h)
	}
}

// TestSimStaleSuccessDoesNotResume: a pull answered 200 that was on its way before the 401
// proves nothing about the token now, nor does a success with another token; a pull that
// starts after the refusal and succeeds does resume.
func TestSimStaleSuccessDoesNotResume(t *testing.T) {
	r := newSimRig(t)
	// The platform answers the first catalogue pull at once (the token is good), and the
	// answer is held on the way back until release is closed.
	served, release := make(chan struct{}), make(chan struct{})
	let := sync.OnceFunc(func() { close(release) })
	t.Cleanup(let) // the server closes only once the held answer is out
	var held atomic.Bool
	r.mu.Lock()
	r.intercept = func(w http.ResponseWriter, req *http.Request, h http.Handler) bool {
		if req.URL.Path != "/v1/catalog" || !held.CompareAndSwap(false, true) {
			return false
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		close(served)
		<-release
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return true
	}
	r.mu.Unlock()
	s := r.sender(t, SenderConfig{Streams: []string{StreamQueue}})
	r.client.Accepted = s.sender.TokenAccepted
	p := r.puller(t)
	ctx := context.Background()
	stale := make(chan error, 1)
	go func() { _, err := p.PullCatalog(ctx); stale <- err }()
	<-served

	r.sim.SetFaults(platformsim.Faults{Unauthorized: true})
	sendAdd(t, r.db, StreamQueue, "ticket.issued", 5, nil)
	sendPump(t, r.clock, 100*time.Millisecond)
	s.start(t)
	sendEventually(t, 10*time.Second, "unauthorized", func() bool { return simUnauthorized(s.sender) })

	// A wrong resume would not show in Unauthorized for long (the stream sends at once, is
	// refused again and stops again), so count the resumes themselves.
	before := simResumes(s.sender)
	let()
	if err := <-stale; err != nil {
		t.Fatalf("the held pull = %v; want its 200", err)
	}
	if n := simResumes(s.sender); n != before || !simUnauthorized(s.sender) {
		t.Fatalf("a pull that started before the 401: %d resumes, unauthorized %v; want none, still stopped", n-before, simUnauthorized(s.sender))
	}
	s.sender.TokenAccepted("another-token")()
	if n := simResumes(s.sender); n != before || !simUnauthorized(s.sender) {
		t.Fatalf("a success with another token: %d resumes; want none", n-before)
	}
	if _, err := p.PullCatalog(ctx); !errors.Is(err, ErrUnauthorized) || simResumes(s.sender) != before {
		t.Fatalf("a refused pull = %v, %d resumes; want ErrUnauthorized, none", err, simResumes(s.sender)-before)
	}
	if n := r.sim.Stats(simNode).Streams[StreamQueue].Accepted; n != 0 {
		t.Fatalf("%d events accepted while stopped", n)
	}

	r.sim.SetFaults(platformsim.Faults{})
	if _, err := p.PullCatalog(ctx); err != nil { // a 304 to the held pull's ETag
		t.Fatal(err)
	}
	if n := simResumes(s.sender); n != before+1 || simUnauthorized(s.sender) {
		t.Fatalf("a pull with the same token succeeded after the refusal: %d resumes, unauthorized %v; want 1, false", n-before, simUnauthorized(s.sender))
	}
	sendEventually(t, 20*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
	r.checkExactlyOnce(t, map[string]int{StreamQueue: 5}, false)
}

// TestSimPrintedPickupAcknowledged: the certificate.printed event of a printed pickup,
// once the platform settles it (accepted, or duplicate after an answer the node could not
// read, or accepted after a rejection and a re-queue), deletes the pickup's document and
// holder; until then, and for the pickups not printed, everything stays.
func TestSimPrintedPickupAcknowledged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults platformsim.Faults
	}{
		{"accepted", platformsim.Faults{}},
		{"duplicate", platformsim.Faults{WrongShape: true}},
		{"rejected and re-queued", platformsim.Faults{Reject: []string{EventCertificatePrinted}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newSimRig(t)
			p := r.puller(t)
			ctx := context.Background()
			if _, err := p.PullPickups(ctx); err != nil {
				t.Fatal(err)
			}
			list, err := p.Pickups(ctx)
			if err != nil || len(list) < 2 {
				t.Fatalf("Pickups = %d, %v; want platformsim's seeded pickups", len(list), err)
			}
			printed, other := list[0], list[1]
			// What the print flow does: mark the pickup printed, then report it.
			if err := p.MarkPrinted(ctx, printed.PickupID, 1); err != nil {
				t.Fatal(err)
			}
			err = r.db.Write(ctx, func(tx *store.Tx) error {
				_, _, err := store.AppendOutbox(tx, StreamBusiness, EventCertificatePrinted, r.clock.Now(),
					map[string]any{"pickup_id": printed.PickupID, "copies": 1, "printer": "cert", "id_hash": printed.IDHash})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			r.sim.SetFaults(tc.faults)
			s := r.sender(t, SenderConfig{Streams: []string{StreamBusiness}, Settled: p.Settled})
			sendPump(t, r.clock, 100*time.Millisecond)
			s.start(t)

			switch {
			case tc.faults.WrongShape:
				sendEventually(t, 10*time.Second, "stored, answered badly", func() bool {
					st, _ := s.sender.State(ctx)
					return r.sim.Stats(simNode).Streams[StreamBusiness].Accepted == 1 && st.Streams[0].FailStreak >= 2
				})
			case tc.faults.Reject != nil:
				sendEventually(t, 10*time.Second, "a dead letter", func() bool { d, _ := s.sender.ListDead(ctx); return len(d) == 1 })
			}
			if tc.faults.WrongShape || tc.faults.Reject != nil {
				if doc, err := p.Document(ctx, printed.PickupID); err != nil || len(doc) == 0 {
					t.Fatalf("before the platform settled the event, Document = %v; want it kept", err)
				}
				r.sim.SetFaults(platformsim.Faults{})
				if d, _ := s.sender.ListDead(ctx); len(d) == 1 {
					if err := s.sender.Requeue(ctx, d[0].ID); err != nil {
						t.Fatal(err)
					}
				}
			}
			sendEventually(t, 20*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
			if st := r.sim.Stats(simNode).Streams[StreamBusiness]; st.Accepted != 1 || tc.faults.WrongShape && st.Duplicate == 0 {
				t.Fatalf("business stream at the platform: %+v", st)
			}

			if _, err := p.Document(ctx, printed.PickupID); !errors.Is(err, ErrNoPickup) {
				t.Errorf("Document of the acknowledged pickup = %v; want ErrNoPickup", err)
			}
			var docGone bool
			var idHash, holder string
			r.db.Read().QueryRow(`SELECT document IS NULL, id_hash, holder_masked FROM downlink_pickups WHERE pickup_id = ?`,
				printed.PickupID).Scan(&docGone, &idHash, &holder)
			if !docGone || idHash != "" || holder != "" {
				t.Errorf("acknowledged pickup: document gone %v, id_hash %q, holder %q; want gone, empty, empty", docGone, idHash, holder)
			}
			left, _ := p.Pickups(ctx)
			if slices.ContainsFunc(left, func(pk Pickup) bool { return pk.PickupID == printed.PickupID }) || len(left) != len(list)-1 {
				t.Errorf("pickups after the ack = %+v; want all but %s", left, printed.PickupID)
			}
			if doc, err := p.Document(ctx, other.PickupID); err != nil || len(doc) == 0 {
				t.Errorf("Document of a pickup not printed = %v; want it kept", err)
			}
			// The platform still lists it: the tombstone keeps it from coming back.
			if _, err := p.PullPickups(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Document(ctx, printed.PickupID); !errors.Is(err, ErrNoPickup) {
				t.Errorf("after another pull, Document = %v; want ErrNoPickup", err)
			}
		})
	}
}

// TestSettledIgnoresOtherEvents: events other than certificate.printed, and a
// certificate.printed for a pickup not printed here, settle without touching a pickup, so
// they never hold their stream.
func TestSettledIgnoresOtherEvents(t *testing.T) {
	r := newSimRig(t)
	p := r.puller(t)
	ctx := context.Background()
	if _, err := p.PullPickups(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := p.Pickups(ctx)
	sendAdd(t, r.db, StreamBusiness, "evaluation.submitted", 3, nil)
	sendAdd(t, r.db, StreamBusiness, EventCertificatePrinted, 2, func(i int) any {
		return map[string]any{"pickup_id": []string{list[0].PickupID, "pk-unknown"}[i], "copies": 1} // not marked printed
	})
	s := r.sender(t, SenderConfig{Streams: []string{StreamBusiness}, Settled: p.Settled})
	sendPump(t, r.clock, 100*time.Millisecond)
	s.start(t)
	sendEventually(t, 20*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
	if l, _ := p.Pickups(ctx); len(l) != len(list) {
		t.Errorf("pickups = %d; want all %d kept", len(l), len(list))
	}
	if d, _ := s.sender.ListDead(ctx); len(d) != 0 {
		t.Errorf("dead letters: %+v", d)
	}
}

// TestSettledErrorDoesNotHoldTheStream: a Settled hook that fails every time has its
// writes undone and is logged, and the events still settle and the stream goes on.
func TestSettledErrorDoesNotHoldTheStream(t *testing.T) {
	r := newSimRig(t)
	sendAdd(t, r.db, StreamBusiness, "evaluation.submitted", 3, nil)
	var calls atomic.Int32
	failing := func(tx *store.Tx, typ string, data json.RawMessage) error {
		calls.Add(1)
		if _, err := tx.Exec(`INSERT INTO meta(key, value) VALUES('settled-half-done', 'x')`); err != nil {
			return err
		}
		return errors.New("disk says no")
	}
	s := r.sender(t, SenderConfig{Streams: []string{StreamBusiness}, Settled: failing})
	sendPump(t, r.clock, 100*time.Millisecond)
	s.start(t)
	sendEventually(t, 20*time.Second, "outbox empty", func() bool { return r.outbox(t) == 0 })
	if n := calls.Load(); n != 3 {
		t.Errorf("Settled called %d times; want once per event, 3", n)
	}
	if n := sendCount(t, r.db, `SELECT COUNT(*) FROM meta WHERE key = 'settled-half-done'`); n != 0 {
		t.Errorf("the failed hook's write was kept (%d rows)", n)
	}
}

// TestSimRefusedOnlyForEventsStopsResumingByItself: a platform (or a proxy) that takes the
// token for pulls but refuses it for events would make sending resume and stop at every
// pull. After one automatic resume that is refused again, sending waits for a technician.
func TestSimRefusedOnlyForEventsStopsResumingByItself(t *testing.T) {
	r := newSimRig(t)
	var refuse atomic.Bool
	refuse.Store(true)
	r.mu.Lock()
	r.intercept = func(w http.ResponseWriter, req *http.Request, h http.Handler) bool {
		if refuse.Load() && req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/events") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error": {"code": "forbidden", "message": "events refused"}}`))
			return true
		}
		return false
	}
	r.mu.Unlock()
	sendAdd(t, r.db, StreamQueue, "ticket.issued", 5, nil)
	s := r.sender(t, SenderConfig{Streams: []string{StreamQueue}})
	r.client.Accepted = s.sender.TokenAccepted
	p := r.puller(t)
	ctx := context.Background()
	sendPump(t, r.clock, 100*time.Millisecond)
	s.start(t)
	sendEventually(t, 10*time.Second, "unauthorized", func() bool { return simUnauthorized(s.sender) })

	before := simResumes(s.sender)
	if _, err := p.PullCatalog(ctx); err != nil { // resumes by itself once...
		t.Fatal(err)
	}
	sendEventually(t, 10*time.Second, "refused again", func() bool {
		return simResumes(s.sender) > before && simUnauthorized(s.sender)
	})
	after := simResumes(s.sender)
	for range 3 { // ...but not again
		if _, err := p.PullCatalog(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := simResumes(s.sender); n != after || !simUnauthorized(s.sender) {
		t.Fatalf("after a second refusal, pulls resumed sending %d more times; want none", n-after)
	}
	refuse.Store(false)
	if !s.sender.Resume() {
		t.Fatal("Resume = false; want true (sending had stopped)")
	}
	sendEventually(t, 20*time.Second, "outbox empty after the technician's resume", func() bool { return r.outbox(t) == 0 })
}
