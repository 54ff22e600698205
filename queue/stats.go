package queue

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// Stats is the hall at a glance, for the manager's dashboard.
type Stats struct {
	BusinessDate string
	Waiting      map[string]int           // per category
	LongestWait  map[string]time.Duration // per category, of those waiting now
	Parked       int
	Served       int // finished as served today (by finish time, hall-local)
	NoShows      int // finished as no_show today
	Windows      []WindowStat
	// PrintFailures are today's tickets cancelled because they did not print (newest
	// first, at most MaxPrintFailures), for staff to see who may come to the desk.
	PrintFailures []PrintFailure
}

// MaxPrintFailures is how many print failures Stats lists.
const MaxPrintFailures = 20

// PrintFailure is a ticket cancelled with reason print_failed.
type PrintFailure struct {
	Number   string
	Category string
	At       time.Time // when it was cancelled, hall-local
}

// WindowStat is one window's state: idle, called or serving.
type WindowStat struct {
	ID     int
	State  string
	Ticket string // empty when idle
	Since  time.Time
}

// Stats reads the current state from a read-only connection. Every console and the hall
// display read it on each call, so nothing in it grows with the number waiting: counts
// come from the queue's waiting counts (waiting.go), the longest wait from one index seek
// per category and class, and today's outcomes from the finished-by-day index.
//
// The counts are those of the latest committed operation, and the rest one snapshot of
// the database: an operation that commits while Stats runs may show in one and not yet in
// the other. Its own notification brings the next Stats, which has both.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	now := q.now()
	s := Stats{BusinessDate: q.businessDate(now), Waiting: map[string]int{}, LongestWait: map[string]time.Duration{}}
	cats := make([]string, 0, len(q.cfg.Categories))
	for _, c := range q.cfg.Categories {
		s.Waiting[c.Code] = 0
		cats = append(cats, c.Code)
	}
	fail := func(err error) (Stats, error) { return Stats{}, fmt.Errorf("queue: stats: %w", err) }
	counts, err := q.waitingCounts(ctx)
	if err != nil {
		return fail(err)
	}
	for k, n := range counts {
		if _, ok := s.Waiting[k.category]; !ok {
			cats = append(cats, k.category) // no longer configured, but tickets still wait in it
		}
		s.Waiting[k.category] += n
	}
	// One snapshot for the reads, so the figures from the database agree with each other.
	tx, err := q.db.Read().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()

	// The wait shown is the one the calling order uses: since the ticket joined this queue.
	// The longest waiting of a category is the first of one of its classes.
	heads, err := q.heads(ctx, tx, cats)
	if err != nil {
		return fail(err)
	}
	for _, h := range heads {
		if w := now.Sub(time.UnixMilli(h.queueKey)); w > s.LongestWait[h.category] {
			s.LongestWait[h.category] = w
		}
	}

	busy := map[int]WindowStat{}
	// Each half repeats its partial index's WHERE (queue_tickets_window_active, _parked), so
	// SQLite reads those small indexes, not the table.
	rows, err := tx.QueryContext(ctx, `SELECT state, window_id, number, since_ms FROM queue_tickets
		WHERE state IN ('called', 'serving')
		UNION ALL SELECT state, window_id, number, since_ms FROM queue_tickets WHERE state = 'parked'`)
	if err != nil {
		return fail(err)
	}
	err = eachRow(rows, func() error {
		var ws WindowStat
		var win sql.NullInt64
		var since int64
		if err := rows.Scan(&ws.State, &win, &ws.Ticket, &since); err != nil {
			return err
		}
		if ws.State == string(Parked) {
			s.Parked++
			return nil
		}
		ws.ID, ws.Since = int(win.Int64), time.UnixMilli(since).In(q.loc)
		busy[ws.ID] = ws
		return nil
	})
	if err != nil {
		return fail(err)
	}

	// Finished today in the hall's zone, compared as instants (finished_at carries its
	// offset); yesterday's tickets count too when they finished after midnight.
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, q.loc)
	since := start.AddDate(0, 0, -1).Format(time.DateOnly)
	// A ticket of today's business date finished today; of yesterday's, only those that
	// finished after midnight count (few: the end of day resets the rest).
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(outcome = 'served'), 0), COALESCE(SUM(outcome = 'no_show'), 0)
		FROM queue_tickets WHERE state = 'finished' AND business_date IN (?, ?) AND outcome IN ('served', 'no_show')
		AND (business_date = ? OR unixepoch(finished_at, 'subsec') >= ?)`,
		s.BusinessDate, since, s.BusinessDate, float64(start.UnixMilli())/1000).Scan(&s.Served, &s.NoShows)
	if err != nil {
		return fail(err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT number, category, finished_at FROM queue_tickets WHERE state = 'finished'
		AND business_date IN (?, ?) AND outcome = 'cancelled' AND reason = ? AND unixepoch(finished_at, 'subsec') >= ?
		ORDER BY unixepoch(finished_at, 'subsec') DESC, id DESC LIMIT ?`,
		s.BusinessDate, since, ReasonPrintFailed, float64(start.UnixMilli())/1000, MaxPrintFailures)
	if err != nil {
		return fail(err)
	}
	err = eachRow(rows, func() error {
		var pf PrintFailure
		var at string
		if err := rows.Scan(&pf.Number, &pf.Category, &at); err != nil {
			return err
		}
		t, err := store.ParseTime(at)
		if err != nil {
			return err
		}
		pf.At = t.In(q.loc)
		s.PrintFailures = append(s.PrintFailures, pf)
		return nil
	})
	if err != nil {
		return fail(err)
	}
	for _, w := range q.cfg.Windows {
		ws, ok := busy[w.ID]
		if !ok {
			ws = WindowStat{ID: w.ID, State: "idle"}
		}
		s.Windows = append(s.Windows, ws)
	}
	slices.SortFunc(s.Windows, func(a, b WindowStat) int { return a.ID - b.ID })
	return s, nil
}

// eachRow calls fn for every row, then closes rows and returns the first error.
func eachRow(rows *sql.Rows, fn func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Ticket returns the ticket with number (the open one if any, else the latest).
func (q *Queue) Ticket(ctx context.Context, number string) (Ticket, error) {
	return byNumber(ctx, q.db.Read(), number)
}
