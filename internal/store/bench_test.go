package store

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkCommitFull is the cost of one durable single-row transaction (WAL,
// synchronous=FULL, on disk): the baseline for anything that commits per event.
// TESTBED.md measured about 4,000 commits/s on the project's machines.
func BenchmarkCommitFull(b *testing.B) {
	d := open(b, filepath.Join(b.TempDir(), "bench.db"))
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		err := d.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(`INSERT INTO device_events(at, component, state, code, message) VALUES(?, ?, ?, ?, ?)`,
				"2026-03-01T09:00:00.000+08:00", "idcard", "ok", "idcard.ready", "ready")
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}
