package uplink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// Telemetry is the only stream the node thins out: it describes the present (how the node
// and its devices are), so an old state superseded by a newer one is worth nothing to the
// platform, while queue and business events are records and are never dropped.

// ErrDiskLow is returned by AppendTelemetry while the disk is nearly full (SetDiskLow).
var ErrDiskLow = errors.New("uplink: disk nearly full: telemetry refused so queue and business events keep their room")

// SetDiskLow tells the sender whether the disk is nearly full (the caller measures free
// space). While it is, AppendTelemetry and Heartbeat refuse new telemetry and the health
// component "uplink.disk" is degraded with code uplink.disk_low.
func (s *Sender) SetDiskLow(low bool) {
	s.mu.Lock()
	changed := low != s.diskLow || !s.diskSeen
	s.diskLow, s.diskSeen = low, true
	s.mu.Unlock()
	if !changed || s.cfg.Health == nil {
		return
	}
	if low {
		s.cfg.Log.Warn("uplink: disk nearly full; new telemetry is refused", "component", "uplink")
		s.cfg.Health.Report("uplink.disk", health.Degraded, "uplink.disk_low", "disk nearly full: new telemetry is refused; queue and business events are still kept")
	} else {
		s.cfg.Health.Report("uplink.disk", health.OK, "uplink.disk_ok", "enough free disk space")
	}
}

func (s *Sender) isDiskLow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.diskLow
}

// AppendTelemetry appends one event to the telemetry stream (occurred now, by the clock) and
// keeps the stream within TelemetryMax rows, dropping the oldest.
func (s *Sender) AppendTelemetry(ctx context.Context, typ string, data any) error {
	if s.isDiskLow() {
		return ErrDiskLow
	}
	err := s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		if _, _, err := store.AppendOutbox(tx, StreamTelemetry, typ, s.cfg.Clock.Now(), data); err != nil {
			return err
		}
		_, err := s.telemetryCap(tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("uplink: appending telemetry %s: %w", typ, err)
	}
	return nil
}

// Heartbeat appends node.heartbeat with the node's uptime, version, outbox depth and the
// health list from SenderConfig.HealthList. Compaction keeps only the latest unsent one.
func (s *Sender) Heartbeat(ctx context.Context, version string, uptime time.Duration) error {
	var depth int
	if err := s.cfg.DB.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&depth); err != nil {
		return fmt.Errorf("uplink: heartbeat: %w", err)
	}
	list := []health.Status{}
	if s.cfg.HealthList != nil {
		if l := s.cfg.HealthList(); l != nil {
			list = l
		}
	}
	return s.AppendTelemetry(ctx, "node.heartbeat", map[string]any{
		"uptime_s":     int64(uptime / time.Second),
		"version":      version,
		"outbox_depth": depth,
		"health":       list,
	})
}

// Compact thins the unsent telemetry: it keeps only the latest device.health per device and
// the latest node.heartbeat, then caps the stream at TelemetryMax rows, oldest dropped first.
// It returns how many rows each step removed; both are also counted in uplink_streams and
// shown in State. An event removed while its batch is in flight is harmless: the answer then
// settles a row that is gone. Removed events leave gaps in the seq numbers the platform sees;
// order is kept.
func (s *Sender) Compact(ctx context.Context) (compacted, dropped int, err error) {
	err = s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		r, err := tx.Exec(`DELETE FROM outbox WHERE stream = ?1 AND seq IN (
			SELECT seq FROM (
				SELECT seq, ROW_NUMBER() OVER (
					PARTITION BY type, CASE WHEN type = 'device.health' THEN json_extract(CAST(data AS TEXT), '$.device') END
					ORDER BY seq DESC) AS n
				FROM outbox WHERE stream = ?1 AND type IN ('device.health', 'node.heartbeat'))
			WHERE n > 1)`, StreamTelemetry)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		compacted = int(n)
		if compacted > 0 {
			if _, err := tx.Exec(`INSERT INTO uplink_streams(stream, compacted) VALUES(?, ?)
				ON CONFLICT(stream) DO UPDATE SET compacted = compacted + excluded.compacted`, StreamTelemetry, compacted); err != nil {
				return err
			}
		}
		dropped, err = s.telemetryCap(tx)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("uplink: compacting telemetry: %w", err)
	}
	if dropped > 0 {
		s.cfg.Log.Warn("uplink: telemetry backlog over its cap; oldest dropped", "component", "uplink", "dropped", dropped, "cap", s.cfg.TelemetryMax)
	}
	return compacted, dropped, nil
}

// telemetryCap deletes the oldest telemetry rows beyond TelemetryMax and counts them.
func (s *Sender) telemetryCap(tx *store.Tx) (int, error) {
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM outbox WHERE stream = ?`, StreamTelemetry).Scan(&n); err != nil {
		return 0, err
	}
	over := n - s.cfg.TelemetryMax
	if over <= 0 {
		return 0, nil
	}
	if _, err := tx.Exec(`DELETE FROM outbox WHERE stream = ? AND seq IN (
		SELECT seq FROM outbox WHERE stream = ? ORDER BY seq LIMIT ?)`, StreamTelemetry, StreamTelemetry, over); err != nil {
		return 0, err
	}
	_, err := tx.Exec(`INSERT INTO uplink_streams(stream, dropped) VALUES(?, ?)
		ON CONFLICT(stream) DO UPDATE SET dropped = dropped + excluded.dropped`, StreamTelemetry, over)
	return over, err
}
