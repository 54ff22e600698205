package queue

import (
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// serve takes a ticket of cat through window w and serves it for d.
func (f *fixture) serve(t *testing.T, cat string, w int, d time.Duration, next string) error {
	t.Helper()
	f.issue(t, cat)
	f.must(t)(f.q.CallNext(f.ctx, w))
	f.must(t)(f.q.Start(f.ctx, w))
	f.clk.Advance(d)
	_, err := f.q.Finish(f.ctx, w, Served, next)
	return err
}

// issueEstimate is the estimate Issue gives a walk-in of cat.
func (f *fixture) issueEstimate(t *testing.T, cat string) Estimate {
	t.Helper()
	_, est, err := f.q.Issue(f.ctx, IssueRequest{Category: cat, Source: SourceWalkIn})
	if err != nil {
		t.Fatal(err)
	}
	return est
}

// TestEstimateSeesOnlyCommittedServices: Issue's estimate comes from the queue's copy of
// today's services, which must follow the database: a service whose write rolled back is
// not in it, a committed one is.
func TestEstimateSeesOnlyCommittedServices(t *testing.T) {
	f := newFixture(t, testConfig())
	for range 5 {
		if err := f.serve(t, "A", 1, 10*time.Minute, ""); err != nil {
			t.Fatal(err)
		}
	}
	// One waiting ahead of the next, 10 min each, windows 1 and 2 serve A.
	f.issue(t, "A")
	if got, want := f.issueEstimate(t, "A"), (Estimate{Ahead: 1, Wait: 5 * time.Minute}); got != want {
		t.Fatalf("estimate after five 10 min services = %+v; want %+v", got, want)
	}

	// The next finish fails after its service row is inserted: its event is refused.
	err := f.db.Write(f.ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`CREATE TEMP TRIGGER refuse_finished BEFORE INSERT ON outbox WHEN NEW.type = 'ticket.finished'
			BEGIN SELECT RAISE(ABORT, 'test: refused'); END`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Seven refused 40 min services would make the median 40 min if they counted.
	f.must(t)(f.q.CallNext(f.ctx, 1))
	f.must(t)(f.q.Start(f.ctx, 1))
	f.clk.Advance(40 * time.Minute)
	for range 7 {
		if _, err := f.q.Finish(f.ctx, 1, Served, ""); err == nil {
			t.Fatal("Finish with ticket.finished refused = nil; want an error")
		}
	}
	var rows int
	f.db.Read().QueryRow(`SELECT COUNT(*) FROM queue_services`).Scan(&rows)
	if rows != 5 {
		t.Fatalf("queue_services has %d rows after the refused finishes; want 5", rows)
	}
	if got, want := f.issueEstimate(t, "A"), (Estimate{Ahead: 1, Wait: 5 * time.Minute}); got != want {
		t.Errorf("estimate after rolled-back services = %+v; want %+v (they must not count)", got, want)
	}

	err = f.db.Write(f.ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`DROP TRIGGER temp.refuse_finished`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.q.Finish(f.ctx, 1, Served, ""); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := f.serve(t, "A", 1, 40*time.Minute, ""); err != nil {
			t.Fatal(err)
		}
	}
	// Samples: five of 10 min, six of 40: the median is 40 min. Two waiting ahead.
	if got, want := f.issueEstimate(t, "A"), (Estimate{Ahead: 2, Wait: 40 * time.Minute}); got != want {
		t.Errorf("estimate after committed 40 min services = %+v; want %+v", got, want)
	}
	f.checkEstimates(t)

	// No operation estimates after recording a service in the same write today; if one
	// did, the copy must not keep a read that already holds the service it adds at commit.
	f.issue(t, "A")
	f.must(t)(f.q.CallNext(f.ctx, 1))
	f.must(t)(f.q.Start(f.ctx, 1))
	f.clk.Advance(15 * time.Minute)
	err = f.q.write(f.ctx, func(tx *store.Tx, now time.Time) error {
		tk, err := f.q.atWindow(f.ctx, tx, 1, "Finish", Serving)
		if err != nil {
			return err
		}
		if err := f.q.finish(f.ctx, tx, now, &tk, Served, ""); err != nil {
			return err
		}
		clear(f.q.recent) // so that recentFor reads
		_, err = f.q.recentFor(f.ctx, tx, "A", f.q.businessDate(now))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.checkEstimates(t)
}

// TestEstimateNewBusinessDay: services count on the business date of their ticket, and a
// new date starts from the seed, as the database says.
func TestEstimateNewBusinessDay(t *testing.T) {
	f := newFixture(t, testConfig())
	for range 5 {
		if err := f.serve(t, "A", 1, 10*time.Minute, ""); err != nil {
			t.Fatal(err)
		}
	}
	// A ticket of this day waits over midnight.
	f.issue(t, "A")
	f.clk.Advance(time.Date(2026, 11, 23, 0, 5, 0, 0, shanghai).Sub(f.clk.Now()))
	// Two ahead (yesterday's, still open, and today's first), 4 min seed, two windows.
	f.issue(t, "A")
	if got, want := f.issueEstimate(t, "A"), (Estimate{Ahead: 2, Wait: 4 * time.Minute}); got != want {
		t.Errorf("first estimate of the new day = %+v; want %+v (the seed only)", got, want)
	}
	// Yesterday's ticket served today: its service is yesterday's, today's estimate
	// still has the seed only.
	f.must(t)(f.q.CallNext(f.ctx, 1))
	f.must(t)(f.q.Start(f.ctx, 1))
	f.clk.Advance(30 * time.Minute)
	f.must(t)(f.q.Finish(f.ctx, 1, Served, ""))
	if got, want := f.issueEstimate(t, "A"), (Estimate{Ahead: 2, Wait: 4 * time.Minute}); got != want {
		t.Errorf("estimate after yesterday's ticket was served = %+v; want %+v", got, want)
	}
	if err := f.serve(t, "A", 2, 20*time.Minute, ""); err != nil {
		t.Fatal(err)
	}
	// Samples 20 min and the 4 min seed: median 12 min; three ahead.
	if got, want := f.issueEstimate(t, "A"), (Estimate{Ahead: 3, Wait: 18 * time.Minute}); got != want {
		t.Errorf("estimate after today's first service = %+v; want %+v", got, want)
	}
	f.checkEstimates(t)
}

// TestEstimateMatchesDatabase runs random operations over several days and checks every
// estimate Issue gives against one worked out from the database alone, as a restarted
// node would: the copy never drifts from it.
func TestEstimateMatchesDatabase(t *testing.T) {
	cfg := testConfig()
	f := newFixture(t, cfg)
	r := rand.New(rand.NewSource(4))
	cats := []string{"A", "B", "C"}
	for i := range 3000 {
		w := 1 + r.Intn(3)
		switch k := r.Intn(100); {
		case k < 30:
			c := cats[r.Intn(3)]
			tk, est, err := f.q.Issue(f.ctx, IssueRequest{Category: c, Source: SourceWalkIn})
			if err != nil {
				t.Fatal(err)
			}
			if want := f.dbEstimate(t, c, est.Ahead); est != want {
				t.Fatalf("op %d: Issue(%s) estimate = %+v; the database gives %+v", i, tk.Number, est, want)
			}
		case k < 50:
			f.q.CallNext(f.ctx, w)
		case k < 65:
			f.q.Start(f.ctx, w)
		case k < 85:
			next := ""
			if r.Intn(4) == 0 {
				next = cats[r.Intn(3)]
			}
			f.q.Finish(f.ctx, w, Served, next)
		case k < 88:
			f.q.Transfer(f.ctx, w, cats[r.Intn(3)], End)
		case k < 90:
			f.q.Finish(f.ctx, w, Cancelled, "")
		default:
			f.clk.Advance(time.Duration(r.Intn(90)) * time.Minute)
		}
	}
	f.checkEstimates(t)
}

// dbEstimate is the estimate for ahead people in cat, its services read from the database.
func (f *fixture) dbEstimate(t *testing.T, cat string, ahead int) Estimate {
	t.Helper()
	samples, err := loadRecent(f.ctx, f.db.Read(), cat, f.q.businessDate(f.q.now()))
	if err != nil {
		t.Fatal(err)
	}
	return f.q.estimate(cat, ahead, samples)
}

// checkEstimates compares the queue's copy of each category's services today with the
// database.
func (f *fixture) checkEstimates(t *testing.T) {
	t.Helper()
	for _, c := range f.q.cfg.Categories {
		var got []time.Duration
		err := f.q.write(f.ctx, func(tx *store.Tx, now time.Time) error {
			var err error
			got, err = f.q.recentFor(f.ctx, tx, c.Code, f.q.businessDate(now))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want, err := loadRecent(f.ctx, f.db.Read(), c.Code, f.q.businessDate(f.q.now()))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("services of %s today: the queue's copy has %v; the database %v", c.Code, got, want)
		}
	}
}
