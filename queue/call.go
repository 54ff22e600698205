package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// CallNext calls the next ticket for window; see the package doc for the order.
func (q *Queue) CallNext(ctx context.Context, window int) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		cats, err := q.idleWindow(ctx, tx, window)
		if err != nil {
			return err
		}
		t, err = q.pickNext(ctx, tx, now, window, cats)
		if err != nil {
			return err
		}
		return q.call(ctx, tx, now, &t, window)
	})
	return t, err
}

// CallTicket calls the waiting ticket number at window, out of order.
func (q *Queue) CallTicket(ctx context.Context, window int, number string) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		var err error
		if t, err = q.byNumberFor(ctx, tx, window, number, "CallTicket", Waiting); err != nil {
			return err
		}
		return q.call(ctx, tx, now, &t, window)
	})
	return t, err
}

func (q *Queue) call(ctx context.Context, tx *store.Tx, now time.Time, t *Ticket, window int) error {
	leave(t, now)
	t.State, t.Window, t.CallCount = Called, window, 1
	if t.CalledAt.IsZero() {
		t.CalledAt = now
	}
	if err := save(ctx, tx, t); err != nil {
		return err
	}
	return emit(tx, now, "ticket.called", map[string]any{"ticket": t.Number, "window": window, "call_count": t.CallCount, "category": t.Category})
}

// pickNext chooses whom window calls: long waiters first, then (with weights) the category
// whose turn it is, then class and queue time.
func (q *Queue) pickNext(ctx context.Context, tx *store.Tx, now time.Time, window int, cats []string) (Ticket, error) {
	in, args := inList(cats)
	if q.cfg.LongWait > 0 {
		// The class list is no filter (every ticket has one of them): it lets SQLite seek
		// the waiting index at (category, class, queue_key) for each pair instead of reading
		// every waiting ticket of the categories to sort them. With 2,000 waiting in the
		// window's two categories that took the query from 80 us to 9.
		t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM queue_tickets
			WHERE state = 'waiting' AND category IN (`+in+`) AND class IN (`+allClasses+`) AND queue_key <= ?
			ORDER BY queue_key, id LIMIT 1`, append(args, now.Add(-q.cfg.LongWait).UnixMilli())...))
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return t, err
		}
	}
	if w := q.window(window); w != nil && len(w.Policy.Weights) > 0 {
		pick, err := q.roundRobin(ctx, tx, window, cats, w.Policy.Weights)
		if err != nil {
			return Ticket{}, err
		}
		if pick != "" {
			in, args = inList([]string{pick})
		}
	}
	t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM queue_tickets
		WHERE state = 'waiting' AND category IN (`+in+`)
		ORDER BY class, queue_key, id LIMIT 1`, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, fmt.Errorf("%w: nobody waiting for window %d (%s)", ErrNoTicket, window, strings.Join(cats, ", "))
	}
	return t, err
}

// roundRobin is smooth weighted round robin (as in nginx) over the weighted categories that
// have someone waiting: over any stretch of calls each gets its weight's share, interleaved
// rather than in bursts. Credits are stored so the rhythm survives restarts. It returns ""
// when no weighted category has anyone, so the zero-weight ones are served after all.
func (q *Queue) roundRobin(ctx context.Context, tx *store.Tx, window int, cats []string, weights map[string]int) (string, error) {
	var active []string
	total := 0
	for _, c := range cats {
		if weights[c] <= 0 {
			continue
		}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM queue_tickets WHERE state = 'waiting' AND category = ? LIMIT 1`, c).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return "", err
		}
		active = append(active, c)
		total += weights[c]
	}
	if len(active) == 0 {
		return "", nil
	}
	credit := map[string]int{}
	best := ""
	for _, c := range active {
		var cr int
		err := tx.QueryRowContext(ctx, `SELECT credit FROM queue_window_credits WHERE window_id = ? AND category = ?`, window, c).Scan(&cr)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
		credit[c] = cr + weights[c]
		if best == "" || credit[c] > credit[best] {
			best = c
		}
	}
	credit[best] -= total
	for _, c := range active {
		if _, err := tx.ExecContext(ctx, `INSERT INTO queue_window_credits(window_id, category, credit) VALUES(?, ?, ?)
			ON CONFLICT(window_id, category) DO UPDATE SET credit = excluded.credit`, window, c, credit[c]); err != nil {
			return "", err
		}
	}
	return best, nil
}

// Recall announces the called ticket again. Past MaxRecalls recalls the ticket is finished
// as no_show instead (returned with State Finished, no error): the window is free again.
func (q *Queue) Recall(ctx context.Context, window int) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		var err error
		t, err = q.atWindow(ctx, tx, window, "Recall", Called)
		if err != nil {
			return err
		}
		if t.CallCount-1 >= q.cfg.MaxRecalls {
			return finish(ctx, tx, now, &t, NoShow, "recalled "+fmt.Sprint(q.cfg.MaxRecalls)+" times")
		}
		t.CallCount++
		if err := save(ctx, tx, &t); err != nil {
			return err
		}
		return emit(tx, now, "ticket.recalled", map[string]any{"ticket": t.Number, "window": window, "call_count": t.CallCount, "category": t.Category})
	})
	return t, err
}

// Start records that the called citizen arrived at window: the called-to-start period ends
// and serving begins. No uplink event: v1 has no type for it; the times reach the platform
// in ticket.finished.
func (q *Queue) Start(ctx context.Context, window int) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		var err error
		t, err = q.atWindow(ctx, tx, window, "Start", Called)
		if err != nil {
			return err
		}
		leave(&t, now)
		t.State = Serving
		if t.StartedAt.IsZero() {
			t.StartedAt = now
		}
		return save(ctx, tx, &t)
	})
	return t, err
}

// Park sets window's ticket aside (called or serving) and frees the window. No event.
func (q *Queue) Park(ctx context.Context, window int) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		var err error
		t, err = q.atWindow(ctx, tx, window, "Park", Called, Serving)
		if err != nil {
			return err
		}
		leave(&t, now)
		t.State = Parked
		return save(ctx, tx, &t)
	})
	return t, err
}

// Return brings parked ticket number to window: serving if its service had started, else
// called, as a new call (its recalls count from there: the citizen is there to be recalled
// again). No event.
func (q *Queue) Return(ctx context.Context, window int, number string) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		var err error
		if t, err = q.byNumberFor(ctx, tx, window, number, "Return", Parked); err != nil {
			return err
		}
		leave(&t, now)
		t.State, t.Window, t.CallCount = Called, window, 1
		if !t.StartedAt.IsZero() {
			t.State = Serving
		}
		return save(ctx, tx, &t)
	})
	return t, err
}

// byNumberFor fetches ticket number for an idle window to take: it must be in state and in
// a category the window serves.
func (q *Queue) byNumberFor(ctx context.Context, tx *store.Tx, window int, number, op string, state State) (Ticket, error) {
	cats, err := q.idleWindow(ctx, tx, window)
	if err != nil {
		return Ticket{}, err
	}
	t, err := byNumber(ctx, tx, number)
	if err != nil {
		return Ticket{}, err
	}
	if t.State != state {
		return Ticket{}, wrongState(t, op, state)
	}
	if !slices.Contains(cats, t.Category) {
		return Ticket{}, fmt.Errorf("%w: %s is in %q, window %d serves %q", ErrNotServed, t.Number, t.Category, window, cats)
	}
	return t, nil
}
