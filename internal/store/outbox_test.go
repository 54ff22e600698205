package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestAppendOutboxSeqPerStream(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "kioskd.db"))
	cst := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 3, 1, 9, 0, 0, 250_000_000, cst)
	type call struct {
		stream string
		want   int64
	}
	calls := []call{{"queue", 1}, {"queue", 2}, {"health", 1}, {"queue", 3}, {"health", 2}}
	var ids []string
	err := d.Write(context.Background(), func(tx *Tx) error {
		for _, c := range calls {
			id, seq, err := AppendOutbox(tx, c.stream, "x.happened", at, map[string]string{"k": "v"})
			if err != nil {
				return err
			}
			if seq != c.want {
				t.Errorf("AppendOutbox(%q) seq = %d; want %d", c.stream, seq, c.want)
			}
			if !uuidText.MatchString(id) {
				t.Errorf("AppendOutbox(%q) id = %q; want a UUIDv7", c.stream, id)
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var typ, occurred, created string
	var data []byte
	if err := d.Read().QueryRow(`SELECT type, occurred_at, data, created_at FROM outbox WHERE id = ?`, ids[0]).
		Scan(&typ, &occurred, &data, &created); err != nil {
		t.Fatal(err)
	}
	if occurred != "2026-03-01T09:00:00.250+08:00" {
		t.Errorf("occurred_at = %q; want 2026-03-01T09:00:00.250+08:00", occurred)
	}
	if _, err := time.Parse(TimeLayout, created); err != nil {
		t.Errorf("created_at = %q is not in TimeLayout: %v", created, err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil || m["k"] != "v" || typ != "x.happened" {
		t.Errorf("row = %s %q, %v; want x.happened {\"k\":\"v\"}", typ, data, err)
	}

	// Acknowledged rows are deleted; numbering goes on.
	err = d.Write(context.Background(), func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM outbox WHERE stream = 'queue'`); err != nil {
			return err
		}
		_, seq, err := AppendOutbox(tx, "queue", "x", at, json.RawMessage(`{"raw":true}`))
		if seq != 4 {
			t.Errorf("seq after deleting acknowledged rows = %d; want 4", seq)
		}
		if err != nil {
			return err
		}
		// The newest one alone leaves (a dead letter): its number is not given out again.
		AppendOutbox(tx, "queue", "x", at, nil)
		if _, err := tx.Exec(`DELETE FROM outbox WHERE stream = 'queue' AND seq = 5`); err != nil {
			return err
		}
		_, seq, err = AppendOutbox(tx, "queue", "x", at, nil)
		if seq != 6 {
			t.Errorf("seq after the newest row was deleted = %d; want 6", seq)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAppendOutboxRollsBackWithTx(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "kioskd.db"))
	now := time.Now()
	errAbort := errors.New("ticket printer jammed")
	err := d.Write(context.Background(), func(tx *Tx) error {
		if _, _, err := AppendOutbox(tx, "queue", "ticket.issued", now, 1); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("Write = %v; want %v", err, errAbort)
	}
	var n int
	if err := d.Read().QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil || n != 0 {
		t.Errorf("outbox rows after rollback = %d, %v; want 0", n, err)
	}
	err = d.Write(context.Background(), func(tx *Tx) error {
		_, seq, err := AppendOutbox(tx, "queue", "ticket.issued", now, 1)
		if seq != 1 {
			t.Errorf("seq after a rolled-back append = %d; want 1 (the number is not used up)", seq)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The same once the stream's next number is cached.
	d.Write(context.Background(), func(tx *Tx) error {
		AppendOutbox(tx, "queue", "ticket.issued", now, 2)
		return errAbort
	})
	err = d.Write(context.Background(), func(tx *Tx) error {
		_, seq, err := AppendOutbox(tx, "queue", "ticket.issued", now, 3)
		if seq != 2 {
			t.Errorf("seq after a second rolled-back append = %d; want 2", seq)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAppendOutboxRejects(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "kioskd.db"))
	cases := []struct {
		name, stream, typ string
		at                time.Time
		data              any
	}{
		{"no stream", "", "t", time.Now(), 1},
		{"no type", "s", "", time.Now(), 1},
		{"no time", "s", "t", time.Time{}, 1},
		{"unencodable data", "s", "t", time.Now(), func() {}},
	}
	for _, c := range cases {
		d.Write(context.Background(), func(tx *Tx) error {
			if _, _, err := AppendOutbox(tx, c.stream, c.typ, c.at, c.data); err == nil {
				t.Errorf("AppendOutbox(%s) = nil error; want one", c.name)
			}
			return errors.New("rollback")
		})
	}
}

// TestAppendOutboxTwoWriters: the seq cache of one DB is not fooled by another writer on the
// same file (a second handle, a repair tool): a taken seq is read afresh and the append goes
// on with the next free number, without an error.
func TestAppendOutboxTwoWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kioskd.db")
	d1, d2 := open(t, path), open(t, path)
	now := time.Now()
	for i, d := range []*DB{d1, d1, d2, d1, d2, d2, d1} {
		err := d.Write(context.Background(), func(tx *Tx) error {
			_, seq, err := AppendOutbox(tx, "queue", "x", now, i)
			if err == nil && seq != int64(i+1) {
				t.Errorf("append %d: seq %d; want %d", i, seq, i+1)
			}
			return err
		})
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	var n, maxSeq int
	d1.Read().QueryRow(`SELECT COUNT(*), MAX(seq) FROM outbox WHERE stream = 'queue'`).Scan(&n, &maxSeq)
	if n != 7 || maxSeq != 7 {
		t.Errorf("outbox holds %d events up to seq %d; want 7 up to 7", n, maxSeq)
	}
}

func TestOutboxAdded(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "kioskd.db"))
	added := func() bool {
		select {
		case <-db.OutboxAdded():
			return true
		default:
			return false
		}
	}
	write := func(fn func(tx *Tx) error) error { return db.Write(context.Background(), fn) }
	if err := write(func(tx *Tx) error { _, err := tx.Exec(`INSERT INTO meta(key, value) VALUES('k', 'v')`); return err }); err != nil {
		t.Fatal(err)
	}
	if added() {
		t.Error("a write that appended no event signalled OutboxAdded")
	}
	appendOne := func(tx *Tx) error {
		_, _, err := AppendOutbox(tx, "queue", "ticket.issued", time.Now(), map[string]int{"n": 1})
		return err
	}
	for range 3 { // signals coalesce: three commits, one signal waiting
		if err := write(appendOne); err != nil {
			t.Fatal(err)
		}
	}
	if !added() {
		t.Fatal("a committed append did not signal OutboxAdded")
	}
	if added() {
		t.Error("three commits left more than one signal waiting")
	}
	rolledBack := errors.New("rolled back")
	if err := write(func(tx *Tx) error { appendOne(tx); return rolledBack }); !errors.Is(err, rolledBack) {
		t.Fatalf("Write = %v; want %v", err, rolledBack)
	}
	if added() {
		t.Error("a rolled-back append signalled OutboxAdded")
	}
}
