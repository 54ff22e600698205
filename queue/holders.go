package queue

import (
	"context"
	"fmt"
	"slices"
)

// The open tickets of each person in each category, and of each appointment, in memory:
// Issue looks there for a ticket the citizen already holds (a second card swipe, an
// appointment checked in twice) and returns it instead of queuing them twice.
//
// Why not indexes: until migration 0012 two partial indexes (queue_tickets_id_hash and
// queue_tickets_appointment, over the open tickets) answered that lookup, and an ID-card or
// appointment ticket wrote their pages when it was issued, when it was called (its state
// is in the indexes' WHERE) and when it finished: one page more in each of those commits
// than a walk-in ticket's.
//
// The same rules as the waiting counts (waiting.go): read from the database when first
// needed, changed by a write only once it has committed, kept when a write rolls back,
// and read again after a COMMIT that failed or another connection's commit.

// holdMove is a change a write made: ticket id began (add) or stopped being an open
// ticket under key.
type holdMove struct {
	key string
	id  int64
	add bool
}

// personKey is the key of a person's open tickets in a category; appointmentKey of an
// appointment's. The prefixes keep the two apart.
func personKey(idHash, category string) string { return "p" + idHash + "\x00" + category }
func appointmentKey(id string) string          { return "a" + id }

// trackHolder records the holds t's change moves (see track).
func (q *Queue) trackHolder(t *Ticket, was, now place) {
	if t.IDHash == "" && t.AppointmentID == "" {
		return
	}
	wasOpen := was.state != "" && was.state != Finished
	isOpen := now.state != Finished
	if t.IDHash != "" {
		// Keyed by the current category: a transferred ticket is held in the one it
		// waits or is served in now.
		if wasOpen && (!isOpen || was.category != now.category) {
			q.holds = append(q.holds, holdMove{personKey(t.IDHash, was.category), t.ID, false})
		}
		if isOpen && (!wasOpen || was.category != now.category) {
			q.holds = append(q.holds, holdMove{personKey(t.IDHash, now.category), t.ID, true})
		}
	}
	if t.AppointmentID != "" && wasOpen != isOpen {
		q.holds = append(q.holds, holdMove{appointmentKey(t.AppointmentID), t.ID, isOpen})
	}
}

// holder is the id of the open ticket held under key with the lowest id (the oldest), 0
// if there is none, counting the running write's changes. Called within a write.
func (q *Queue) holder(ctx context.Context, tx querier, key string) (int64, error) {
	if q.holders == nil {
		held, err := loadHolders(ctx, tx)
		if err != nil {
			return 0, err
		}
		// tx sees the write's own changes: undone, newest first, they leave what
		// committed.
		for i := len(q.holds) - 1; i >= 0; i-- {
			m := q.holds[i]
			m.add = !m.add
			applyHold(held, m)
		}
		q.holders = held
	}
	// The committed holds of key (a copy) with the running write's moves of it.
	held := map[string][]int64{key: slices.Clone(q.holders[key])}
	for _, m := range q.holds {
		if m.key == key {
			applyHold(held, m)
		}
	}
	if ids := held[key]; len(ids) > 0 {
		return slices.Min(ids), nil
	}
	return 0, nil
}

// applyHold makes one move in held.
func applyHold(held map[string][]int64, m holdMove) {
	ids := held[m.key]
	if m.add {
		if !slices.Contains(ids, m.id) {
			held[m.key] = append(ids, m.id)
		}
		return
	}
	if i := slices.Index(ids, m.id); i >= 0 {
		ids = slices.Delete(ids, i, i+1)
	}
	if len(ids) == 0 {
		delete(held, m.key)
	} else {
		held[m.key] = ids
	}
}

// applyHolds takes in a committed write's moves, if the holders are known; the caller holds
// mu.
func (q *Queue) applyHolds() {
	if q.holders != nil {
		for _, m := range q.holds {
			applyHold(q.holders, m)
		}
	}
	q.holds = q.holds[:0]
}

// loadHolders reads the open tickets that carry an ID hash or an appointment from the open
// tickets' partial indexes (openTickets).
func loadHolders(ctx context.Context, db querier) (map[string][]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, COALESCE(id_hash, ''), COALESCE(appointment_id, ''), category
		FROM queue_tickets WHERE `+openTickets+` AND (id_hash IS NOT NULL OR appointment_id IS NOT NULL)`)
	if err != nil {
		return nil, fmt.Errorf("queue: reading the open tickets of people and appointments: %w", err)
	}
	defer rows.Close()
	held := map[string][]int64{}
	for rows.Next() {
		var id int64
		var idHash, appointment, category string
		if err := rows.Scan(&id, &idHash, &appointment, &category); err != nil {
			return nil, fmt.Errorf("queue: reading the open tickets of people and appointments: %w", err)
		}
		if idHash != "" {
			applyHold(held, holdMove{personKey(idHash, category), id, true})
		}
		if appointment != "" {
			applyHold(held, holdMove{appointmentKey(appointment), id, true})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue: reading the open tickets of people and appointments: %w", err)
	}
	return held, nil
}
