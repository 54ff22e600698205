package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestBackgroundCheckpoint: commits do not checkpoint (wal_autocheckpoint=0), the
// checkpointer does, so the WAL is moved into the database and starts over instead of growing.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "k.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	write := func(i int) {
		err := d.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, i%50, time.Now().String())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var auto int
	d.w.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto)
	if auto != 0 {
		t.Fatalf("writer's wal_autocheckpoint = %d; want 0 (checkpoints are the checkpointer's)", auto)
	}
	for i := range 1500 {
		write(i)
	}
	// Once the checkpointer has run, the next commit starts the WAL over from its beginning.
	var frames int
	deadline := time.Now().Add(5 * time.Second)
	for {
		time.Sleep(2 * checkpointEvery)
		write(1)
		var busy, ckpt int
		if err := d.w.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &ckpt); err != nil {
			t.Fatal(err)
		}
		if frames < 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("WAL holds %d frames after 1,500 commits and the checkpointer's ticks; want it started over", frames)
		}
	}
}
