package queue

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// recentServices is how many of today's services in a category the estimate looks at, and
// seedBelow how few make it add the configured AvgService as one more sample, so the first
// two citizens of the morning do not set the estimate alone.
const (
	recentServices = 20
	seedBelow      = 5
	// minService: a service step shorter than this is not recorded for estimates (see
	// recordService).
	minService = 10 * time.Second
)

// Estimate is the people ahead of a new normal ticket in category and the expected wait:
// ahead x the median of recent service times / the windows serving the category, capped
// at 8 hours. It ignores LongWait and round robin, which only reorder people already there.
func (q *Queue) Estimate(ctx context.Context, category string) (Estimate, error) {
	if q.cats[category] == nil {
		return Estimate{}, fmt.Errorf("%w: %q", ErrUnknownCategory, category)
	}
	var ahead int
	if err := q.db.Read().QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM queue_waiting WHERE category = ?`,
		category).Scan(&ahead); err != nil {
		return Estimate{}, fmt.Errorf("queue: estimate: %w", err)
	}
	return q.estimate(ctx, q.db.Read(), q.now(), category, ahead)
}

// estimateFor is the estimate for ticket t already waiting: those ordered before it.
func (q *Queue) estimateFor(ctx context.Context, db querier, now time.Time, t Ticket) (Estimate, error) {
	if t.State != Waiting {
		return Estimate{}, nil
	}
	var ahead int
	var err error
	if t.fresh {
		// Just issued: its queue key is now and its id the largest, so it is last of its
		// class, and the people ahead are everyone waiting in its class or a better one
		// (queue_waiting, kept by triggers) but itself.
		err = db.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) - 1 FROM queue_waiting WHERE category = ? AND class <= ?`,
			t.Category, t.class).Scan(&ahead)
	} else {
		err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM queue_tickets WHERE state = 'waiting' AND category = ?
			AND (class < ? OR (class = ? AND (queue_key < ? OR (queue_key = ? AND id < ?))))`,
			t.Category, t.class, t.class, t.queueKey, t.queueKey, t.ID).Scan(&ahead)
	}
	if err != nil {
		return Estimate{}, err
	}
	return q.estimate(ctx, db, now, t.Category, ahead)
}

func (q *Queue) estimate(ctx context.Context, db querier, now time.Time, category string, ahead int) (Estimate, error) {
	rows, err := db.QueryContext(ctx, `SELECT serve_ms FROM queue_services WHERE category = ? AND business_date = ?
		ORDER BY id DESC LIMIT ?`, category, q.businessDate(now), recentServices)
	if err != nil {
		return Estimate{}, err
	}
	defer rows.Close()
	var samples []time.Duration
	for rows.Next() {
		var ms int64
		if err := rows.Scan(&ms); err != nil {
			return Estimate{}, err
		}
		samples = append(samples, time.Duration(ms)*time.Millisecond)
	}
	if err := rows.Err(); err != nil {
		return Estimate{}, err
	}
	if len(samples) < seedBelow {
		samples = append(samples, q.cats[category].AvgService)
	}
	windows := max(q.nServe[category], 1)
	return Estimate{Ahead: ahead, Wait: waitFor(ahead, median(samples), windows)}, nil
}

// waitFor never returns a negative or absurd wait, whatever the samples.
func waitFor(ahead int, per time.Duration, windows int) time.Duration {
	if ahead <= 0 || per <= 0 || windows <= 0 {
		return 0
	}
	if float64(per)*float64(ahead)/float64(windows) >= float64(maxEstimate) {
		return maxEstimate
	}
	return per * time.Duration(ahead) / time.Duration(windows)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
