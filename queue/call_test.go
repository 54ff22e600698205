package queue

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// TestCallNextBusyWindow: CallNext at a window that holds a ticket fails with
// ErrWindowBusy, whether or not anyone is waiting, and changes nothing (the busy window
// is found by the unique index refusing the call, after the pick).
func TestCallNextBusyWindow(t *testing.T) {
	cfg := testConfig()
	cfg.Windows[1].Policy = Policy{Weights: map[string]int{"A": 1, "B": 3}}
	f := newFixture(t, cfg)
	f.issue(t, "A")
	f.issue(t, "A")
	f.must(t)(f.q.CallNext(f.ctx, 1))
	f.must(t)(f.q.CallNext(f.ctx, 2))
	f.events(t)
	if _, err := f.q.CallNext(f.ctx, 1); !errors.Is(err, ErrWindowBusy) {
		t.Errorf("CallNext(1) busy, nobody waiting = %v; want ErrWindowBusy", err)
	}
	f.issue(t, "A")
	f.issue(t, "B")
	f.events(t)
	var credits int
	f.db.Read().QueryRow(`SELECT COUNT(*) FROM queue_window_credits`).Scan(&credits)
	for _, w := range []int{1, 2} {
		tk, err := f.q.CallNext(f.ctx, w)
		if !errors.Is(err, ErrWindowBusy) || tk != (Ticket{}) {
			t.Errorf("CallNext(%d) busy, two waiting = %+v, %v; want ErrWindowBusy", w, tk, err)
		}
	}
	if es := f.events(t); len(es) != 0 {
		t.Errorf("refused calls appended %v", types(es))
	}
	var after, waiting int
	f.db.Read().QueryRow(`SELECT COUNT(*) FROM queue_window_credits`).Scan(&after)
	f.db.Read().QueryRow(`SELECT COUNT(*) FROM queue_tickets WHERE state = 'waiting'`).Scan(&waiting)
	if after != credits || waiting != 2 {
		t.Errorf("after refused calls: %d credit rows (want %d), %d waiting (want 2)", after, credits, waiting)
	}
	if _, err := f.q.CallNext(f.ctx, 3); err != nil {
		t.Errorf("CallNext(3) idle = %v", err)
	}
}

// TestCallNextMatchesOrderQuery checks pickNext's choice against the calling order written
// as one query over every waiting ticket (the doc's rules 1, 3 and 4), on random queues
// with every class, transfers to the front, end and original place, and long waiters.
func TestCallNextMatchesOrderQuery(t *testing.T) {
	cfg := testConfig()
	cfg.LongWait = 45 * time.Minute
	f := newFixture(t, cfg)
	r := rand.New(rand.NewSource(7))
	cats := []string{"A", "B", "C"}
	n := 0
	for i := range 1500 {
		w := 1 + r.Intn(3)
		switch k := r.Intn(100); {
		case k < 45:
			req := IssueRequest{Category: cats[r.Intn(3)], Source: SourceWalkIn}
			switch r.Intn(4) {
			case 1:
				req.Priority = PriorityGreen
			case 2:
				n++
				req.Source, req.AppointmentID = SourceAppointment, fmt.Sprint("ap-", n)
			}
			f.q.Issue(f.ctx, req)
		case k < 75:
			want, err := f.orderQuery(w)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.q.CallNext(f.ctx, w)
			switch {
			case errors.Is(err, ErrWindowBusy):
			case want == "" && !errors.Is(err, ErrNoTicket):
				t.Fatalf("op %d: CallNext(%d) = %s, %v; want ErrNoTicket", i, w, got.Number, err)
			case want != "" && (err != nil || got.Number != want):
				t.Fatalf("op %d: CallNext(%d) = %s, %v; the order query gives %s", i, w, got.Number, err, want)
			}
		case k < 85:
			f.q.Transfer(f.ctx, w, cats[r.Intn(3)], []string{Front, End, Original}[r.Intn(3)])
		case k < 95:
			f.q.Finish(f.ctx, w, NoShow, "")
		default:
			f.clk.Advance(time.Duration(r.Intn(30)) * time.Minute)
		}
	}
}

// orderQuery is whom window should call next, by one query over all waiting tickets.
func (f *fixture) orderQuery(window int) (string, error) {
	var number string
	err := f.db.Write(f.ctx, func(tx *store.Tx) error {
		cats := f.q.served[window]
		args := []any{f.q.now().Add(-f.q.cfg.LongWait).UnixMilli()}
		in := ""
		for i, c := range cats {
			if i > 0 {
				in += ", "
			}
			in += fmt.Sprintf("?%d", i+2)
			args = append(args, c)
		}
		err := tx.QueryRow(`SELECT number FROM queue_tickets WHERE state = 'waiting' AND category IN (`+in+`)
			ORDER BY queue_key > ?1, CASE WHEN queue_key <= ?1 THEN queue_key END, CASE WHEN queue_key <= ?1 THEN id END,
			class, queue_key, id LIMIT 1`,
			args...).Scan(&number)
		if err != nil && err.Error() == "sql: no rows in result set" {
			return nil
		}
		return err
	})
	return number, err
}
