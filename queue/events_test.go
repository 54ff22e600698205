package queue

import (
	"encoding/json"
	"testing"
	"time"
)

// TestEventJSON holds each event's data to the bytes encoding/json makes of the map the
// queue used to build, so the platform and the dead-letter store see no difference.
func TestEventJSON(t *testing.T) {
	tk := &Ticket{Number: "A023", Category: "A", Priority: PriorityGreen, Source: SourceAppointment,
		IDHash: hashOf("x"), AppointmentID: `ap-<7>&"q"\`, CallCount: 2,
		Wait: 754499 * time.Millisecond, CalledToStart: 500 * time.Millisecond, Serve: 299500 * time.Millisecond, Parked: 0}
	plain := &Ticket{Number: "B1000", Category: "B", Source: SourceWalkIn, CallCount: 1}
	odd := &Ticket{Number: "C001", Category: "社保\u2028\x01\x7f\xff", Source: SourceWalkIn, Wait: -1500 * time.Millisecond}
	for _, c := range []struct {
		name string
		got  *object
		want map[string]any
	}{
		{"issued", issuedEvent(tk), map[string]any{"ticket": "A023", "category": "A", "priority": "green", "source": "appointment", "id_hash": tk.IDHash}},
		{"issued walk_in", issuedEvent(plain), map[string]any{"ticket": "B1000", "category": "B", "priority": "", "source": "walk_in"}},
		{"issued odd", issuedEvent(odd), map[string]any{"ticket": "C001", "category": odd.Category, "priority": "", "source": "walk_in"}},
		{"checked_in", checkedInEvent(tk), map[string]any{"appointment_id": tk.AppointmentID, "ticket": "A023"}},
		{"called", callEvent(tk, 12), map[string]any{"ticket": "A023", "window": 12, "call_count": 2, "category": "A"}},
		{"transferred", transferredEvent(tk, "A", "B", Front), map[string]any{"ticket": "A023", "from_category": "A", "to_category": "B", "position": "front"}},
		{"next step", nextStepEvent(tk, "A", "C", 299500), map[string]any{"ticket": "A023", "from_category": "A", "to_category": "C",
			"reason": "next_step", "serve_s": int64(300)}},
		{"finished", finishedEvent(tk, Served, ""), map[string]any{"ticket": "A023", "outcome": "served", "wait_s": int64(754),
			"serve_s": int64(300), "category": "A", "called_to_start_s": int64(1), "parked_s": int64(0)}},
		{"finished reason", finishedEvent(odd, NoShow, "recalled 3 times"), map[string]any{"ticket": "C001", "outcome": "no_show",
			"wait_s": int64(-1), "serve_s": int64(0), "category": odd.Category, "called_to_start_s": int64(0), "parked_s": int64(0),
			"reason": "recalled 3 times"}},
	} {
		want, err := json.Marshal(c.want)
		if err != nil {
			t.Fatal(err)
		}
		if string(c.got.b) != string(want) {
			t.Errorf("%s = %s; want %s", c.name, c.got.b, want)
		}
	}
}
