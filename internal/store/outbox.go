package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// AppendOutbox adds an event for the central platform inside tx, so it commits or rolls
// back with the business rows it describes. seq is the next number of stream (1, 2, 3...;
// see NextSeq); id is a UUIDv7. data is encoded with encoding/json: pass a json.RawMessage for
// JSON you already have (a []byte would become a base64 string).
func AppendOutbox(tx *Tx, stream, typ string, occurredAt time.Time, data any) (id string, seq int64, err error) {
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
	id = NewUUID().String()
	for attempt := 0; ; attempt++ {
		if seq, err = NextSeq(tx, stream); err != nil {
			return "", 0, err
		}
		_, err = tx.Exec(`INSERT INTO outbox(id, stream, seq, type, occurred_at, data, created_at) VALUES(?, ?, ?, ?, ?, ?, ?)`,
			id, stream, seq, typ, FormatTime(occurredAt), b, FormatTime(now()))
		if err == nil {
			return id, seq, nil
		}
		forgetSeq(tx, stream)
		// The seq is taken: another writer on the same file appended since this process
		// cached the stream. This transaction holds the write lock, so a fresh read is right.
		var se sqlite3.Error
		if attempt > 0 || !errors.As(err, &se) || se.ExtendedCode != sqlite3.ErrConstraintPrimaryKey {
			return "", 0, fmt.Errorf("store: outbox event %s/%s: %w", stream, typ, err)
		}
	}
}

// NextSeq takes the seq the next event of stream gets in tx: one past the highest event
// still in the outbox and past every event ever deleted from it (outbox_streams, kept by a
// trigger on delete), so numbers grow by one and are never reused. It writes nothing: the
// append is one insert, not an insert and an update. The number comes from the DB's seq
// cache after the first read of each stream (two reads were half of an append's cost); a
// second call in the same transaction gives the number after.
func NextSeq(tx *Tx, stream string) (int64, error) {
	return tx.seqs.take(tx, stream)
}

// readNextSeq reads NextSeq from the database.
func readNextSeq(tx *Tx, stream string) (int64, error) {
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

// seqCache is the next outbox seq of each stream as this process last committed it. Only
// DB.Write transactions use it, and they are one at a time (one writer connection); a
// stream is read from the database the first time, after a failed commit and after a
// failed insert (another writer, say), so the cache can only be missing, never wrong for
// long: a wrong number fails its insert on the (stream, seq) key and is read afresh.
type seqCache struct {
	mu   sync.Mutex
	next map[string]int64
}

// txSeqs is what one Write transaction took from the cache: committed into it on success.
type txSeqs struct {
	c     *seqCache
	taken map[string]int64 // stream -> the seq after the ones this transaction took
}

// commit puts the seqs a committed transaction took into the cache and reports whether
// it took any, i.e. whether the transaction appended outbox events.
func (t *txSeqs) commit() bool {
	if len(t.taken) == 0 {
		return false
	}
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil {
		c.next = map[string]int64{}
	}
	for stream, n := range t.taken {
		c.next[stream] = n
	}
	return true
}

func (c *seqCache) forget() {
	c.mu.Lock()
	c.next = nil
	c.mu.Unlock()
}

func (t *txSeqs) take(tx *Tx, stream string) (int64, error) {
	n, ok := t.taken[stream]
	if !ok {
		t.c.mu.Lock()
		n, ok = t.c.next[stream]
		t.c.mu.Unlock()
	}
	if !ok {
		var err error
		if n, err = readNextSeq(tx, stream); err != nil {
			return 0, err
		}
	}
	if t.taken == nil {
		t.taken = map[string]int64{}
	}
	t.taken[stream] = n + 1
	return n, nil
}

// forgetSeq drops stream from tx's cache and its DB's, so that it is read afresh.
func forgetSeq(tx *Tx, stream string) {
	t := &tx.seqs
	delete(t.taken, stream)
	t.c.mu.Lock()
	delete(t.c.next, stream)
	t.c.mu.Unlock()
}
