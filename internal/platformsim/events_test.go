package platformsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const eventsPath = "/v1/nodes/" + testNode + "/events"

func TestEventsAcceptedDuplicateRejected(t *testing.T) {
	f := newFixture(t)
	a, b, c := newID(), newID(), newID()
	bad := ev(newID(), "queue", 0, "ticket.called") // seq 0 is invalid
	got := decodeResults(t, f.must(t, "POST", eventsPath, f.token, batch(
		ev(a, "queue", 1, "ticket.issued"),
		ev(b, "queue", 2, "ticket.called"),
		ev(a, "queue", 1, "ticket.issued"), // the same id again within the batch
		bad,
		ev(c, "telemetry", 1, "node.heartbeat"),
	)))
	want := []string{"accepted", "accepted", "duplicate", "rejected", "accepted"}
	if len(got) != len(want) {
		t.Fatalf("results = %+v; want %d", got, len(want))
	}
	for i, w := range want {
		if got[i].Status != w {
			t.Errorf("result %d = %+v; want %s", i, got[i], w)
		}
	}
	if got[3].Error == "" || got[3].ID != bad["id"] {
		t.Errorf("rejected result = %+v; want its id and an error", got[3])
	}
	// Sent again, as after a lost answer: all duplicates, nothing stored twice.
	got = decodeResults(t, f.must(t, "POST", eventsPath, f.token, batch(ev(a, "queue", 1, "ticket.issued"), ev(b, "queue", 2, "ticket.called"))))
	if got[0].Status != "duplicate" || got[1].Status != "duplicate" {
		t.Errorf("resend = %+v; want duplicates", got)
	}
	st := f.sim.Stats(testNode)
	if q := st.Streams["queue"]; q.Accepted != 2 || q.Duplicate != 3 || q.Rejected != 1 || q.LastSeq != 2 || q.OutOfOrder != 0 {
		t.Errorf("queue stats = %+v; want 2 accepted, 3 duplicate, 1 rejected, last seq 2", q)
	}
	if tel := st.Streams["telemetry"]; tel.Accepted != 1 {
		t.Errorf("telemetry stats = %+v; want 1 accepted", tel)
	}
	if st.EventBatches != 2 || st.MaxBatch != 5 || st.Requests != 2 {
		t.Errorf("stats = %+v; want 2 batches, max 5, 2 requests", st)
	}
	evs := f.sim.Events(testNode, "queue")
	if len(evs) != 2 || evs[0].ID != a || evs[1].ID != b || evs[0].Seq != 1 || string(evs[0].Data) != `{"ticket":"A023"}` {
		t.Errorf("Events = %+v; want a then b", evs)
	}
	if evs[0].OccurredAt.IsZero() || !evs[0].ReceivedAt.Equal(t0) {
		t.Errorf("times = %v, %v; want occurred set and received at the clock %v", evs[0].OccurredAt, evs[0].ReceivedAt, t0)
	}
}

func TestEventsRejectInvalid(t *testing.T) {
	f := newFixture(t)
	mod := func(k string, v any) map[string]any {
		e := ev(newID(), "queue", 1, "ticket.issued")
		if v == nil {
			delete(e, k)
		} else {
			e[k] = v
		}
		return e
	}
	cases := map[string]map[string]any{
		"id not a uuid":      mod("id", "evt-1"),
		"id missing":         mod("id", nil),
		"stream missing":     mod("stream", nil),
		"seq negative":       mod("seq", -3),
		"seq fraction":       mod("seq", 1.5),
		"seq string":         mod("seq", "1"),
		"type empty":         mod("type", ""),
		"occurred_at local":  mod("occurred_at", "2026-11-22 09:15:02"),
		"occurred_at number": mod("occurred_at", 12),
		"data array":         mod("data", []int{1}),
	}
	for name, e := range cases {
		got := decodeResults(t, f.must(t, "POST", eventsPath, f.token, batch(e)))
		if len(got) != 1 || got[0].Status != "rejected" || got[0].Error == "" {
			t.Errorf("%s: results = %+v; want one rejected with an error", name, got)
		}
	}
	if n := len(f.sim.Events(testNode, "queue")); n != 0 {
		t.Errorf("%d invalid events stored; want 0", n)
	}
}

func TestEventsBatchLimits(t *testing.T) {
	f := newFixture(t)
	var many []map[string]any
	for i := range MaxBatchEvents + 1 {
		many = append(many, ev(newID(), "queue", int64(i+1), "ticket.issued"))
	}
	a := f.must(t, "POST", eventsPath, f.token, batch(many...))
	if a.status != http.StatusRequestEntityTooLarge || errorCode(t, a) != "batch_too_large" {
		t.Errorf("501 events: %v; want 413 batch_too_large", a)
	}
	big := ev(newID(), "queue", 1, "ticket.issued")
	big["data"] = map[string]string{"pad": strings.Repeat("x", MaxBatchBytes)}
	if a := f.must(t, "POST", eventsPath, f.token, batch(big)); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("over 1 MiB: %v; want 413", a.status)
	} else {
		errorCode(t, a)
	}
	got := decodeResults(t, f.must(t, "POST", eventsPath, f.token, batch(many[:MaxBatchEvents]...)))
	if len(got) != MaxBatchEvents {
		t.Errorf("500 events: %d results; want 500", len(got))
	}
	for _, body := range []string{`[]`, `{"events": 3}`, `{"events": [] } x`, `{}`, `not json`} {
		if a := f.must(t, "POST", eventsPath, f.token, body); a.status != http.StatusBadRequest {
			t.Errorf("body %q: %v; want 400", body, a)
		} else {
			errorCode(t, a)
		}
	}
}

func TestEventsAuth(t *testing.T) {
	f := newFixture(t)
	other := f.sim.AddNode("n2", "sim-hall")
	body := batch(ev(newID(), "queue", 1, "ticket.issued"))
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"unknown token", strings.Repeat("ab", 32), http.StatusUnauthorized},
		{"other node's token", other, http.StatusForbidden},
		{"own token", f.token, http.StatusOK},
	} {
		a := f.must(t, "POST", eventsPath, tc.token, body)
		if a.status != tc.want {
			t.Errorf("%s: %v; want %d", tc.name, a, tc.want)
		}
		if a.status != http.StatusOK {
			errorCode(t, a)
		}
	}
}

func TestEventsOutOfOrder(t *testing.T) {
	f := newFixture(t)
	for _, seq := range []int64{1, 2, 5, 3, 6, 6} {
		decodeResults(t, f.must(t, "POST", eventsPath, f.token, batch(ev(newID(), "queue", seq, "ticket.issued"))))
	}
	q := f.sim.Stats(testNode).Streams["queue"]
	if q.OutOfOrder != 2 || q.LastSeq != 6 || q.Accepted != 6 {
		t.Errorf("stats = %+v; want 2 out of order (3 after 5, 6 after 6), last seq 6", q)
	}
}

func TestEventsRejectFault(t *testing.T) {
	f := newFixture(t)
	f.sim.SetFaults(Faults{Reject: []string{"tamper.alarm"}})
	got := decodeResults(t, f.must(t, "POST", eventsPath, f.token, batch(
		ev(newID(), "business", 1, "tamper.alarm"), ev(newID(), "business", 2, "evaluation.submitted"))))
	if got[0].Status != "rejected" || !strings.Contains(got[0].Error, "tamper.alarm") || got[1].Status != "accepted" {
		t.Errorf("results = %+v; want tamper.alarm rejected with a message, the other accepted", got)
	}
}

func TestEventsPersist(t *testing.T) {
	f := newFixture(t)
	id := newID()
	decodeResults(t, f.must(t, "POST", eventsPath, f.token, batch(ev(id, "queue", 1, "ticket.issued"))))
	dbPath := ""
	f.sim.db.QueryRow("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&dbPath)
	f.sim.Close()
	s2, err := Open(t.Context(), Config{DBPath: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if evs := s2.Events(testNode, "queue"); len(evs) != 1 || evs[0].ID != id {
		t.Errorf("after reopen Events = %+v; want the one event", evs)
	}
	if st := s2.Stats(testNode).Streams["queue"]; st.Accepted != 1 {
		t.Errorf("after reopen stats = %+v; want 1 accepted", st)
	}
}

func TestEventsConcurrentDuplicates(t *testing.T) {
	f := newFixture(t)
	var events []map[string]any
	for i := range 50 {
		events = append(events, ev(newID(), "queue", int64(i+1), "ticket.issued"))
	}
	const senders = 4
	answers := make(chan []eventResult, senders)
	for range senders {
		go func() {
			a, err := f.do(t, "POST", eventsPath, f.token, batch(events...))
			if err != nil || a.status != 200 {
				answers <- nil
				return
			}
			var r results
			json.Unmarshal(a.body, &r)
			answers <- r.Results
		}()
	}
	accepted := 0
	for range senders {
		res := <-answers
		if len(res) != len(events) {
			t.Fatalf("a sender got %d results; want %d", len(res), len(events))
		}
		for _, r := range res {
			if r.Status == "accepted" {
				accepted++
			}
		}
	}
	if accepted != len(events) || len(f.sim.Events(testNode, "queue")) != len(events) {
		t.Errorf("%d accepted over %d senders; want each of the %d events accepted exactly once", accepted, senders, len(events))
	}
}

func TestUnknownEndpoints(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", eventsPath, http.StatusMethodNotAllowed},
		{"DELETE", "/v1/catalog", http.StatusMethodNotAllowed},
		{"GET", "/v1/nope", http.StatusNotFound},
		{"GET", "/control/nope", http.StatusNotFound},
		{"GET", "/", http.StatusNotFound},
	} {
		a := f.must(t, tc.method, tc.path, f.token, nil)
		if a.status != tc.want {
			t.Errorf("%s %s: %v; want %d", tc.method, tc.path, a, tc.want)
		}
		errorCode(t, a)
	}
}
