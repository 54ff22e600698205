package queue

import (
	"context"
	"fmt"
	"slices"
	"time"
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
}

// WindowStat is one window's state: idle, called or serving.
type WindowStat struct {
	ID     int
	State  string
	Ticket string // empty when idle
	Since  time.Time
}

// Stats reads the current state from a read-only connection.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	now := q.now()
	s := Stats{BusinessDate: q.businessDate(now), Waiting: map[string]int{}, LongestWait: map[string]time.Duration{}}
	for _, c := range q.cfg.Categories {
		s.Waiting[c.Code] = 0
	}
	db := q.db.Read()
	open, err := queryTickets(ctx, db, `WHERE state != 'finished' ORDER BY id`)
	if err != nil {
		return Stats{}, fmt.Errorf("queue: stats: %w", err)
	}
	busy := map[int]Ticket{}
	for _, t := range open {
		switch t.State {
		case Waiting:
			s.Waiting[t.Category]++
			// The wait shown is the one the calling order uses: since the ticket joined this queue.
			if w := now.Sub(time.UnixMilli(t.queueKey)); w > s.LongestWait[t.Category] {
				s.LongestWait[t.Category] = w
			}
		case Parked:
			s.Parked++
		case Called, Serving:
			busy[t.Window] = t
		}
	}
	// Finished today in the hall's zone: finished_at carries its offset, so compare instants.
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, q.loc)
	rows, err := db.QueryContext(ctx, `SELECT outcome, finished_at FROM queue_tickets WHERE state = 'finished' AND outcome IN ('served', 'no_show')
		AND business_date >= ?`, start.AddDate(0, 0, -1).Format(time.DateOnly))
	if err != nil {
		return Stats{}, fmt.Errorf("queue: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var outcome, at string
		if err := rows.Scan(&outcome, &at); err != nil {
			return Stats{}, fmt.Errorf("queue: stats: %w", err)
		}
		if ft, err := time.Parse(time.RFC3339Nano, at); err != nil || ft.Before(start) {
			continue
		}
		if outcome == string(Served) {
			s.Served++
		} else {
			s.NoShows++
		}
	}
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("queue: stats: %w", err)
	}
	for _, w := range q.cfg.Windows {
		ws := WindowStat{ID: w.ID, State: "idle"}
		if t, ok := busy[w.ID]; ok {
			ws.State, ws.Ticket, ws.Since = string(t.State), t.Number, time.UnixMilli(t.sinceMS).In(q.loc)
		}
		s.Windows = append(s.Windows, ws)
	}
	slices.SortFunc(s.Windows, func(a, b WindowStat) int { return a.ID - b.ID })
	return s, nil
}

// Ticket returns the ticket with number (the open one if any, else the latest).
func (q *Queue) Ticket(ctx context.Context, number string) (Ticket, error) {
	return byNumber(ctx, q.db.Read(), number)
}
