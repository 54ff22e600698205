package store

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// SQLite checkpoints the WAL into the database file by default inside the commit that takes
// the WAL past 1,000 pages: that one commit then copies pages and fsyncs the database file
// too. An operation that dirties ten pages crosses the mark every hundred commits, which is
// exactly its 99th percentile. So the writer connection never checkpoints
// (wal_autocheckpoint=0); a checkpointer on its own connection runs PASSIVE checkpoints
// (which never block the writer or readers) in the background after writes.

// checkpointEvery is how often the checkpointer looks for new writes.
const checkpointEvery = 250 * time.Millisecond

type checkpointer struct {
	db     *sql.DB
	writes atomic.Int64 // commits since the last checkpoint
	stop   chan struct{}
	done   chan struct{}
}

func startCheckpointer(ctx context.Context, path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite3", dsn(path, "_busy_timeout=5000"))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if c.writes.Swap(0) == 0 {
				continue
			}
			// PASSIVE copies what no reader still needs and returns at once otherwise; a
			// failure here costs nothing but a longer WAL, so it is retried on the next tick.
			if _, err := c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				c.writes.Add(1)
			}
		}
	}
}

func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	close(c.stop)
	<-c.done
	return c.db.Close()
}
