package queue

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// emit appends event typ with data, built by object, to the queue's outbox stream.
func emit(tx *store.Tx, now time.Time, typ string, data *object) error {
	_, _, err := store.AppendOutbox(tx, Stream, typ, now, json.RawMessage(data.b))
	return err
}

// object writes an event's data: a flat JSON object of strings and integers, the bytes
// encoding/json makes of the same map[string]any. Keys must be added in sorted order,
// as encoding/json sorts a map's (TestEventJSON holds every event to that).
//
// Why not a map and json.Marshal: building the map and encoding it (boxing each value,
// sorting the keys, reflecting on the values) was about 6% of Issue's CPU before its
// commit in a profile, for a handful of short fields.
type object struct{ b []byte }

func newObject() *object {
	o := &object{b: make([]byte, 0, 160)}
	o.b = append(o.b, '{')
	return o
}

func (o *object) key(k string) {
	if len(o.b) > 1 {
		o.b = append(o.b, ',')
	}
	o.b = appendString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *object) str(k, v string) *object {
	o.key(k)
	o.b = appendString(o.b, v)
	return o
}

// strOmit adds k only if v is not empty.
func (o *object) strOmit(k, v string) *object {
	if v == "" {
		return o
	}
	return o.str(k, v)
}

func (o *object) int(k string, v int64) *object {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
	return o
}

func (o *object) done() *object {
	o.b = append(o.b, '}')
	return o
}

// appendString appends s as encoding/json quotes it. Codes, numbers and hex hashes have
// nothing to escape and are copied; anything else (a quote, <, > or & that encoding/json
// escapes for HTML, a control or non-ASCII character) goes through encoding/json itself,
// so the bytes are its bytes.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// The events, with their keys in sorted order.

func issuedEvent(t *Ticket) *object {
	return newObject().str("category", t.Category).strOmit("id_hash", t.IDHash).str("priority", t.Priority).
		str("source", t.Source).str("ticket", t.Number).done()
}

func checkedInEvent(t *Ticket) *object {
	return newObject().str("appointment_id", t.AppointmentID).str("ticket", t.Number).done()
}

// callEvent is ticket.called and ticket.recalled.
func callEvent(t *Ticket, window int) *object {
	return newObject().int("call_count", int64(t.CallCount)).str("category", t.Category).str("ticket", t.Number).
		int("window", int64(window)).done()
}

func transferredEvent(t *Ticket, from, to, position string) *object {
	return newObject().str("from_category", from).str("position", position).str("ticket", t.Number).
		str("to_category", to).done()
}

// nextStepEvent is the ticket.transferred of a served step with a next one.
func nextStepEvent(t *Ticket, from, to string, serveMS int64) *object {
	return newObject().str("from_category", from).str("reason", "next_step").int("serve_s", seconds(serveMS)).
		str("ticket", t.Number).str("to_category", to).done()
}

func finishedEvent(t *Ticket, outcome Outcome, reason string) *object {
	return newObject().int("called_to_start_s", seconds(t.CalledToStart.Milliseconds())).str("category", t.Category).
		str("outcome", string(outcome)).int("parked_s", seconds(t.Parked.Milliseconds())).strOmit("reason", reason).
		int("serve_s", seconds(t.Serve.Milliseconds())).str("ticket", t.Number).
		int("wait_s", seconds(t.Wait.Milliseconds())).done()
}
