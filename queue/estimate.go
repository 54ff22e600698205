package queue

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
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
	counts, err := q.waitingCounts(ctx)
	if err != nil {
		return Estimate{}, err
	}
	ahead := 0
	for k, n := range counts {
		if k.category == category {
			ahead += n
		}
	}
	// A read: it does not hold the queue's mutex, so it reads the services from the
	// database rather than from recent, which only writes may touch.
	samples, err := loadRecent(ctx, q.db.Read(), category, q.businessDate(q.now()))
	if err != nil {
		return Estimate{}, fmt.Errorf("queue: estimate: %w", err)
	}
	return q.estimate(category, ahead, samples), nil
}

// estimateFor is the estimate for ticket t already waiting: those ordered before it. It runs
// inside a write, so it may use recent.
func (q *Queue) estimateFor(ctx context.Context, tx *store.Tx, now time.Time, t Ticket) (Estimate, error) {
	if t.State != Waiting {
		return Estimate{}, nil
	}
	var ahead int
	var err error
	if t.fresh {
		// Just issued: its queue key is now and its id the largest, so it is last of its
		// class, and the people ahead are everyone waiting in its class or a better one
		// (the waiting counts) but itself.
		ahead, err = q.waitingAhead(ctx, tx, t.Category, t.class)
		ahead--
	} else {
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM queue_tickets WHERE state = 'waiting' AND category = ?
			AND (class < ? OR (class = ? AND (queue_key < ? OR (queue_key = ? AND id < ?))))`,
			t.Category, t.class, t.class, t.queueKey, t.queueKey, t.ID).Scan(&ahead)
	}
	if err != nil {
		return Estimate{}, err
	}
	samples, err := q.recentFor(ctx, tx, t.Category, q.businessDate(now))
	if err != nil {
		return Estimate{}, err
	}
	return q.estimate(t.Category, ahead, samples), nil
}

// estimate is ahead x the median of samples (the category's recent services, newest
// first), with the configured AvgService as one more sample while there are few.
func (q *Queue) estimate(category string, ahead int, samples []time.Duration) Estimate {
	// A copy on the stack: samples may be recent's own slice, which the seed and the
	// sort must not change.
	var buf [recentServices + 1]time.Duration
	s := append(buf[:0], samples...)
	if len(s) < seedBelow {
		s = append(s, q.cats[category].AvgService)
	}
	windows := max(q.nServe[category], 1)
	return Estimate{Ahead: ahead, Wait: waitFor(ahead, median(s), windows)}
}

// recentDay is what loadRecent read for one category and business date.
type recentDay struct {
	date    string
	samples []time.Duration // newest first, at most recentServices
}

// service is a queue_services row a write inserted, for recent once the write commits.
type service struct {
	category, date string
	serve          time.Duration
}

// recentFor is loadRecent(tx, category, date) from recent, reading the database only the
// first time for the category and date (a new business date starts with a fresh read,
// which finds nothing until someone is served that day).
//
// Why a copy: the query was a fifth of Issue's CPU before its commit, when SQLite prepared
// it again on every run: its plan looked at bound values (LIMIT ?, and an equality on a
// parameter beside an ORDER BY), and such a plan expires when the driver clears the
// bindings to put the statement back in its cache. loadRecent's query no longer does
// that, but memory is still cheaper than any query.
func (q *Queue) recentFor(ctx context.Context, tx *store.Tx, category, date string) ([]time.Duration, error) {
	if d, ok := q.recent[category]; ok && d.date == date {
		return d.samples, nil
	}
	samples, err := loadRecent(ctx, tx, category, date)
	if err != nil {
		return nil, err
	}
	// A read that already sees services of this write would count them twice once
	// the write commits and adds them: keep only a read of committed rows.
	if len(q.recorded) == 0 {
		q.recent[category] = recentDay{date: date, samples: samples}
	}
	return samples, nil
}

// loadRecent reads the serving times of the latest recentServices services of category on
// business date date, newest first. The limit is in the text and the equalities are "IN
// (?)", so SQLite keeps the prepared plan (see recentFor): 2.6 us a read instead of 6.7.
func loadRecent(ctx context.Context, db querier, category, date string) ([]time.Duration, error) {
	rows, err := db.QueryContext(ctx, recentQuery, category, date)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var samples []time.Duration
	for rows.Next() {
		var ms int64
		if err := rows.Scan(&ms); err != nil {
			return nil, err
		}
		samples = append(samples, time.Duration(ms)*time.Millisecond)
	}
	return samples, rows.Err()
}

var recentQuery = fmt.Sprintf(`SELECT serve_ms FROM queue_services WHERE category IN (?) AND business_date IN (?)
	ORDER BY id DESC LIMIT %d`, recentServices)

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

// median sorts s in place.
func median(s []time.Duration) time.Duration {
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
