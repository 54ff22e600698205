package platformsim

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzParseBatch: the events body parser never panics and never passes an event that breaks
// UPLINK.md's rules; run with `go test -fuzz FuzzParseBatch ./internal/platformsim`.
func FuzzParseBatch(f *testing.F) {
	for _, s := range []string{
		`{"events":[{"id":"0192f1c2-0000-7000-8000-000000000001","stream":"queue","seq":41,"type":"ticket.issued","occurred_at":"2026-11-22T09:15:02.113+08:00","data":{"ticket":"A023"}}]}`,
		`{"events":[{"id":"0192F1C2-0000-7000-8000-000000000001","stream":"telemetry","seq":1,"type":"node.heartbeat","occurred_at":"2026-11-22T01:15:02Z"}]}`,
		`{"events":[{"id":"x","seq":"1"},{"seq":1e3},null,[],"s",{"data":[1]}]}`,
		`{"events":[]}`, `{"events":null}`, `{}`, `[]`, `{"events":[{}]} {}`, `{"events":[{"seq":9223372036854775808}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := parseBatch(body)
		if err != nil {
			return
		}
		var check struct {
			Events []json.RawMessage `json:"events"`
		}
		if json.Unmarshal(body, &check) != nil || len(check.Events) != len(events) {
			t.Fatalf("parseBatch(%q) gave %d events; the body holds %d", body, len(events), len(check.Events))
		}
		for _, e := range events {
			if e.Err != "" {
				continue
			}
			if !validUUID(e.ID) || e.ID != string(bytes.ToLower([]byte(e.RawID))) {
				t.Fatalf("accepted id %q", e.RawID)
			}
			if !validName(e.Stream) || !validName(e.Type) || e.Seq <= 0 || e.OccurredAt.IsZero() {
				t.Fatalf("accepted event %+v", e.Event)
			}
			var data map[string]any
			if err := json.Unmarshal(e.Data, &data); err != nil || data == nil {
				t.Fatalf("accepted data %q: %v", e.Data, err)
			}
			if _, err := time.Parse(time.RFC3339Nano, e.OccurredAt.Format(time.RFC3339Nano)); err != nil {
				t.Fatalf("occurred_at %v does not round-trip: %v", e.OccurredAt, err)
			}
		}
	})
}
