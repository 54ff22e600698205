package uplink

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// Dead is an event the platform rejected, or one the node could never send. The sender never
// retries it by itself; a technician inspects it and may Requeue it.
type Dead struct {
	ID         string          `json:"id"`
	Stream     string          `json:"stream"`
	Seq        int64           `json:"seq"` // the seq it was sent with
	Type       string          `json:"type"`
	OccurredAt string          `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
	Error      string          `json:"error"`
	DeadAt     time.Time       `json:"dead_at"`
}

// ErrNoDead is returned by Requeue for an id that is not a dead letter.
var ErrNoDead = errors.New("uplink: no dead letter with that id")

// ListDead returns the dead letters, oldest first.
func (s *Sender) ListDead(ctx context.Context) ([]Dead, error) {
	rows, err := s.cfg.DB.Read().QueryContext(ctx, `SELECT id, stream, seq, type, occurred_at, data, error, dead_at
		FROM outbox_dead ORDER BY dead_at, stream, seq`)
	if err != nil {
		return nil, fmt.Errorf("uplink: listing dead letters: %w", err)
	}
	defer rows.Close()
	var out []Dead
	for rows.Next() {
		var d Dead
		var data []byte
		var at string
		if err := rows.Scan(&d.ID, &d.Stream, &d.Seq, &d.Type, &d.OccurredAt, &data, &d.Error, &at); err != nil {
			return nil, fmt.Errorf("uplink: listing dead letters: %w", err)
		}
		d.Data = data
		if d.DeadAt, err = store.ParseTime(at); err != nil {
			return nil, fmt.Errorf("uplink: dead letter %s: %w", d.ID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("uplink: listing dead letters: %w", err)
	}
	return out, nil
}

// Requeue puts a dead letter back into the outbox, keeping its id, type, occurred_at and data
// but giving it a fresh seq (the next of its stream, store.NextSeq), so it is sent after
// the events already waiting on that stream.
//
// Why a fresh seq rather than the old one: the contract promises the platform that seq only
// grows within a stream, and the stream has moved past the old number while the event lay
// dead; sending it with that number would look to the platform like a replay out of order.
// The id is unchanged, so a platform that did keep the event after all answers "duplicate"
// and nothing is stored twice. The event is therefore not "sent next": events queued behind it
// went first, which is what already happened when it was rejected.
func (s *Sender) Requeue(ctx context.Context, id string) error {
	err := s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		var stream, typ, occurred, created string
		var data []byte
		err := tx.QueryRow(`SELECT stream, type, occurred_at, data, created_at FROM outbox_dead WHERE id = ?`, id).
			Scan(&stream, &typ, &occurred, &data, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoDead
		}
		if err != nil {
			return err
		}
		// Same numbering as store.AppendOutbox.
		seq, err := store.NextSeq(tx, stream)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO outbox(id, stream, seq, type, occurred_at, data, created_at) VALUES(?, ?, ?, ?, ?, ?, ?)`,
			id, stream, seq, typ, occurred, data, store.FormatTime(s.cfg.Clock.Now())); err != nil {
			return err
		}
		_, err = tx.Exec(`DELETE FROM outbox_dead WHERE id = ?`, id)
		return err
	})
	if errors.Is(err, ErrNoDead) {
		return fmt.Errorf("%w: %s", ErrNoDead, id)
	}
	if err != nil {
		return fmt.Errorf("uplink: re-queueing %s: %w", id, err)
	}
	s.cfg.Log.Info("uplink: dead letter re-queued", "component", "uplink", "id", id)
	return nil
}
