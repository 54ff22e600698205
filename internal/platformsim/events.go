package platformsim

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Batch limits of UPLINK.md.
const (
	MaxBatchEvents = 500
	MaxBatchBytes  = 1 << 20
)

// Event is one accepted event as the platform stored it.
type Event struct {
	ID         string          `json:"id"`
	Stream     string          `json:"stream"`
	Type       string          `json:"type"`
	Seq        int64           `json:"seq"`
	OccurredAt time.Time       `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
	ReceivedAt time.Time       `json:"received_at"` // by the simulator's clock
}

// StreamStats counts what one stream of one node sent.
type StreamStats struct {
	Accepted   int   `json:"accepted"`
	Duplicate  int   `json:"duplicate"`
	Rejected   int   `json:"rejected"`
	LastSeq    int64 `json:"last_seq"`     // highest accepted seq
	OutOfOrder int   `json:"out_of_order"` // accepted events whose seq was not above LastSeq
}

// Stats is what the simulator saw from one node.
type Stats struct {
	Streams      map[string]StreamStats `json:"streams"`
	Requests     int                    `json:"requests"`      // /v1/ requests, including those answered by a fault
	EventBatches int                    `json:"event_batches"` // event batches processed
	MaxBatch     int                    `json:"max_batch"`     // events in the largest batch
}

// parsedEvent is one event of a batch: valid (Err == "") or the reason it is rejected.
type parsedEvent struct {
	Event
	RawID string // the id as sent, echoed in the result
	Err   string
}

var errBatchShape = errors.New(`body must be {"events": [...]}`)

// parseBatch decodes an events body. A body that is not a batch is an error; an event that
// is not valid comes back with Err set, so it alone is rejected.
func parseBatch(body []byte) ([]parsedEvent, error) {
	var batch struct {
		Events []json.RawMessage `json:"events"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&batch); err != nil {
		return nil, errBatchShape
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errBatchShape
	}
	if batch.Events == nil {
		return nil, errBatchShape
	}
	out := make([]parsedEvent, len(batch.Events))
	for i, raw := range batch.Events {
		out[i] = parseEvent(raw)
	}
	return out, nil
}

func parseEvent(raw json.RawMessage) (p parsedEvent) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil || f == nil {
		p.Err = "event is not a JSON object"
		return p
	}
	str := func(key string) (string, bool) {
		var v string
		if err := json.Unmarshal(f[key], &v); err != nil || f[key] == nil {
			return "", false
		}
		return v, true
	}
	p.RawID, _ = str("id")
	var ok bool
	if !validUUID(p.RawID) {
		p.Err = "id must be a UUID (8-4-4-4-12 hex)"
		return p
	}
	p.ID = strings.ToLower(p.RawID)
	if p.Stream, ok = str("stream"); !ok || !validName(p.Stream) {
		p.Err = "stream must be 1-64 characters of a-z, 0-9, '.', '_' or '-'"
		return p
	}
	if p.Type, ok = str("type"); !ok || !validName(p.Type) {
		p.Err = "type must be 1-64 characters of a-z, 0-9, '.', '_' or '-'"
		return p
	}
	var seq json.Number
	d := json.NewDecoder(bytes.NewReader(f["seq"]))
	d.UseNumber()
	// json.Number also takes a quoted number: a string seq is not an integer.
	if raw := bytes.TrimSpace(f["seq"]); len(raw) == 0 || raw[0] == '"' || d.Decode(&seq) != nil {
		p.Err = "seq must be an integer above 0"
		return p
	}
	if n, err := seq.Int64(); err != nil || n <= 0 {
		p.Err = "seq must be an integer above 0"
		return p
	} else {
		p.Seq = n
	}
	at, ok := str("occurred_at")
	if t, err := time.Parse(time.RFC3339Nano, at); !ok || err != nil {
		p.Err = "occurred_at must be an RFC 3339 time with offset"
		return p
	} else {
		p.OccurredAt = t
	}
	switch data := bytes.TrimSpace(f["data"]); {
	case len(data) == 0 || string(data) == "null":
		p.Data = json.RawMessage("{}")
	case data[0] == '{':
		var buf bytes.Buffer
		if err := json.Compact(&buf, data); err != nil {
			p.Err = "data must be a JSON object"
			return p
		}
		p.Data = buf.Bytes()
	default:
		p.Err = "data must be a JSON object"
		return p
	}
	return p
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

type eventResult struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

func (s *Sim) handleEvents(w http.ResponseWriter, r *http.Request) {
	node := s.auth(w, r, r.PathValue("node"))
	if node == "" {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBatchBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "batch_too_large", fmt.Sprintf("a batch is at most %d bytes", MaxBatchBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "bad_request", "reading body: "+err.Error())
		return
	}
	events, err := parseBatch(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_batch", err.Error())
		return
	}
	if len(events) > MaxBatchEvents {
		writeError(w, http.StatusRequestEntityTooLarge, "batch_too_large", fmt.Sprintf("a batch holds at most %d events, this one %d", MaxBatchEvents, len(events)))
		return
	}
	results, err := s.storeBatch(r.Context(), node, events, s.Faults().Reject)
	if err != nil {
		s.log.Error("store events", "node", node, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "events not stored; send them again")
		return
	}
	if s.Faults().WrongShape {
		results = results[:len(results)-min(len(results), 1)]
		if len(results) == 0 {
			writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string][]eventResult{"results": results})
}

// storeBatch judges and stores a batch in one transaction.
func (s *Sim) storeBatch(ctx context.Context, node string, events []parsedEvent, reject []string) ([]eventResult, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	received := s.now().Format(timeLayout)
	results := make([]eventResult, len(events))
	for i, e := range events {
		res := eventResult{ID: e.RawID}
		var column string
		switch {
		case e.Err != "":
			res.Status, res.Error, column = "rejected", e.Err, "rejected"
		default:
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM events WHERE id = ?", e.ID).Scan(&one)
			switch {
			case err == nil:
				res.Status, column = "duplicate", "duplicate"
			case !errors.Is(err, sql.ErrNoRows):
				return nil, err
			case slices.Contains(reject, e.Type):
				res.Status, res.Error, column = "rejected", "event type "+e.Type+" is refused by the platform", "rejected"
			default:
				res.Status, column = "accepted", "accepted"
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO streams (node, stream, `+column+`) VALUES (?, ?, 1)
			ON CONFLICT (node, stream) DO UPDATE SET `+column+` = `+column+` + 1`, node, e.Stream); err != nil {
			return nil, err
		}
		if res.Status == "accepted" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO events (id, node, stream, seq, type, occurred_at, data, received_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, node, e.Stream, e.Seq, e.Type, e.OccurredAt.Format(time.RFC3339Nano), string(e.Data), received); err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE streams SET
				out_of_order = out_of_order + (CASE WHEN ? <= last_seq THEN 1 ELSE 0 END),
				last_seq = max(last_seq, ?) WHERE node = ? AND stream = ?`, e.Seq, e.Seq, node, e.Stream); err != nil {
				return nil, err
			}
		}
		results[i] = res
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO batches (node, batches, max_batch) VALUES (?, 1, ?)
		ON CONFLICT (node) DO UPDATE SET batches = batches + 1, max_batch = max(max_batch, excluded.max_batch)`, node, len(events)); err != nil {
		return nil, err
	}
	return results, tx.Commit()
}

// Stats reports what the simulator saw from node.
func (s *Sim) Stats(node string) Stats {
	st := Stats{Streams: map[string]StreamStats{}}
	s.mu.Lock()
	st.Requests = s.requests[node]
	s.mu.Unlock()
	rows, err := s.db.Query(`SELECT stream, accepted, duplicate, rejected, last_seq, out_of_order
		FROM streams WHERE node = ?`, node)
	if err != nil {
		s.log.Error("stats", "err", err)
		return st
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var ss StreamStats
		if err := rows.Scan(&name, &ss.Accepted, &ss.Duplicate, &ss.Rejected, &ss.LastSeq, &ss.OutOfOrder); err == nil {
			st.Streams[name] = ss
		}
	}
	rows.Close()
	s.db.QueryRow("SELECT batches, max_batch FROM batches WHERE node = ?", node).Scan(&st.EventBatches, &st.MaxBatch)
	return st
}

// Events returns the accepted events of node's stream in arrival order.
func (s *Sim) Events(node, stream string) []Event {
	rows, err := s.db.Query(`SELECT id, stream, type, seq, occurred_at, data, received_at FROM events
		WHERE node = ? AND stream = ? ORDER BY rowid`, node, stream)
	if err != nil {
		s.log.Error("events", "err", err)
		return nil
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at, data, recv string
		if err := rows.Scan(&e.ID, &e.Stream, &e.Type, &e.Seq, &at, &data, &recv); err != nil {
			continue
		}
		e.OccurredAt, _ = time.Parse(time.RFC3339Nano, at)
		e.ReceivedAt, _ = time.Parse(time.RFC3339Nano, recv)
		e.Data = json.RawMessage(data)
		out = append(out, e)
	}
	return out
}
