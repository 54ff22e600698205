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

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// Stream is the outbox stream every queue event goes to.
const Stream = "queue"

// State is where a ticket is in its life.
type State string

const (
	Waiting  State = "waiting"
	Called   State = "called"  // announced, citizen not yet at the window
	Serving  State = "serving" // citizen at the window
	Parked   State = "parked"  // set aside (e.g. fetching a document), returned by number
	Finished State = "finished"
)

// Outcome is how a ticket ended; every finished ticket has exactly one.
type Outcome string

const (
	Served    Outcome = "served"
	NoShow    Outcome = "no_show"
	Cancelled Outcome = "cancelled"
	Reset     Outcome = "reset"
)

// Sources and priorities of IssueRequest.
const (
	SourceWalkIn      = "walk_in"
	SourceIDCard      = "id_card"
	SourceAppointment = "appointment"

	PriorityNormal      = ""
	PriorityGreen       = "green" // 绿色通道: elderly, pregnant, disabled
	PriorityAppointment = "appointment"
)

// Transfer positions.
const (
	Front    = "front"    // before everyone, appointments included
	End      = "end"      // behind everyone of its priority, waiting from now
	Original = "original" // where its issue time puts it
)

// Calling order classes (queue_tickets.class): lower is called first.
const (
	classFront       = 0
	classAppointment = 1
	classGreen       = 2
	classNormal      = 3
)

// maxEstimate caps estimates: beyond a working day a number means nothing to a citizen.
const maxEstimate = 8 * time.Hour

// Ticket is one queue ticket as stored.
type Ticket struct {
	ID             int64
	Number         string // "A023"
	Category       string // current category
	OriginCategory string // the category that numbered it
	BusinessDate   string // YYYY-MM-DD, hall-local
	State          State
	Outcome        Outcome // set when State is Finished
	Reason         string  // why it was cancelled (Cancel's reason) or that recalls ran out
	Priority       string
	Source         string
	IDHash         string
	AppointmentID  string
	Window         int // the window that last called it; 0 if never called
	CallCount      int // calls in the current call, 1 after CallNext, +1 per Recall

	IssuedAt, CalledAt, StartedAt, FinishedAt time.Time // first call, first start; zero if not yet

	Wait          time.Duration // total time waiting (all steps)
	CalledToStart time.Duration // total time between call and start
	Serve         time.Duration // total time serving
	Parked        time.Duration // total time parked

	// Existing is set by Issue when it returned a ticket the citizen already had.
	Existing bool

	class       int
	queueKey    int64
	sinceMS     int64
	stepServeMS int64
}

// Estimate is what a citizen is told when taking a ticket.
type Estimate struct {
	Ahead int
	Wait  time.Duration
}

// IssueRequest asks for a ticket.
type IssueRequest struct {
	Category      string
	Source        string // walk_in, id_card or appointment
	IDHash        string // hex HMAC of the ID number; id_card (required) and appointment only
	Priority      string // "", "green" or "appointment"
	AppointmentID string // required for source appointment
}

// Queue is the hall's queue engine. One Queue per hall and process; its methods are safe
// for concurrent use.
type Queue struct {
	db     *store.DB
	cfg    Config
	clk    clock.Clock
	loc    *time.Location
	cats   map[string]*Category
	served map[int][]string // window -> categories, in policy order
	nServe map[string]int   // category -> number of windows serving it

	// mu serialises operations. Each one already decides and writes inside one immediate
	// transaction, so SQLite alone keeps two windows from calling the same ticket; the
	// mutex adds that the operation's time is read in commit order (times never run
	// backwards across tickets) and that waiting happens here, not on busy_timeout, which
	// would fail an operation after 5 s of queueing.
	mu sync.Mutex
}

// New returns a queue over db, which must have the queue migration applied (store.Open
// does). It does no I/O.
func New(db *store.DB, cfg Config, clk clock.Clock) (*Queue, error) {
	if db == nil || clk == nil {
		return nil, errors.New("queue: New needs a database and a clock")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	q := &Queue{db: db, cfg: cfg, clk: clk, loc: cfg.Location, cats: map[string]*Category{}, served: servedBy(cfg), nServe: map[string]int{}}
	for i := range cfg.Categories {
		q.cats[cfg.Categories[i].Code] = &cfg.Categories[i]
	}
	for _, cats := range q.served {
		for _, c := range cats {
			q.nServe[c]++
		}
	}
	return q, nil
}

// Config returns the configuration in force, defaults filled in.
func (q *Queue) Config() Config { return q.cfg }

// write runs fn as one transaction under the queue's mutex, with the time of the operation
// read once so every row and event of it carries the same instant.
func (q *Queue) write(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	return q.db.Write(ctx, func(tx *sql.Tx) error { return fn(tx, now) })
}

func (q *Queue) now() time.Time { return q.clk.Now().In(q.loc).Truncate(time.Millisecond) }

func (q *Queue) businessDate(t time.Time) string { return t.In(q.loc).Format(time.DateOnly) }

func emit(tx *sql.Tx, now time.Time, typ string, data map[string]any) error {
	_, _, err := store.AppendOutbox(tx, Stream, typ, now, data)
	return err
}

// Issue gives a new ticket, or the open one the same person already holds in that category
// (Existing set, no event). The returned Estimate is for that ticket's place.
func (q *Queue) Issue(ctx context.Context, req IssueRequest) (Ticket, Estimate, error) {
	var t Ticket
	var est Estimate
	err := q.write(ctx, func(tx *sql.Tx, now time.Time) error {
		var err error
		t, err = q.issue(ctx, tx, now, req)
		if err != nil {
			return err
		}
		est, err = q.estimateFor(ctx, tx, now, t)
		return err
	})
	if err != nil {
		return Ticket{}, Estimate{}, err
	}
	return t, est, nil
}

func (q *Queue) issue(ctx context.Context, tx *sql.Tx, now time.Time, req IssueRequest) (Ticket, error) {
	cat := q.cats[req.Category]
	if cat == nil {
		return Ticket{}, fmt.Errorf("%w: %q", ErrUnknownCategory, req.Category)
	}
	class := classNormal
	switch req.Source {
	case SourceWalkIn:
		if req.IDHash != "" || req.AppointmentID != "" {
			return Ticket{}, fmt.Errorf("%w: a walk_in ticket carries no IDHash or AppointmentID", ErrBadRequest)
		}
	case SourceIDCard:
		if req.IDHash == "" {
			return Ticket{}, fmt.Errorf("%w: an id_card ticket needs IDHash", ErrBadRequest)
		}
	case SourceAppointment:
		if req.AppointmentID == "" {
			return Ticket{}, fmt.Errorf("%w: an appointment ticket needs AppointmentID", ErrBadRequest)
		}
		class = classAppointment
	default:
		return Ticket{}, fmt.Errorf("%w: source %q; want walk_in, id_card or appointment", ErrBadRequest, req.Source)
	}
	switch req.Priority {
	case PriorityNormal:
		if req.Source == SourceAppointment {
			req.Priority = PriorityAppointment
		}
	case PriorityGreen:
		class = min(class, classGreen)
	case PriorityAppointment:
		if req.Source != SourceAppointment {
			return Ticket{}, fmt.Errorf("%w: priority appointment needs source appointment (a checked-in appointment)", ErrBadRequest)
		}
	default:
		return Ticket{}, fmt.Errorf("%w: priority %q; want \"\", green or appointment", ErrBadRequest, req.Priority)
	}

	// One open ticket per person and category: a second card swipe returns it (to reprint),
	// it does not queue twice. The same for an appointment checked in twice.
	// Two queries, not one with OR, so each uses its partial index.
	for _, dup := range []struct {
		key, where string
		args       []any
	}{
		{req.IDHash, `id_hash = ? AND category = ? AND id_hash IS NOT NULL`, []any{req.IDHash, req.Category}},
		{req.AppointmentID, `appointment_id = ? AND appointment_id IS NOT NULL`, []any{req.AppointmentID}},
	} {
		if dup.key == "" {
			continue
		}
		t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM queue_tickets
			WHERE `+dup.where+` AND state != 'finished' ORDER BY id LIMIT 1`, dup.args...))
		if err == nil {
			t.Existing = true
			return t, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Ticket{}, err
		}
	}

	// Hours, range and cap limit new tickets only: someone who already holds one gets it
	// back (a reprint) above, even after closing.
	if cat.Open != "" {
		open, _ := parseClock(cat.Open)
		closeAt, _ := parseClock(cat.Close)
		if m := now.Hour()*60 + now.Minute(); m < open || m >= closeAt {
			return Ticket{}, fmt.Errorf("%w: %q issues tickets %s-%s", ErrClosed, cat.Code, cat.Open, cat.Close)
		}
	}
	date := q.businessDate(now)
	last := cat.RangeFrom - 1
	err := tx.QueryRowContext(ctx, `SELECT last_number FROM queue_counters WHERE category = ? AND business_date = ?`,
		cat.Code, date).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, err
	}
	n := last + 1
	if n > cat.RangeTo {
		return Ticket{}, fmt.Errorf("%w: category %q has used all of %s..%s today (%s)",
			ErrRangeExhausted, cat.Code, formatNumber(cat, cat.RangeFrom), formatNumber(cat, cat.RangeTo), date)
	}
	if cat.DailyCap > 0 && n-cat.RangeFrom >= cat.DailyCap {
		return Ticket{}, fmt.Errorf("%w: category %q issued its %d tickets for %s", ErrDailyCap, cat.Code, cat.DailyCap, date)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO queue_counters(category, business_date, last_number) VALUES(?, ?, ?)
		ON CONFLICT(category, business_date) DO UPDATE SET last_number = excluded.last_number`, cat.Code, date, n); err != nil {
		return Ticket{}, err
	}
	t := Ticket{
		Number: formatNumber(cat, n), Category: cat.Code, OriginCategory: cat.Code, BusinessDate: date,
		State: Waiting, Priority: req.Priority, Source: req.Source, IDHash: req.IDHash, AppointmentID: req.AppointmentID,
		IssuedAt: now, class: class, queueKey: now.UnixMilli(), sinceMS: now.UnixMilli(),
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO queue_tickets(business_date, number, origin_category, category, state,
		priority, source, id_hash, appointment_id, class, queue_key, issued_at, since_ms)
		VALUES(?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		date, t.Number, t.Category, t.Category, t.Priority, t.Source, nullable(t.IDHash), nullable(t.AppointmentID),
		t.class, t.queueKey, store.FormatTime(now), t.sinceMS).Scan(&t.ID)
	if err != nil {
		return Ticket{}, err
	}
	data := map[string]any{"ticket": t.Number, "category": t.Category, "priority": t.Priority, "source": t.Source}
	if t.IDHash != "" {
		data["id_hash"] = t.IDHash
	}
	if err := emit(tx, now, "ticket.issued", data); err != nil {
		return Ticket{}, err
	}
	if t.Source == SourceAppointment {
		if err := emit(tx, now, "appointment.checked_in", map[string]any{"appointment_id": t.AppointmentID, "ticket": t.Number}); err != nil {
			return Ticket{}, err
		}
	}
	return t, nil
}

// formatNumber is the prefix and three digits, four when the range goes past 999, so
// every number of a category has the same width on the display.
func formatNumber(cat *Category, n int) string {
	if cat.RangeTo > 999 {
		return fmt.Sprintf("%s%04d", cat.Prefix, n)
	}
	return fmt.Sprintf("%s%03d", cat.Prefix, n)
}

// CallNext calls the next ticket for window; see the package doc for the order.
func (q *Queue) CallNext(ctx context.Context, window int) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *sql.Tx, now time.Time) error {
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
	err := q.write(ctx, func(tx *sql.Tx, now time.Time) error {
		cats, err := q.idleWindow(ctx, tx, window)
		if err != nil {
			return err
		}
		t, err = byNumber(ctx, tx, number)
		if err != nil {
			return err
		}
		if t.State != Waiting {
			return wrongState(t, "CallTicket", Waiting)
		}
		if !slices.Contains(cats, t.Category) {
			return fmt.Errorf("%w: %s waits in %q, window %d serves %q", ErrNotServed, t.Number, t.Category, window, cats)
		}
		return q.call(ctx, tx, now, &t, window)
	})
	return t, err
}

func (q *Queue) call(ctx context.Context, tx *sql.Tx, now time.Time, t *Ticket, window int) error {
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
func (q *Queue) pickNext(ctx context.Context, tx *sql.Tx, now time.Time, window int, cats []string) (Ticket, error) {
	in, args := inList(cats)
	if q.cfg.LongWait > 0 {
		t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM queue_tickets
			WHERE state = 'waiting' AND category IN (`+in+`) AND queue_key <= ?
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
func (q *Queue) roundRobin(ctx context.Context, tx *sql.Tx, window int, cats []string, weights map[string]int) (string, error) {
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
	err := q.write(ctx, func(tx *sql.Tx, now time.Time) error {
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
	err := q.write(ctx, func(tx *sql.Tx, now time.Time) error {
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
	err := q.write(ctx, func(tx *sql.Tx, now time.Time) error {
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
// called. No event.
func (q *Queue) Return(ctx context.Context, window int, number string) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *sql.Tx, now time.Time) error {
		cats, err := q.idleWindow(ctx, tx, window)
		if err != nil {
			return err
		}
		t, err = byNumber(ctx, tx, number)
		if err != nil {
			return err
		}
		if t.State != Parked {
			return wrongState(t, "Return", Parked)
		}
		if !slices.Contains(cats, t.Category) {
			return fmt.Errorf("%w: %s is in %q, window %d serves %q", ErrNotServed, t.Number, t.Category, window, cats)
		}
		leave(&t, now)
		t.State, t.Window = Called, window
		if !t.StartedAt.IsZero() {
			t.State = Serving
		}
		return save(ctx, tx, &t)
	})
	return t, err
}

// Transfer moves window's ticket (called or serving) to wait in category to, at position
// Front, End or Original.
func (q *Queue) Transfer(ctx context.Context, window int, to, position string) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *sql.Tx, now time.Time) error {
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
		if err := requeue(ctx, tx, now, &t, to, position); err != nil {
			return err
		}
		return emit(tx, now, "ticket.transferred", map[string]any{"ticket": t.Number, "from_category": from, "to_category": to, "position": position})
	})
	return t, err
}

// requeue ends the ticket's current step and puts it back to waiting in category to.
func requeue(ctx context.Context, tx *sql.Tx, now time.Time, t *Ticket, to, position string) error {
	leave(t, now)
	if err := recordService(ctx, tx, now, t); err != nil {
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
	return save(ctx, tx, t)
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
	err := q.write(ctx, func(tx *sql.Tx, now time.Time) error {
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
			return finish(ctx, tx, now, &t, outcome, "")
		}
		from := t.Category
		stepServe := t.stepServeMS + now.UnixMilli() - t.sinceMS
		if err := requeue(ctx, tx, now, &t, next, Original); err != nil {
			return err
		}
		return emit(tx, now, "ticket.transferred", map[string]any{"ticket": t.Number, "from_category": from, "to_category": next,
			"reason": "next_step", "serve_s": seconds(stepServe)})
	})
	return t, err
}

// Cancel finishes ticket number, in whatever open state, as cancelled with reason (e.g.
// "print_failed": a ticket that never reached the citizen must not be called).
func (q *Queue) Cancel(ctx context.Context, number, reason string) (Ticket, error) {
	var t Ticket
	err := q.write(ctx, func(tx *sql.Tx, now time.Time) error {
		var err error
		t, err = byNumber(ctx, tx, number)
		if err != nil {
			return err
		}
		if t.State == Finished {
			return wrongState(t, "Cancel", Waiting, Called, Serving, Parked)
		}
		return finish(ctx, tx, now, &t, Cancelled, reason)
	})
	return t, err
}

// HallReset finishes every open ticket with outcome reset (end of day, or a hall that must
// start over) and returns how many there were.
func (q *Queue) HallReset(ctx context.Context) (int, error) {
	var n int
	err := q.write(ctx, func(tx *sql.Tx, now time.Time) error {
		ts, err := queryTickets(ctx, tx, `WHERE state != 'finished' ORDER BY id`)
		if err != nil {
			return err
		}
		for i := range ts {
			if err := finish(ctx, tx, now, &ts[i], Reset, ""); err != nil {
				return err
			}
		}
		n = len(ts)
		return nil
	})
	return n, err
}

func finish(ctx context.Context, tx *sql.Tx, now time.Time, t *Ticket, outcome Outcome, reason string) error {
	leave(t, now)
	if outcome == Served {
		if err := recordService(ctx, tx, now, t); err != nil {
			return err
		}
	}
	t.State, t.Outcome, t.Reason, t.FinishedAt = Finished, outcome, reason, now
	if err := save(ctx, tx, t); err != nil {
		return err
	}
	data := map[string]any{"ticket": t.Number, "outcome": string(outcome), "wait_s": seconds(t.Wait.Milliseconds()),
		"serve_s": seconds(t.Serve.Milliseconds()), "category": t.Category,
		"called_to_start_s": seconds(t.CalledToStart.Milliseconds()), "parked_s": seconds(t.Parked.Milliseconds())}
	if reason != "" {
		data["reason"] = reason
	}
	return emit(tx, now, "ticket.finished", data)
}

// recordService keeps the step's serving time for estimates, if the step was served at all.
func recordService(ctx context.Context, tx *sql.Tx, now time.Time, t *Ticket) error {
	if t.StartedAt.IsZero() || t.stepServeMS <= 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO queue_services(ticket_id, category, business_date, window_id, finished_at, serve_ms)
		VALUES(?, ?, ?, ?, ?, ?)`, t.ID, t.Category, t.BusinessDate, t.Window, store.FormatTime(now), t.stepServeMS)
	return err
}

// seconds rounds to whole seconds for events: the platform's fields are integers.
func seconds(ms int64) int64 { return (ms + 500) / 1000 }

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

func wrongState(t Ticket, op string, want ...State) error {
	return fmt.Errorf("%w: %s is %s; %s needs %v", ErrWrongState, t.Number, t.State, op, want)
}

func (q *Queue) window(id int) *Window {
	for i := range q.cfg.Windows {
		if q.cfg.Windows[i].ID == id {
			return &q.cfg.Windows[i]
		}
	}
	return nil
}

// idleWindow checks that window exists and holds no ticket, and returns its categories.
func (q *Queue) idleWindow(ctx context.Context, tx *sql.Tx, window int) ([]string, error) {
	cats, ok := q.served[window]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrUnknownWindow, window)
	}
	t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM queue_tickets
		WHERE window_id = ? AND state IN ('called', 'serving')`, window))
	if err == nil {
		return nil, fmt.Errorf("%w: window %d has %s (%s): finish, transfer or park it first", ErrWindowBusy, window, t.Number, t.State)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return cats, nil
}

// atWindow returns the ticket window holds, which must be in one of the states.
func (q *Queue) atWindow(ctx context.Context, tx *sql.Tx, window int, op string, states ...State) (Ticket, error) {
	if _, ok := q.served[window]; !ok {
		return Ticket{}, fmt.Errorf("%w: %d", ErrUnknownWindow, window)
	}
	t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM queue_tickets
		WHERE window_id = ? AND state IN ('called', 'serving')`, window))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, fmt.Errorf("%w: window %d holds no ticket; %s needs one", ErrNoTicket, window, op)
	}
	if err != nil {
		return Ticket{}, err
	}
	if !slices.Contains(states, t.State) {
		return Ticket{}, wrongState(t, op, states...)
	}
	return t, nil
}

// byNumber finds a ticket by its printed number: the open one if there is one (a ticket
// from before midnight may still be open), else the latest.
func byNumber(ctx context.Context, db querier, number string) (Ticket, error) {
	t, err := scanTicket(db.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM queue_tickets
		WHERE number = ? ORDER BY state = 'finished', id DESC LIMIT 1`, strings.ToUpper(strings.TrimSpace(number))))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, fmt.Errorf("%w: %q", ErrNoTicket, number)
	}
	return t, err
}

const ticketCols = `id, business_date, number, origin_category, category, state, COALESCE(outcome, ''), reason,
	priority, source, COALESCE(id_hash, ''), COALESCE(appointment_id, ''), class, queue_key, COALESCE(window_id, 0),
	call_count, issued_at, COALESCE(called_at, ''), COALESCE(started_at, ''), COALESCE(finished_at, ''),
	since_ms, wait_ms, call_ms, serve_ms, park_ms, step_serve_ms`

type scanner interface{ Scan(...any) error }

func scanTicket(r scanner) (Ticket, error) {
	var t Ticket
	var issued, called, started, finished string
	var wait, call, serve, park int64
	err := r.Scan(&t.ID, &t.BusinessDate, &t.Number, &t.OriginCategory, &t.Category, &t.State, &t.Outcome, &t.Reason,
		&t.Priority, &t.Source, &t.IDHash, &t.AppointmentID, &t.class, &t.queueKey, &t.Window,
		&t.CallCount, &issued, &called, &started, &finished,
		&t.sinceMS, &wait, &call, &serve, &park, &t.stepServeMS)
	if err != nil {
		return Ticket{}, err
	}
	t.Wait, t.CalledToStart = time.Duration(wait)*time.Millisecond, time.Duration(call)*time.Millisecond
	t.Serve, t.Parked = time.Duration(serve)*time.Millisecond, time.Duration(park)*time.Millisecond
	for _, p := range []struct {
		s   string
		dst *time.Time
	}{{issued, &t.IssuedAt}, {called, &t.CalledAt}, {started, &t.StartedAt}, {finished, &t.FinishedAt}} {
		if p.s == "" {
			continue
		}
		if *p.dst, err = store.ParseTime(p.s); err != nil {
			return Ticket{}, fmt.Errorf("queue: ticket %d: %w", t.ID, err)
		}
	}
	return t, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func queryTickets(ctx context.Context, db querier, where string, args ...any) ([]Ticket, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+ticketCols+` FROM queue_tickets `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// save writes every mutable column of t.
func save(ctx context.Context, tx *sql.Tx, t *Ticket) error {
	_, err := tx.ExecContext(ctx, `UPDATE queue_tickets SET category = ?, state = ?, outcome = ?, reason = ?, class = ?,
		queue_key = ?, window_id = ?, call_count = ?, called_at = ?, started_at = ?, finished_at = ?, since_ms = ?,
		wait_ms = ?, call_ms = ?, serve_ms = ?, park_ms = ?, step_serve_ms = ? WHERE id = ?`,
		t.Category, t.State, nullable(string(t.Outcome)), t.Reason, t.class, t.queueKey, nullInt(t.Window), t.CallCount,
		nullTime(t.CalledAt), nullTime(t.StartedAt), nullTime(t.FinishedAt), t.sinceMS,
		t.Wait.Milliseconds(), t.CalledToStart.Milliseconds(), t.Serve.Milliseconds(), t.Parked.Milliseconds(), t.stepServeMS, t.ID)
	return err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return store.FormatTime(t)
}

func inList(cats []string) (string, []any) {
	args := make([]any, len(cats))
	for i, c := range cats {
		args[i] = c
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(cats)), ", "), args
}
