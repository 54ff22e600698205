package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// AppendOutbox adds an event for the central platform inside tx, so it commits or rolls
// back with the business rows it describes. seq is the next number of stream (1, 2, 3...;
// outbox_streams keeps counting after acknowledged rows are deleted, so a number is never
// reused); id is a UUIDv7. data is encoded with encoding/json: pass a json.RawMessage for
// JSON you already have (a []byte would become a base64 string).
func AppendOutbox(tx *sql.Tx, stream, typ string, occurredAt time.Time, data any) (id string, seq int64, err error) {
	if stream == "" || typ == "" {
		return "", 0, errors.New("store: outbox event needs a stream and a type")
	}
	if occurredAt.IsZero() {
		return "", 0, fmt.Errorf("store: outbox event %s/%s has no occurred_at", stream, typ)
	}
	b, err := json.Marshal(data)
	if err != nil {
		return "", 0, fmt.Errorf("store: outbox event %s/%s: %w", stream, typ, err)
	}
	err = tx.QueryRow(`INSERT INTO outbox_streams(stream, next_seq) VALUES(?, 2)
		ON CONFLICT(stream) DO UPDATE SET next_seq = next_seq + 1
		RETURNING next_seq - 1`, stream).Scan(&seq)
	if err != nil {
		return "", 0, fmt.Errorf("store: outbox stream %s: %w", stream, err)
	}
	id = NewUUID().String()
	_, err = tx.Exec(`INSERT INTO outbox(id, stream, seq, type, occurred_at, data, created_at) VALUES(?, ?, ?, ?, ?, ?, ?)`,
		id, stream, seq, typ, FormatTime(occurredAt), b, FormatTime(now()))
	if err != nil {
		return "", 0, fmt.Errorf("store: outbox event %s/%s: %w", stream, typ, err)
	}
	return id, seq, nil
}
