package queue

import (
	"context"
	"fmt"
	"maps"
)

// The waiting tickets counted per category and calling class, in memory: a new ticket's
// people ahead and the live statistics read them instead of counting the waiting index.
//
// Why not a table: until migration 0011 a table kept by triggers (queue_waiting) held the
// counts, and every issue, call and finish wrote its page in the same commit. A queue
// operation's commit time grows with the pages it writes (each is a WAL frame), and a
// counter page was one of five or six; the counts are cheap to rebuild from the waiting
// index, so they need not be durable.
//
// The counts are what committed: they are read from the database when first needed, and
// a write moves them by what it changed only once it has committed (Queue.committed). A
// write that rolled back changed nothing, so the counts stand; one whose COMMIT failed
// leaves them unknown, to be read again.

// waitKey is a category and calling class.
type waitKey struct {
	category string
	class    int
}

// waitMove is a change of one count by a write: +1 for a ticket that began to wait there,
// -1 for one that left.
type waitMove struct {
	key waitKey
	n   int
}

// place is where a ticket is: its state, category and calling class.
type place struct {
	state    State // "" for a ticket not stored yet
	category string
	class    int
}

// track records how t's change, written in the running transaction, moves what the queue
// keeps in memory: the waiting counts (out of where it waited when it was read or last
// written, into where it waits now) and the open tickets of a person or an appointment
// (holders.go). Every write of a ticket row calls it (issue, call and save).
func (q *Queue) track(t *Ticket) {
	was, now := t.was, place{t.State, t.Category, t.class}
	wasWaiting, waits := was.state == Waiting, now.state == Waiting
	from, to := waitKey{was.category, was.class}, waitKey{now.category, now.class}
	if wasWaiting && (!waits || from != to) {
		q.moves = append(q.moves, waitMove{from, -1})
	}
	if waits && (!wasWaiting || from != to) {
		q.moves = append(q.moves, waitMove{to, +1})
	}
	q.trackHolder(t, was, now)
	t.was = now
}

// waitingAhead is how many tickets wait in category in class or a better one (a lower
// class), counting the running write's changes. Called within a write.
func (q *Queue) waitingAhead(ctx context.Context, tx querier, category string, class int) (int, error) {
	if q.waiting == nil {
		// tx sees the write's own changes: the committed counts are what it reads less
		// what the write moved.
		counts, err := loadWaiting(ctx, tx)
		if err != nil {
			return 0, err
		}
		for _, m := range q.moves {
			counts[m.key] -= m.n
		}
		q.setWaiting(counts)
	}
	n := 0
	for c := 0; c <= class; c++ {
		n += q.waiting[waitKey{category, c}]
	}
	for _, m := range q.moves {
		if m.key.category == category && m.key.class <= class {
			n += m.n
		}
	}
	return n, nil
}

// waitingCounts is a copy of the committed counts, for readers (Stats, Estimate), which do
// not hold mu. If the counts are unknown it waits for the running write to finish and
// reads them from the database, which then holds exactly what committed.
func (q *Queue) waitingCounts(ctx context.Context) (map[waitKey]int, error) {
	q.wmu.Lock()
	counts := q.copyWaiting()
	q.wmu.Unlock()
	if counts != nil {
		return counts, nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiting == nil {
		loaded, err := loadWaiting(ctx, q.db.Read())
		if err != nil {
			return nil, err
		}
		q.setWaiting(loaded)
	}
	q.wmu.Lock()
	defer q.wmu.Unlock()
	return q.copyWaiting(), nil
}

// copyWaiting copies q.waiting (nil if unknown); the caller holds wmu or mu.
func (q *Queue) copyWaiting() map[waitKey]int { return maps.Clone(q.waiting) }

// setWaiting replaces the counts (nil: unknown); the caller holds mu.
func (q *Queue) setWaiting(counts map[waitKey]int) {
	q.wmu.Lock()
	q.waiting = counts
	q.wmu.Unlock()
}

// applyMoves adds a committed write's moves to the counts, if they are known; the caller
// holds mu.
func (q *Queue) applyMoves() {
	if q.waiting != nil && len(q.moves) > 0 {
		q.wmu.Lock()
		for _, m := range q.moves {
			q.waiting[m.key] += m.n
			if q.waiting[m.key] == 0 {
				delete(q.waiting, m.key)
			}
		}
		q.wmu.Unlock()
	}
	q.moves = q.moves[:0]
}

// loadWaiting counts the waiting tickets per category and class: one pass over the waiting
// index, whatever their business date (yesterday's wait until EndDay ends them).
func loadWaiting(ctx context.Context, db querier) (map[waitKey]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT category, class, COUNT(*) FROM queue_tickets WHERE state = 'waiting'
		GROUP BY category, class`)
	if err != nil {
		return nil, fmt.Errorf("queue: counting the waiting: %w", err)
	}
	defer rows.Close()
	counts := map[waitKey]int{}
	for rows.Next() {
		var k waitKey
		var n int
		if err := rows.Scan(&k.category, &k.class, &n); err != nil {
			return nil, fmt.Errorf("queue: counting the waiting: %w", err)
		}
		counts[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue: counting the waiting: %w", err)
	}
	return counts, nil
}
