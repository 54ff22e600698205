package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// CallNext calls the next ticket for window; see the package doc for the order.
func (q *Queue) CallNext(ctx context.Context, window int) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		cats, ok := q.served[window]
		if !ok {
			return fmt.Errorf("%w: %d", ErrUnknownWindow, window)
		}
		// Whether the window is free is not read first (idleWindow): the unique index on
		// a window's called or serving ticket refuses a second one, so a busy window fails
		// the call, and only then is its ticket looked up for the error. The write rolls
		// back either way.
		var err error
		if t, err = q.pickNext(ctx, tx, now, window, cats); err == nil {
			err = q.call(ctx, tx, now, &t, window)
		}
		if err != nil {
			t = Ticket{}
			if _, busy := q.idleWindow(ctx, tx, window); errors.Is(busy, ErrWindowBusy) {
				return busy
			}
		}
		return err
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

// call calls waiting ticket t at window.
func (q *Queue) call(ctx context.Context, tx *store.Tx, now time.Time, t *Ticket, window int) error {
	if t.State != Waiting {
		return wrongState(*t, "call", Waiting)
	}
	leave(t, now)
	t.State, t.Window, t.CallCount = Called, window, 1
	if t.CalledAt.IsZero() {
		t.CalledAt = now
	}
	// Only the columns a call changes, not save's seventeen: SQLite then leaves alone the
	// constraints on the others (the CHECK on outcome builds a temporary table each
	// time). That halved the update, 14-19 us to 8-10 us.
	res, err := tx.ExecContext(ctx, `UPDATE queue_tickets SET state = 'called', window_id = ?, call_count = ?, called_at = ?,
		since_ms = ?, wait_ms = ? WHERE id = ? AND state = 'waiting'`,
		t.Window, t.CallCount, store.FormatTime(t.CalledAt), t.sinceMS, t.Wait.Milliseconds(), t.ID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("queue: call: ticket %s (%d) was not waiting", t.Number, t.ID)
	}
	q.track(t)
	return emit(tx, now, "ticket.called", callEvent(t, window))
}

// pickNext chooses whom window calls: long waiters first, then (with weights) the category
// whose turn it is, then class and queue time.
func (q *Queue) pickNext(ctx context.Context, tx *store.Tx, now time.Time, window int, cats []string) (Ticket, error) {
	heads, err := q.heads(ctx, tx, cats)
	if err != nil {
		return Ticket{}, err
	}
	var pick *head
	if q.cfg.LongWait > 0 {
		// The longest waiting of the categories is the first of its category and class.
		cut := now.Add(-q.cfg.LongWait).UnixMilli()
		for i := range heads {
			h := &heads[i]
			if h.queueKey <= cut && (pick == nil || h.queueKey < pick.queueKey || h.queueKey == pick.queueKey && h.id < pick.id) {
				pick = h
			}
		}
	}
	if pick == nil {
		only := ""
		if w := q.window(window); w != nil && len(w.Policy.Weights) > 0 {
			if only, err = q.roundRobin(ctx, tx, window, cats, w.Policy.Weights, heads); err != nil {
				return Ticket{}, err
			}
		}
		for i := range heads {
			h := &heads[i]
			if only != "" && h.category != only {
				continue
			}
			if pick == nil || h.class < pick.class || h.class == pick.class &&
				(h.queueKey < pick.queueKey || h.queueKey == pick.queueKey && h.id < pick.id) {
				pick = h
			}
		}
	}
	if pick == nil {
		return Ticket{}, fmt.Errorf("%w: nobody waiting for window %d (%s)", ErrNoTicket, window, strings.Join(cats, ", "))
	}
	return scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM queue_tickets WHERE id = ?`, pick.id))
}

// head is the first waiting ticket of one category and class, in calling order.
type head struct {
	id, queueKey int64
	category     string
	class        int
}

// heads reads the first waiting ticket of each class in each of cats: whoever pickNext
// calls is one of them, whichever rule picks. Each is one seek on the waiting index, so
// the time does not grow with the number waiting. (One query ordered by class and queue
// time over all the categories read and sorted every waiting ticket of them: 2,000 rows
// for two categories with 5,000 waiting.)
func (q *Queue) heads(ctx context.Context, db querier, cats []string) ([]head, error) {
	if len(cats) == 0 {
		return nil, nil
	}
	args := make([]any, len(cats))
	for i, c := range cats {
		args[i] = c
	}
	rows, err := db.QueryContext(ctx, headsQuery(len(cats)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	hs := make([]head, 0, 4*len(cats))
	for rows.Next() {
		var h head
		if err := rows.Scan(&h.id, &h.category, &h.class, &h.queueKey); err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, rows.Err()
}

var headsQueries sync.Map // number of categories -> query

// headsQuery is heads' query for n categories, bound as ?1..?n: one subquery per category
// and class (allClasses). "category IN (?1)", not "= ?1": with an equality on a parameter
// beside an ORDER BY, SQLite prepares the statement again on every run (see recentFor).
func headsQuery(n int) string {
	if s, ok := headsQueries.Load(n); ok {
		return s.(string)
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		for _, class := range strings.Split(allClasses, ", ") {
			if b.Len() > 0 {
				b.WriteString("\nUNION ALL ")
			}
			fmt.Fprintf(&b, `SELECT * FROM (SELECT id, category, class, queue_key FROM queue_tickets
				WHERE state = 'waiting' AND category IN (?%d) AND class = %s ORDER BY queue_key, id LIMIT 1)`, i, class)
		}
	}
	s, _ := headsQueries.LoadOrStore(n, b.String())
	return s.(string)
}

// roundRobin is smooth weighted round robin (as in nginx) over the weighted categories that
// have someone waiting (a head): over any stretch of calls each gets its weight's share,
// interleaved rather than in bursts. Credits are stored so the rhythm survives restarts. It
// returns "" when no weighted category has anyone, so the zero-weight ones are served
// after all.
func (q *Queue) roundRobin(ctx context.Context, tx *store.Tx, window int, cats []string, weights map[string]int, heads []head) (string, error) {
	var active []string
	total := 0
	for _, c := range cats {
		if weights[c] <= 0 || !slices.ContainsFunc(heads, func(h head) bool { return h.category == c }) {
			continue
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
			return q.finish(ctx, tx, now, &t, NoShow, "recalled "+fmt.Sprint(q.cfg.MaxRecalls)+" times")
		}
		t.CallCount++
		if err := q.save(ctx, tx, &t); err != nil {
			return err
		}
		return emit(tx, now, "ticket.recalled", callEvent(&t, window))
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
		return q.save(ctx, tx, &t)
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
		return q.save(ctx, tx, &t)
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
		return q.save(ctx, tx, &t)
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
