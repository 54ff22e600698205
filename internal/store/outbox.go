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
// see NextSeq); id is a UUIDv7. data is encoded with encoding/json: pass a json.RawMessage for
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
	if seq, err = NextSeq(tx, stream); err != nil {
		return "", 0, err
	}
	id = NewUUID().String()
	_, err = tx.Exec(`INSERT INTO outbox(id, stream, seq, type, occurred_at, data, created_at) VALUES(?, ?, ?, ?, ?, ?, ?)`,
		id, stream, seq, typ, FormatTime(occurredAt), b, FormatTime(now()))
	if err != nil {
		return "", 0, fmt.Errorf("store: outbox event %s/%s: %w", stream, typ, err)
	}
	return id, seq, nil
}

// NextSeq is the seq the next event of stream gets in tx: one past the highest event still in
// the outbox and past every event ever deleted from it (outbox_streams, kept by a trigger on
// delete), so numbers grow by one and are never reused. It writes nothing: the append is one
// insert, not an insert and an update.
func NextSeq(tx *sql.Tx, stream string) (int64, error) {
	var last, hw int64
	err := tx.QueryRow(`SELECT seq FROM outbox WHERE stream = ? ORDER BY seq DESC LIMIT 1`, stream).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: outbox stream %s: %w", stream, err)
	}
	err = tx.QueryRow(`SELECT next_seq - 1 FROM outbox_streams WHERE stream = ?`, stream).Scan(&hw)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: outbox stream %s: %w", stream, err)
	}
	return max(last, hw) + 1, nil
}
