package uplink

import (
	"context"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/platformsim"
	"github.com/hallkiosk/hallkiosk/queue"
)

// TestPartition72Hours is the issue's promise: the platform is unreachable for 72 hours of
// (injected) clock while the hall issues, calls and serves thousands of tickets and the
// terminal records a heartbeat every minute; then the network heals. The platform ends up
// with every queue event exactly once by id, in seq order, and the backlog drains no faster
// than the configured pace.
func TestPartition72Hours(t *testing.T) {
	if testing.Short() {
		t.Skip("72 hours of simulated hall")
	}
	r := newSimRig(t)
	ctx := context.Background()
	loc := time.FixedZone("CST", 8*3600)
	q, err := queue.New(r.db, queue.Config{
		Categories: []queue.Category{
			{Code: "A", Prefix: "A", Windows: []int{1, 2}},
			{Code: "B", Prefix: "B", Windows: []int{3}},
		},
		Windows:  []queue.Window{{ID: 1}, {ID: 2}, {ID: 3}},
		Location: loc,
	}, r.clock)
	if err != nil {
		t.Fatal(err)
	}
	r.sim.SetFaults(platformsim.Faults{Partition: true})
	const rate, burst = 150.0, 150
	s := r.sender(t, SenderConfig{DrainRate: rate, DrainBurst: burst})
	s.start(t)

	// 72 hours, minute by minute. From 08:00 to 20:00 a ticket is taken every minute and
	// each window calls, serves and finishes one every three minutes.
	tickets, heartbeats := 0, 0
	start := r.clock.Now()
	for m := range 72 * 60 {
		now := r.clock.Now().In(loc)
		if h := now.Hour(); h >= 8 && h < 20 {
			cat := []string{"A", "A", "B"}[m%3]
			if _, _, err := q.Issue(ctx, queue.IssueRequest{Category: cat, Source: queue.SourceWalkIn}); err != nil {
				t.Fatalf("minute %d: Issue: %v", m, err)
			}
			tickets++
			w := m%3 + 1
			if _, err := q.CallNext(ctx, w); err == nil {
				if _, err := q.Start(ctx, w); err != nil {
					t.Fatal(err)
				}
				if _, err := q.Finish(ctx, w, queue.Served, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.sender.Heartbeat(ctx, "test", r.clock.Now().Sub(start)); err != nil {
			t.Fatal(err)
		}
		heartbeats++
		r.clock.Advance(time.Minute)
	}
	queueEvents := sendCount(t, r.db, `SELECT COUNT(*) FROM outbox WHERE stream = 'queue'`)
	if st := r.sim.Stats(simNode); st.Streams[StreamQueue].Accepted != 0 {
		t.Fatalf("the platform got %d queue events through the partition", st.Streams[StreamQueue].Accepted)
	}
	if want := tickets * 3; queueEvents != want {
		t.Fatalf("outbox holds %d queue events after %d tickets; want %d (issued, called, finished)", queueEvents, tickets, want)
	}
	st, err := s.sender.State(ctx)
	if err != nil || st.Overall != StateOffline {
		t.Errorf("State after 72 h of partition = %+v, %v; want offline", st, err)
	}
	t.Logf("72 h partitioned: %d tickets, %d queue events and %d heartbeats waiting (%d telemetry rows after compaction)",
		tickets, queueEvents, heartbeats, sendCount(t, r.db, `SELECT COUNT(*) FROM outbox WHERE stream = 'telemetry'`))

	// Healed: the clock runs at test speed while the senders wait on it. First every loop
	// must be asleep, so that no attempt paid for before the heal (the clock moved a minute
	// at a time while it was on the wire) arrives after it and counts against the pace.
	sendEventually(t, 10*time.Second, "every loop asleep before the heal", func() bool { return r.clock.Waiters() >= 4 })
	r.sim.SetFaults(platformsim.Faults{})
	healed := r.clock.Now()
	sendPumpWhen(t, r.clock, time.Millisecond, 4)
	sendEventually(t, 120*time.Second, "backlog delivered", func() bool {
		return sendCount(t, r.db, `SELECT COUNT(*) FROM outbox`) == 0
	})
	r.checkExactlyOnce(t, map[string]int{StreamQueue: queueEvents}, false)
	var at []time.Time
	for _, stream := range []string{StreamQueue, StreamBusiness, StreamTelemetry} {
		for _, e := range r.sim.Events(simNode, stream) {
			if !e.ReceivedAt.Before(healed) {
				at = append(at, e.ReceivedAt)
			}
		}
	}
	slicesSortTimes(at)
	sendCheckPace(t, at, rate, burst, 2*time.Millisecond)
	if tel := r.sim.Stats(simNode).Streams[StreamTelemetry]; tel.Accepted < 1 || tel.Accepted > heartbeats {
		t.Errorf("telemetry at the platform: %+v; want the heartbeats coalesced, at least the latest", tel)
	}
}
