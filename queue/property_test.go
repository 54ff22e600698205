package queue

import (
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

func TestConcurrentCallNextNeverDuplicates(t *testing.T) {
	cfg := testConfig()
	cfg.Windows = nil
	for id := 1; id <= 20; id++ {
		cfg.Windows = append(cfg.Windows, Window{ID: id, Policy: Policy{Categories: []string{"A", "B", "C"}}})
	}
	for i := range cfg.Categories {
		cfg.Categories[i].Windows = nil
	}
	f := newFixture(t, cfg)
	const tickets = 300
	for i := range tickets {
		f.issue(t, []string{"A", "B", "C"}[i%3])
	}
	// Odd windows go through a second handle and Queue on the same file, as a second
	// process would: the immediate transaction, not the mutex, must keep calls apart.
	db2, err := store.Open(f.ctx, f.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	q2, err := New(db2, cfg, f.clk)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 1; w <= 20; w++ {
		q := f.q
		if w%2 == 1 {
			q = q2
		}
		wg.Go(func() {
			for {
				tk, err := q.CallNext(f.ctx, w)
				if errors.Is(err, ErrNoTicket) {
					return
				}
				if err != nil {
					t.Errorf("CallNext(%d) = %v", w, err)
					return
				}
				mu.Lock()
				seen[tk.Number]++
				mu.Unlock()
				if _, err := q.Finish(f.ctx, w, NoShow, ""); err != nil {
					t.Errorf("Finish(%d) = %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != tickets {
		t.Errorf("distinct tickets called = %d; want %d", len(seen), tickets)
	}
	for n, c := range seen {
		if c != 1 {
			t.Errorf("%s called %d times; want once", n, c)
		}
	}
	es := f.events(t) // also checks seq is contiguous
	if len(es) != 3*tickets {
		t.Errorf("events = %d; want %d (issued, called, finished per ticket)", len(es), 3*tickets)
	}
}

// TestRandomOperations runs thousands of random operations and checks the invariants after
// each: errors are only the sentinel ones, no window holds two tickets, every ticket is in
// exactly one state, finished tickets have exactly one outcome and one ticket.finished
// event, and numbers are unique per category per day.
func TestRandomOperations(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			cfg := testConfig()
			cfg.Categories[2].RangeFrom, cfg.Categories[2].RangeTo = 1, 40 // reach exhaustion
			cfg.Categories[1].DailyCap = 300
			cfg.MaxRecalls = 2
			cfg.LongWait = 20 * time.Minute
			cfg.Windows[1].Policy = Policy{Weights: map[string]int{"A": 1, "B": 3}}
			f := newFixture(t, cfg)
			r := rand.New(rand.NewSource(seed))
			cats := []string{"A", "B", "C"}
			// number picks with r, not SQLite's random(), so a seed replays exactly.
			number := func() string {
				var count int
				f.db.Read().QueryRow(`SELECT COUNT(*) FROM queue_tickets`).Scan(&count)
				if count == 0 {
					return "A001"
				}
				var n string
				f.db.Read().QueryRow(`SELECT number FROM queue_tickets ORDER BY id LIMIT 1 OFFSET ?`, r.Intn(count)).Scan(&n)
				return n
			}
			sentinels := []error{ErrNoTicket, ErrWrongState, ErrNotServed, ErrWindowBusy, ErrRangeExhausted, ErrDailyCap, ErrBadRequest}
			const ops = 1500
			okOps := 0
			held := map[int]string{}
			for i := range ops {
				w := 1 + r.Intn(3)
				var err error
				var tk Ticket
				kind := ""
				switch k := r.Intn(100); {
				case k < 30:
					req := IssueRequest{Category: cats[r.Intn(3)], Source: SourceWalkIn}
					switch r.Intn(4) {
					case 1:
						req.Source, req.IDHash = SourceIDCard, hashOf(fmt.Sprint(r.Intn(20)))
					case 2:
						req.Source, req.AppointmentID = SourceAppointment, fmt.Sprint("ap-", r.Intn(50))
					case 3:
						req.Priority = PriorityGreen
					}
					_, _, err = f.q.Issue(f.ctx, req)
				case k < 50:
					tk, err = f.q.CallNext(f.ctx, w)
					kind = "take"
				case k < 53:
					tk, err = f.q.CallTicket(f.ctx, w, number())
					kind = "take"
				case k < 60:
					tk, err = f.q.Recall(f.ctx, w)
					kind = "recall"
				case k < 70:
					_, err = f.q.Start(f.ctx, w)
				case k < 73:
					_, err = f.q.Park(f.ctx, w)
					kind = "release"
				case k < 76:
					tk, err = f.q.Return(f.ctx, w, number())
					kind = "take"
				case k < 79:
					_, err = f.q.Transfer(f.ctx, w, cats[r.Intn(3)], []string{Front, End, Original}[r.Intn(3)])
					kind = "release"
				case k < 92:
					next := ""
					if r.Intn(5) == 0 {
						next = cats[r.Intn(3)]
					}
					_, err = f.q.Finish(f.ctx, w, []Outcome{Served, Served, NoShow, Cancelled}[r.Intn(4)], next)
					kind = "release"
				case k < 95:
					tk, err = f.q.Cancel(f.ctx, number(), "print_failed")
					kind = "cancel"
				case k < 96 && r.Intn(10) == 0:
					_, err = f.q.HallReset(f.ctx)
					kind = "reset"
				default:
					f.clk.Advance(time.Duration(r.Intn(40)) * time.Minute)
				}
				if err != nil && !isOneOf(err, sentinels) {
					t.Fatalf("op %d: unexpected error %v", i, err)
				}
				if err == nil {
					okOps++
					// The model: which window holds which ticket, from what the operations
					// returned, never from the database.
					switch kind {
					case "take":
						held[w] = tk.Number
					case "recall":
						if tk.State == Finished {
							delete(held, w)
						}
					case "release":
						delete(held, w)
					case "cancel":
						for hw, n := range held {
							if n == tk.Number {
								delete(held, hw)
							}
						}
					case "reset":
						clear(held)
					}
				}
				if i%25 == 0 || i == ops-1 {
					checkInvariants(t, f, i)
					checkModel(t, f, i, held)
				}
			}
			var types []string
			rows, _ := f.db.Read().Query(`SELECT type || ':' || COUNT(*) FROM outbox GROUP BY type ORDER BY type`)
			for rows.Next() {
				var s string
				rows.Scan(&s)
				types = append(types, s)
			}
			rows.Close()
			t.Logf("%d of %d operations succeeded; events %v", okOps, ops, types)
		})
	}
}

func isOneOf(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

func checkInvariants(t *testing.T, f *fixture, op int) {
	t.Helper()
	db := f.db.Read()
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM (SELECT window_id FROM queue_tickets WHERE state IN ('called', 'serving')
		GROUP BY window_id HAVING COUNT(*) > 1)`).Scan(&n)
	if n != 0 {
		t.Fatalf("op %d: %d windows hold more than one ticket", op, n)
	}
	var rows, waiting, called, serving, parked, finished, issued int
	db.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'waiting'), COUNT(*) FILTER (WHERE state = 'called'),
		COUNT(*) FILTER (WHERE state = 'serving'), COUNT(*) FILTER (WHERE state = 'parked'),
		COUNT(*) FILTER (WHERE state = 'finished') FROM queue_tickets`).Scan(&rows, &waiting, &called, &serving, &parked, &finished)
	db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE type = 'ticket.issued'`).Scan(&issued)
	if issued != rows || issued != waiting+called+serving+parked+finished {
		t.Fatalf("op %d: issued %d, rows %d; waiting %d + called %d + serving %d + parked %d + finished %d", op, issued, rows, waiting, called, serving, parked, finished)
	}
	var bad, finEvents int
	db.QueryRow(`SELECT COUNT(*) FROM queue_tickets WHERE (state = 'finished') != (outcome IS NOT NULL) OR (state = 'finished') != (finished_at IS NOT NULL)`).Scan(&bad)
	db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE type = 'ticket.finished'`).Scan(&finEvents)
	if bad != 0 || finEvents != finished {
		t.Fatalf("op %d: %d tickets with state/outcome mismatch; %d ticket.finished events for %d finished", op, bad, finEvents, finished)
	}
	db.QueryRow(`SELECT COUNT(*) FROM (SELECT 1 FROM queue_tickets GROUP BY origin_category, business_date, number HAVING COUNT(*) > 1)`).Scan(&bad)
	if bad != 0 {
		t.Fatalf("op %d: %d numbers issued twice on one day", op, bad)
	}
	db.QueryRow(`SELECT COUNT(*) FROM queue_tickets WHERE wait_ms < 0 OR call_ms < 0 OR serve_ms < 0 OR park_ms < 0 OR call_count < 0`).Scan(&bad)
	if bad != 0 {
		t.Fatalf("op %d: %d tickets with negative times or counts", op, bad)
	}
	checkMemory(t, f, fmt.Sprintf("op %d", op))
	f.events(t) // seq contiguous
}

// checkModel compares the windows' tickets with the model: a ticket held by two windows, or
// a window the engine thinks idle while the model has it busy, shows here.
func checkModel(t *testing.T, f *fixture, op int, held map[int]string) {
	t.Helper()
	st, err := f.q.Stats(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	owner := map[string]int{}
	for _, w := range st.Windows {
		if w.Ticket == "" {
			continue
		}
		got[w.ID] = w.Ticket
		if o, dup := owner[w.Ticket]; dup {
			t.Fatalf("op %d: %s held by windows %d and %d", op, w.Ticket, o, w.ID)
		}
		owner[w.Ticket] = w.ID
	}
	if fmt.Sprint(got) != fmt.Sprint(held) {
		t.Fatalf("op %d: windows hold %v; the model says %v", op, got, held)
	}
}
