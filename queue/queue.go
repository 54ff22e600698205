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

	allClasses = "0, 1, 2, 3" // SQL list of every class, for index seeks (pickNext)
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
	MaskedName     string // 张*, or ""
	Window         int    // the window that last called it; 0 if never called
	CallCount      int    // calls in the current call, 1 after CallNext, +1 per Recall

	IssuedAt, CalledAt, StartedAt, FinishedAt time.Time // first call, first start; zero if not yet

	Wait          time.Duration // total time waiting (all steps)
	CalledToStart time.Duration // total time between call and start
	Serve         time.Duration // total time serving
	Parked        time.Duration // total time parked

	// Existing is set by Issue when it returned a ticket the citizen already had.
	Existing bool

	class       int
	fresh       bool // made by this Issue call (not an existing ticket)
	queueKey    int64
	sinceMS     int64
	stepServeMS int64
	// was is the ticket as its transaction last read or wrote it (zero: not yet stored),
	// for what the queue keeps in memory (track)
	was place
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
	// MaskedName is the holder's masked name (张*) from the ID card, for a hall display that
	// is configured to show it; never the full name.
	MaskedName string
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

	// What the queue remembers of its tables, to read them less: recent is Issue's copy
	// of today's latest services per category, what loadRecent reads from queue_services
	// (estimate.go), and counters the last numbers in queue_counters (nextNumber).
	// recorded and numbered are what the running write changed in those tables; they
	// are taken in only once it has committed, and a write that fails drops everything
	// remembered, to be read again. All belong to mu.
	recent   map[string]recentDay
	counters map[string]counter // category -> its row for the latest date numbered
	recorded []service
	numbered []counter

	// waiting counts the waiting tickets per category and class as committed, nil while
	// unknown, and moves is how the running write changes it (waiting.go). waiting is
	// changed under both mu and wmu, so readers that do not hold mu read it under wmu.
	waiting map[waitKey]int
	moves   []waitMove
	wmu     sync.Mutex

	// holders are the open tickets of each person per category and of each appointment,
	// nil while unknown, and holds how the running write changes them (holders.go). Only
	// writes use them, under mu.
	holders map[string][]int64
	holds   []holdMove

	// dataVersion is PRAGMA data_version as the last write saw it (sameData).
	dataVersion int64
}

// New returns a queue over db, which must have the queue migration applied (store.Open
// does). It does no I/O. There can be one Queue per database handle: a second New on the
// same db fails (see store.DB.Claim).
func New(db *store.DB, cfg Config, clk clock.Clock) (*Queue, error) {
	if db == nil || clk == nil {
		return nil, errors.New("queue: New needs a database and a clock")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := db.Claim("queue"); err != nil {
		return nil, err // what the Queue keeps in memory needs it to be the only one
	}
	cfg = cfg.withDefaults()
	q := &Queue{db: db, cfg: cfg, clk: clk, loc: cfg.Location, cats: map[string]*Category{}, served: servedBy(cfg), nServe: map[string]int{},
		recent: map[string]recentDay{}, counters: map[string]counter{}}
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
func (q *Queue) write(ctx context.Context, fn func(tx *store.Tx, now time.Time) error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	q.recorded, q.numbered, q.moves, q.holds = q.recorded[:0], q.numbered[:0], q.moves[:0], q.holds[:0]
	done := false
	err := q.db.Write(ctx, func(tx *store.Tx) error {
		if err := q.sameData(tx); err != nil {
			return err
		}
		err := fn(tx, now)
		done = err == nil
		return err
	})
	if err != nil {
		// Rolled back, or a COMMIT that failed, after which only the database knows what
		// it holds: it is read again.
		if done {
			// fn succeeded, so COMMIT failed: it may or may not have committed.
			q.forget()
		} else {
			// A rollback leaves the waiting counts and the holders right: nothing was
			// applied to them.
			clear(q.recent)
			clear(q.counters)
		}
		q.moves, q.holds = q.moves[:0], q.holds[:0]
		return err
	}
	q.committed()
	return nil
}

// sameData forgets what the queue remembers of its tables if another connection (another
// process, or another Queue on the same file) has committed since this Queue's last write:
// PRAGMA data_version changes only then, not for the connection's own commits.
func (q *Queue) sameData(tx *store.Tx) error {
	var v int64
	if err := tx.QueryRow("PRAGMA data_version").Scan(&v); err != nil {
		return err
	}
	if v != q.dataVersion {
		q.forget()
		q.dataVersion = v
	}
	return nil
}

// forget drops every copy the queue keeps of its tables, to be read again when needed.
func (q *Queue) forget() {
	clear(q.recent)
	clear(q.counters)
	q.setWaiting(nil)
	q.holders = nil
}

// committed takes in what a write changed once it has committed: its numbers, and its
// services, added to recent in the order they were inserted (their ids' order). A
// category not in recent, or kept for another date, is left to be read from the database
// when it is next needed.
func (q *Queue) committed() {
	q.applyMoves()
	q.applyHolds()
	for _, c := range q.numbered {
		q.counters[c.category] = c
	}
	q.numbered = q.numbered[:0]
	for _, s := range q.recorded {
		d, ok := q.recent[s.category]
		if !ok || d.date != s.date {
			continue
		}
		samples := make([]time.Duration, 0, recentServices)
		samples = append(samples, s.serve)
		d.samples = append(samples, d.samples[:min(len(d.samples), recentServices-1)]...)
		q.recent[s.category] = d
	}
	q.recorded = q.recorded[:0]
}

func (q *Queue) now() time.Time { return q.clk.Now().In(q.loc).Truncate(time.Millisecond) }

func (q *Queue) businessDate(t time.Time) string { return t.In(q.loc).Format(time.DateOnly) }

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
func (q *Queue) idleWindow(ctx context.Context, tx *store.Tx, window int) ([]string, error) {
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
func (q *Queue) atWindow(ctx context.Context, tx *store.Tx, window int, op string, states ...State) (Ticket, error) {
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
// from before midnight may still be open), else the latest. "IN (?)", not "= ?", for the
// reason in headsQuery: 9 us a lookup instead of 39.
func byNumber(ctx context.Context, db querier, number string) (Ticket, error) {
	t, err := scanTicket(db.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM queue_tickets
		WHERE number IN (?) ORDER BY state = 'finished', id DESC LIMIT 1`, strings.ToUpper(strings.TrimSpace(number))))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, fmt.Errorf("%w: %q", ErrNoTicket, number)
	}
	return t, err
}

const ticketCols = `id, business_date, number, origin_category, category, state, COALESCE(outcome, ''), reason,
	priority, source, COALESCE(id_hash, ''), COALESCE(appointment_id, ''), class, queue_key, COALESCE(window_id, 0),
	call_count, issued_at, COALESCE(called_at, ''), COALESCE(started_at, ''), COALESCE(finished_at, ''),
	since_ms, wait_ms, call_ms, serve_ms, park_ms, step_serve_ms, name_masked`

type scanner interface{ Scan(...any) error }

// scanTicket reads a row of ticketCols. The columns are scanned as the driver's own values
// (int64 and string: the table is STRICT and NULLs are COALESCEd away) and converted
// here: Scan into an int or a named string type goes through reflection, for an int even
// through a formatted string. Reading a ticket by id went from 6.4 to 5.4 us.
func scanTicket(r scanner) (Ticket, error) {
	var v [27]any
	var p [27]any
	for i := range v {
		p[i] = &v[i]
	}
	if err := r.Scan(p[:]...); err != nil {
		return Ticket{}, err
	}
	bad := -1
	str := func(i int) string {
		s, ok := v[i].(string)
		if !ok && bad < 0 {
			bad = i
		}
		return s
	}
	num := func(i int) int64 {
		n, ok := v[i].(int64)
		if !ok && bad < 0 {
			bad = i
		}
		return n
	}
	ms := func(i int) time.Duration { return time.Duration(num(i)) * time.Millisecond }
	t := Ticket{
		ID: num(0), BusinessDate: str(1), Number: str(2), OriginCategory: str(3), Category: str(4),
		State: State(str(5)), Outcome: Outcome(str(6)), Reason: str(7), Priority: str(8), Source: str(9),
		IDHash: str(10), AppointmentID: str(11), class: int(num(12)), queueKey: num(13), Window: int(num(14)),
		CallCount: int(num(15)), sinceMS: num(20), Wait: ms(21), CalledToStart: ms(22), Serve: ms(23), Parked: ms(24),
		stepServeMS: num(25), MaskedName: str(26),
	}
	t.was = place{t.State, t.Category, t.class}
	for i, dst := range []*time.Time{&t.IssuedAt, &t.CalledAt, &t.StartedAt, &t.FinishedAt} {
		s := str(16 + i)
		if s == "" {
			continue
		}
		var err error
		if *dst, err = store.ParseTime(s); err != nil {
			return Ticket{}, fmt.Errorf("queue: ticket %d: %w", t.ID, err)
		}
	}
	if bad >= 0 {
		return Ticket{}, fmt.Errorf("queue: ticket %d: column %d is %T", t.ID, bad, v[bad])
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
func (q *Queue) save(ctx context.Context, tx *store.Tx, t *Ticket) error {
	_, err := tx.ExecContext(ctx, `UPDATE queue_tickets SET category = ?, state = ?, outcome = ?, reason = ?, class = ?,
		queue_key = ?, window_id = ?, call_count = ?, called_at = ?, started_at = ?, finished_at = ?, since_ms = ?,
		wait_ms = ?, call_ms = ?, serve_ms = ?, park_ms = ?, step_serve_ms = ? WHERE id = ?`,
		t.Category, t.State, nullable(string(t.Outcome)), t.Reason, t.class, t.queueKey, nullInt(t.Window), t.CallCount,
		nullTime(t.CalledAt), nullTime(t.StartedAt), nullTime(t.FinishedAt), t.sinceMS,
		t.Wait.Milliseconds(), t.CalledToStart.Milliseconds(), t.Serve.Milliseconds(), t.Parked.Milliseconds(), t.stepServeMS, t.ID)
	if err == nil {
		q.track(t)
	}
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
