package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// Transfer moves window's ticket (called or serving) to wait in category to, at position
// Front, End or Original.
func (q *Queue) Transfer(ctx context.Context, window int, to, position string) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		if q.cats[to] == nil {
			return fmt.Errorf("%w: transfer to %q", ErrUnknownCategory, to)
		}
		if position != Front && position != End && position != Original {
			return fmt.Errorf("%w: position %q; want front, end or original", ErrBadRequest, position)
		}
		var err error
		t, err = q.atWindow(ctx, tx, window, "Transfer", Called, Serving)
		if err != nil {
			return err
		}
		from := t.Category
		if err := q.requeue(ctx, tx, now, &t, to, position); err != nil {
			return err
		}
		return emit(tx, now, "ticket.transferred", transferredEvent(&t, from, to, position))
	})
	return t, err
}

// requeue ends the ticket's current step and puts it back to waiting in category to.
func (q *Queue) requeue(ctx context.Context, tx *store.Tx, now time.Time, t *Ticket, to, position string) error {
	leave(t, now)
	if err := q.recordService(ctx, tx, now, t); err != nil {
		return err
	}
	t.State, t.Category, t.CallCount, t.stepServeMS = Waiting, to, 0, 0
	t.class = priorityClass(t)
	switch position {
	case Front:
		t.class, t.queueKey = classFront, now.UnixMilli()
	case End:
		t.queueKey = now.UnixMilli()
	case Original:
		t.queueKey = t.IssuedAt.UnixMilli()
	}
	return q.save(ctx, tx, t)
}

func priorityClass(t *Ticket) int {
	switch {
	case t.Source == SourceAppointment || t.Priority == PriorityAppointment:
		return classAppointment
	case t.Priority == PriorityGreen:
		return classGreen
	}
	return classNormal
}

// Finish ends window's ticket with outcome: served (needs serving), no_show (needs called)
// or cancelled (either). With next, a served ticket is not finished but waits in category
// next under the same number, placed by its issue time (多窗联办: no queuing again from the
// end); that step is reported as ticket.transferred with reason next_step.
func (q *Queue) Finish(ctx context.Context, window int, outcome Outcome, next string) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		var need []State
		switch outcome {
		case Served:
			need = []State{Serving}
		case NoShow:
			need = []State{Called}
		case Cancelled:
			need = []State{Called, Serving}
		default:
			return fmt.Errorf("%w: outcome %q; want served, no_show or cancelled (reset is HallReset's)", ErrBadRequest, outcome)
		}
		if next != "" {
			if outcome != Served {
				return fmt.Errorf("%w: next category %q needs outcome served, not %s", ErrBadRequest, next, outcome)
			}
			if q.cats[next] == nil {
				return fmt.Errorf("%w: next step %q", ErrUnknownCategory, next)
			}
		}
		var err error
		t, err = q.atWindow(ctx, tx, window, "Finish("+string(outcome)+")", need...)
		if err != nil {
			return err
		}
		if next == "" {
			return q.finish(ctx, tx, now, &t, outcome, "")
		}
		from := t.Category
		stepServe := t.stepServeMS + now.UnixMilli() - t.sinceMS
		if err := q.requeue(ctx, tx, now, &t, next, Original); err != nil {
			return err
		}
		return emit(tx, now, "ticket.transferred", nextStepEvent(&t, from, next, stepServe))
	})
	return t, err
}

// ReasonPrintFailed is the cancel reason of a ticket that did not print: it never reached
// the citizen, so it must not be called (Stats lists today's for staff).
const ReasonPrintFailed = "print_failed"

// Cancel finishes ticket number, in whatever open state, as cancelled with reason (e.g.
// ReasonPrintFailed).
func (q *Queue) Cancel(ctx context.Context, number, reason string) (Ticket, error) {
	if !reasonCode(reason) {
		return Ticket{}, fmt.Errorf("%w: reason %q; want a snake_case code of at most 64 characters, e.g. print_failed", ErrBadRequest, reason)
	}
	var t Ticket
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		var err error
		t, err = byNumber(ctx, tx, number)
		if err != nil {
			return err
		}
		if t.State == Finished {
			return wrongState(t, "Cancel", Waiting, Called, Serving, Parked)
		}
		return q.finish(ctx, tx, now, &t, Cancelled, reason)
	})
	return t, err
}

// HallReset finishes every open ticket with outcome reset (end of day, or a hall that must
// start over) and returns how many there were.
func (q *Queue) HallReset(ctx context.Context) (int, error) {
	var n int
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		ts, err := queryTickets(ctx, tx, `WHERE `+openTickets+` ORDER BY id`)
		if err != nil {
			return err
		}
		for i := range ts {
			if err := q.finish(ctx, tx, now, &ts[i], Reset, ""); err != nil {
				return err
			}
		}
		n = len(ts)
		return nil
	})
	return n, err
}

// openTickets is "state != 'finished'" in a form that reads the partial indexes of the
// waiting, the called or serving, and the parked tickets (migration 0010), not the table.
const openTickets = `id IN (SELECT id FROM queue_tickets WHERE state = 'waiting'
	UNION ALL SELECT id FROM queue_tickets WHERE state IN ('called', 'serving')
	UNION ALL SELECT id FROM queue_tickets WHERE state = 'parked')`

// ReasonEndOfDay is the reason of tickets EndDay finished.
const ReasonEndOfDay = "end_of_day"

// EndDay finishes with outcome reset, reason end_of_day, every ticket still open from an
// earlier business day (hall-local), and returns how many there were. Run it at start-up
// (the node may have been off at midnight) and at every local midnight: numbering starts
// afresh each day anyway, but yesterday's tickets must not linger as waiting or serving.
func (q *Queue) EndDay(ctx context.Context) (int, error) {
	var n int
	err := q.write(ctx, func(tx *store.Tx, now time.Time) error {
		ts, err := queryTickets(ctx, tx, `WHERE `+openTickets+` AND business_date < ? ORDER BY id`, q.businessDate(now))
		if err != nil {
			return err
		}
		for i := range ts {
			if err := q.finish(ctx, tx, now, &ts[i], Reset, ReasonEndOfDay); err != nil {
				return err
			}
		}
		n = len(ts)
		return nil
	})
	return n, err
}

// NextDay is the start of the business day after now, in the hall's zone: when EndDay
// should run next.
func (q *Queue) NextDay(now time.Time) time.Time {
	l := now.In(q.loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, q.loc)
}

func (q *Queue) finish(ctx context.Context, tx *store.Tx, now time.Time, t *Ticket, outcome Outcome, reason string) error {
	leave(t, now)
	if outcome == Served {
		if err := q.recordService(ctx, tx, now, t); err != nil {
			return err
		}
	}
	t.State, t.Outcome, t.Reason, t.FinishedAt = Finished, outcome, reason, now
	if err := q.save(ctx, tx, t); err != nil {
		return err
	}
	return emit(tx, now, "ticket.finished", finishedEvent(t, outcome, reason))
}

// recordService keeps the step's serving time for estimates, if the step was served at all:
// a step under minService is a click (finished as served the moment it was started), not a
// service, and says nothing about how long one takes.
func (q *Queue) recordService(ctx context.Context, tx *store.Tx, now time.Time, t *Ticket) error {
	if t.StartedAt.IsZero() || t.stepServeMS < minService.Milliseconds() {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO queue_services(ticket_id, category, business_date, window_id, finished_at, serve_ms)
		VALUES(?, ?, ?, ?, ?, ?)`, t.ID, t.Category, t.BusinessDate, t.Window, store.FormatTime(now), t.stepServeMS)
	if err == nil {
		q.recorded = append(q.recorded, service{t.Category, t.BusinessDate, time.Duration(t.stepServeMS) * time.Millisecond})
	}
	return err
}

// seconds rounds to whole seconds for events: the platform's fields are integers.
func seconds(ms int64) int64 { return (ms + 500) / 1000 }

// Elapsed is t with its periods counted up to now, as if it left its state now: a waiting
// ticket's Wait includes the wait so far. Nothing is written.
func (q *Queue) Elapsed(t Ticket) Ticket {
	if t.State != Finished {
		leave(&t, q.now())
	}
	return t
}

// leave closes the period of the current state, adding it to that state's total.

func leave(t *Ticket, now time.Time) {
	d := max(now.UnixMilli()-t.sinceMS, 0) // a clock stepped back must not make time negative
	dur := time.Duration(d) * time.Millisecond
	switch t.State {
	case Waiting:
		t.Wait += dur
	case Called:
		t.CalledToStart += dur
	case Serving:
		t.Serve += dur
		t.stepServeMS += d
	case Parked:
		t.Parked += dur
	}
	t.sinceMS = now.UnixMilli()
}
