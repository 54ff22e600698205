package queue

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// checkMemory compares what the queue keeps in memory, where it has it, with the database:
// the waiting counts (and what Stats and Estimate report) and the open tickets of people
// and appointments.
func checkMemory(t *testing.T, f *fixture, where string) {
	t.Helper()
	if f.q.holders != nil {
		want, err := loadHolders(f.ctx, f.db.Read())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]int64{}
		for k, ids := range f.q.holders {
			got[k] = slices.Sorted(slices.Values(ids))
		}
		for k, ids := range want {
			want[k] = slices.Sorted(slices.Values(ids))
		}
		if !maps.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%s: open tickets of people and appointments %v; the database has %v", where, got, want)
		}
	}
	want, err := loadWaiting(f.ctx, f.db.Read())
	if err != nil {
		t.Fatal(err)
	}
	f.q.wmu.Lock()
	got := f.q.copyWaiting()
	f.q.wmu.Unlock()
	if got != nil {
		maps.DeleteFunc(got, func(_ waitKey, n int) bool { return n == 0 })
		if !maps.Equal(got, want) {
			t.Fatalf("%s: waiting counts %v; the database has %v", where, got, want)
		}
	}
	perCat := map[string]int{}
	for k, n := range want {
		perCat[k.category] += n
	}
	st, err := f.q.Stats(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.q.cfg.Categories {
		if st.Waiting[c.Code] != perCat[c.Code] {
			t.Fatalf("%s: Stats waiting %v; the database has %v", where, st.Waiting, perCat)
		}
		est, err := f.q.Estimate(f.ctx, c.Code)
		if err != nil {
			t.Fatal(err)
		}
		if est.Ahead != perCat[c.Code] {
			t.Fatalf("%s: Estimate(%s).Ahead = %d; the database has %d waiting", where, c.Code, est.Ahead, perCat[c.Code])
		}
	}
}

// TestWaitingCountsFollowEveryChange walks a ticket through every change that moves it in
// or out of a queue, or between categories and classes, and checks the counts after each.
func TestWaitingCountsFollowEveryChange(t *testing.T) {
	f := newFixture(t, testConfig())
	must := f.must(t)
	checkMemory(t, f, "empty")
	steps := []struct {
		name string
		do   func()
	}{
		{"issue A", func() { f.issue(t, "A") }},
		{"issue A green", func() {
			must(ticketOf(f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceWalkIn, Priority: PriorityGreen})))
		}},
		{"issue B appointment", func() {
			must(ticketOf(f.q.Issue(f.ctx, IssueRequest{Category: "B", Source: SourceAppointment, AppointmentID: "APT-1"})))
		}},
		{"issue B id card twice", func() {
			req := IssueRequest{Category: "B", Source: SourceIDCard, IDHash: hashOf("110105199001010019")}
			must(ticketOf(f.q.Issue(f.ctx, req)))
			if tk := must(ticketOf(f.q.Issue(f.ctx, req))); !tk.Existing {
				t.Fatal("second swipe gave a new ticket")
			}
		}},
		{"call next at 1", func() { must(f.q.CallNext(f.ctx, 1)) }},
		{"transfer to C at the front", func() { must(f.q.Transfer(f.ctx, 1, "C", Front)) }},
		{"call C at 3", func() { must(f.q.CallNext(f.ctx, 3)) }},
		{"start and transfer to B at the end", func() {
			must(f.q.Start(f.ctx, 3))
			must(f.q.Transfer(f.ctx, 3, "B", End))
		}},
		{"call B at 2, transfer back to A by issue time", func() {
			must(f.q.CallNext(f.ctx, 2))
			must(f.q.Transfer(f.ctx, 2, "A", Original))
		}},
		{"call, park, return", func() {
			tk := must(f.q.CallNext(f.ctx, 1))
			must(f.q.Park(f.ctx, 1))
			must(f.q.Return(f.ctx, 1, tk.Number))
		}},
		{"serve with a next step", func() {
			must(f.q.Start(f.ctx, 1))
			f.clk.Advance(time.Minute)
			must(f.q.Finish(f.ctx, 1, Served, "B"))
		}},
		{"call a ticket by number, recall until no-show", func() {
			st, err := f.q.Stats(f.ctx)
			if err != nil || st.Waiting["B"] == 0 {
				t.Fatalf("Stats = %v, %v; want someone waiting in B", st.Waiting, err)
			}
			ts, err := queryTickets(f.ctx, f.db.Read(), `WHERE state = 'waiting' AND category = 'B' ORDER BY id LIMIT 1`)
			if err != nil {
				t.Fatal(err)
			}
			must(f.q.CallTicket(f.ctx, 2, ts[0].Number))
			for {
				if tk := must(f.q.Recall(f.ctx, 2)); tk.State == Finished {
					break
				}
			}
		}},
		{"cancel a waiting ticket", func() {
			ts, err := queryTickets(f.ctx, f.db.Read(), `WHERE state = 'waiting' ORDER BY id LIMIT 1`)
			if err != nil {
				t.Fatal(err)
			}
			must(f.q.Cancel(f.ctx, ts[0].Number, ReasonPrintFailed))
		}},
		{"next day: end of day, then issue", func() {
			f.clk.Advance(24 * time.Hour)
			if _, err := f.q.EndDay(f.ctx); err != nil {
				t.Fatal(err)
			}
			f.issue(t, "A")
			f.issue(t, "C")
		}},
		{"hall reset", func() {
			if _, err := f.q.CallNext(f.ctx, 3); err != nil {
				t.Fatal(err)
			}
			if _, err := f.q.HallReset(f.ctx); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, s := range steps {
		s.do()
		checkMemory(t, f, s.name)
	}
}

func ticketOf(t Ticket, _ Estimate, err error) (Ticket, error) { return t, err }

// TestWaitingCountsAfterFailedWrites: a write that rolls back leaves the counts as they
// were, after it had moved them in its transaction; one whose COMMIT fails makes the queue
// read them again.
func TestWaitingCountsAfterFailedWrites(t *testing.T) {
	f := newFixture(t, testConfig())
	for range 3 {
		f.issue(t, "A")
	}
	f.must(t)(f.q.CallNext(f.ctx, 1))
	checkMemory(t, f, "before")

	// Window 1 is busy: the unique index refuses the call's update, and the write rolls
	// back.
	if _, err := f.q.CallNext(f.ctx, 1); !errors.Is(err, ErrWindowBusy) {
		t.Fatalf("CallNext on a busy window = %v; want ErrWindowBusy", err)
	}
	checkMemory(t, f, "after a refused call")
	// A call that was written and moved a count, then rolled back (say its event could not
	// be written).
	err := f.q.write(f.ctx, func(tx *store.Tx, now time.Time) error {
		tk, err := f.q.pickNext(f.ctx, tx, now, 2, f.q.served[2])
		if err != nil {
			return err
		}
		if err := f.q.call(f.ctx, tx, now, &tk, 2); err != nil {
			return err
		}
		if len(f.q.moves) != 1 {
			t.Errorf("moves in the write = %v; want the call's", f.q.moves)
		}
		return errors.New("refused")
	})
	if err == nil || err.Error() != "refused" {
		t.Fatalf("write = %v", err)
	}
	checkMemory(t, f, "after a rolled-back call")
	// An issue refused after its number: the range check comes after the insert's
	// moves are known, and the error rolls it all back.
	err = f.q.write(f.ctx, func(tx *store.Tx, now time.Time) error {
		if _, err := f.q.issue(f.ctx, tx, now, IssueRequest{Category: "A", Source: SourceWalkIn}); err != nil {
			return err
		}
		if len(f.q.moves) != 1 {
			t.Errorf("moves in the write = %v; want the issue's", f.q.moves)
		}
		return errors.New("refused")
	})
	if err == nil || err.Error() != "refused" {
		t.Fatalf("write = %v", err)
	}
	checkMemory(t, f, "after a rolled-back issue")

	// A COMMIT that fails: a deferred foreign key is checked only then.
	if err := f.db.Write(f.ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`CREATE TABLE test_parent (id INTEGER PRIMARY KEY);
			CREATE TABLE test_child (p INTEGER REFERENCES test_parent (id) DEFERRABLE INITIALLY DEFERRED)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err = f.q.write(f.ctx, func(tx *store.Tx, now time.Time) error {
		if _, err := f.q.issue(f.ctx, tx, now, IssueRequest{Category: "A", Source: SourceWalkIn}); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO test_child (p) VALUES (42)`)
		return err
	})
	if err == nil {
		t.Fatal("a write breaking a deferred foreign key committed")
	}
	if f.q.waiting != nil {
		t.Errorf("waiting counts after a failed COMMIT = %v; want unknown (nil)", f.q.waiting)
	}
	checkMemory(t, f, "after a failed commit")
	f.issue(t, "A")
	checkMemory(t, f, "after the next issue")
}

// TestWaitingCountsSeeOtherWriters: another connection's commit (another process on the
// same file) makes the queue read its counts, and its other copies, again.
func TestWaitingCountsSeeOtherWriters(t *testing.T) {
	f := newFixture(t, testConfig())
	f.issue(t, "A")
	f.issue(t, "B")
	checkMemory(t, f, "before")

	q2 := f.otherProcess(t)
	for range 3 {
		if _, _, err := q2.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceWalkIn}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q2.CallNext(f.ctx, 2); err != nil {
		t.Fatal(err)
	}
	// The first queue learns of it at its next write.
	before, err := loadWaiting(f.ctx, f.db.Read())
	if err != nil {
		t.Fatal(err)
	}
	tk, est := f.issueEstimate2(t, "A")
	if want := before[waitKey{"A", classNormal}]; tk.Number != "A005" || est.Ahead != want {
		t.Errorf("issue after another writer = %s with %d ahead; want A005 with %d", tk.Number, est.Ahead, want)
	}
	checkMemory(t, f, "after another writer")
}

func (f *fixture) issueEstimate2(t *testing.T, cat string) (Ticket, Estimate) {
	t.Helper()
	tk, est, err := f.q.Issue(f.ctx, IssueRequest{Category: cat, Source: SourceWalkIn})
	if err != nil {
		t.Fatal(err)
	}
	return tk, est
}

// TestWaitingCountsAfterRestart: a new Queue on the same file (kioskd restarted) reads the
// counts from the waiting index, whatever order reads and writes come in.
func TestWaitingCountsAfterRestart(t *testing.T) {
	for _, first := range []string{"stats", "issue"} {
		t.Run(first, func(t *testing.T) {
			f := newFixture(t, testConfig())
			for i := range 7 {
				f.issue(t, []string{"A", "B", "C"}[i%3])
			}
			f.must(t)(f.q.CallNext(f.ctx, 3))
			f.db.Close()
			f.open(t, testConfig())
			if f.q.waiting != nil {
				t.Fatalf("a new Queue has counts %v before reading anything", f.q.waiting)
			}
			switch first {
			case "stats":
				checkMemory(t, f, "restart, Stats first")
			case "issue":
				_, est := f.issueEstimate2(t, "A")
				if est.Ahead != 3 {
					t.Errorf("first issue after a restart: %d ahead; want 3", est.Ahead)
				}
				checkMemory(t, f, fmt.Sprintf("restart, %s first", first))
			}
		})
	}
}

// TestHoldersFollowTickets: a person's open ticket is found in the category it is in now
// (after a transfer or a next step), and no longer once it has finished; the same for an
// appointment. Each step is also checked against the database.
func TestHoldersFollowTickets(t *testing.T) {
	f := newFixture(t, testConfig())
	must := f.must(t)
	card := func(cat string) Ticket {
		t.Helper()
		return must(ticketOf(f.q.Issue(f.ctx, IssueRequest{Category: cat, Source: SourceIDCard, IDHash: hashOf("p1")})))
	}
	first := card("A")
	if again := card("A"); !again.Existing || again.Number != first.Number {
		t.Fatalf("second swipe in A = %s (existing %v); want %s", again.Number, again.Existing, first.Number)
	}
	checkMemory(t, f, "issued")
	must(f.q.CallNext(f.ctx, 1))
	must(f.q.Transfer(f.ctx, 1, "B", End))
	checkMemory(t, f, "transferred")
	inA := card("A")
	if inA.Existing {
		t.Fatalf("swipe in A after the ticket moved to B returned %s", inA.Number)
	}
	if inB := card("B"); !inB.Existing || inB.Number != first.Number {
		t.Fatalf("swipe in B = %s (existing %v); want the transferred %s", inB.Number, inB.Existing, first.Number)
	}
	// Window 2 serves A and B: the transferred ticket (B, since its transfer) and the new
	// one in A; serve them until the transferred one has finished.
	for {
		tk := must(f.q.CallNext(f.ctx, 2))
		must(f.q.Start(f.ctx, 2))
		must(f.q.Finish(f.ctx, 2, Served, ""))
		if tk.Number == first.Number {
			break
		}
	}
	checkMemory(t, f, "finished")
	if inB := card("B"); inB.Existing {
		t.Fatalf("swipe in B after the ticket finished returned %s", inB.Number)
	}

	appt := func() Ticket {
		t.Helper()
		return must(ticketOf(f.q.Issue(f.ctx, IssueRequest{Category: "C", Source: SourceAppointment, AppointmentID: "APT-9"})))
	}
	a := appt()
	if again := appt(); !again.Existing || again.Number != a.Number {
		t.Fatalf("second check-in = %s (existing %v); want %s", again.Number, again.Existing, a.Number)
	}
	must(f.q.Cancel(f.ctx, a.Number, "citizen_left"))
	if again := appt(); again.Existing {
		t.Fatalf("check-in after the ticket was cancelled returned %s", again.Number)
	}
	checkMemory(t, f, "appointments")
}

// TestHoldersAfterFailedWritesAndOtherWriters: a rolled-back issue leaves no hold behind, a
// failed COMMIT makes the queue read the holders again, and so does another connection's
// commit.
func TestHoldersAfterFailedWritesAndOtherWriters(t *testing.T) {
	f := newFixture(t, testConfig())
	req := IssueRequest{Category: "A", Source: SourceIDCard, IDHash: hashOf("p2")}
	err := f.q.write(f.ctx, func(tx *store.Tx, now time.Time) error {
		if _, err := f.q.issue(f.ctx, tx, now, req); err != nil {
			return err
		}
		// Within the write, a second swipe finds the ticket just issued, also when the
		// holders must be read (from a transaction that already holds that ticket).
		f.q.holders = nil
		if again, err := f.q.issue(f.ctx, tx, now, req); err != nil || !again.Existing {
			t.Errorf("second swipe in the same write = %+v, %v; want the first", again, err)
		}
		return errors.New("refused")
	})
	if err == nil {
		t.Fatal("the write committed")
	}
	checkMemory(t, f, "after a rolled-back issue")
	if tk := f.must(t)(ticketOf(f.q.Issue(f.ctx, req))); tk.Existing {
		t.Fatalf("issue after the rollback returned an existing ticket %s", tk.Number)
	}

	q2 := f.otherProcess(t)
	req3 := IssueRequest{Category: "B", Source: SourceIDCard, IDHash: hashOf("p3")}
	theirs, _, err := q2.Issue(f.ctx, req3)
	if err != nil {
		t.Fatal(err)
	}
	if tk := f.must(t)(ticketOf(f.q.Issue(f.ctx, req3))); !tk.Existing || tk.Number != theirs.Number {
		t.Fatalf("swipe after another writer issued %s = %s (existing %v); want that ticket", theirs.Number, tk.Number, tk.Existing)
	}
	checkMemory(t, f, "after another writer")
}

// TestOneQueuePerHandle: a second Queue on the same handle would share its connection, and
// neither would see the other's writes in PRAGMA data_version.
func TestOneQueuePerHandle(t *testing.T) {
	f := newFixture(t, testConfig())
	if _, err := New(f.db, testConfig(), f.clk); err == nil {
		t.Fatal("a second Queue on the same database handle was made")
	}
}

// otherProcess is a second handle and Queue on f's file, as another process would have.
func (f *fixture) otherProcess(t *testing.T) *Queue {
	t.Helper()
	other, err := store.Open(f.ctx, f.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	q, err := New(other, testConfig(), f.clk)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestMemoryReadersDuringWrites runs Stats and Estimate while windows call and finish and
// tickets are issued, with the counts forgotten now and then (as after another process's
// commit), so readers also load them under the queue's mutex; run it with -race.
func TestMemoryReadersDuringWrites(t *testing.T) {
	f := newFixture(t, testConfig())
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := f.q.Stats(f.ctx); err != nil {
					t.Error(err)
					return
				}
				if _, err := f.q.Estimate(f.ctx, "B"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 300 {
		f.issue(t, []string{"A", "B", "C"}[i%3])
		if i%3 == 2 {
			w := i/3%3 + 1
			if _, err := f.q.CallNext(f.ctx, w); err == nil {
				f.must(t)(f.q.Finish(f.ctx, w, NoShow, ""))
			}
		}
		if i%50 == 0 {
			f.q.mu.Lock()
			f.q.setWaiting(nil)
			f.q.mu.Unlock()
		}
	}
	close(done)
	wg.Wait()
	checkMemory(t, f, "after the run")
}

// TestHolderNeverReturnsAFinishedTicket: if memory ever named a finished ticket as a
// person's open one, Issue reads the holders again instead of handing it back.
func TestHolderNeverReturnsAFinishedTicket(t *testing.T) {
	f := newFixture(t, testConfig())
	req := IssueRequest{Category: "A", Source: SourceIDCard, IDHash: hashOf("p4")}
	old := f.must(t)(ticketOf(f.q.Issue(f.ctx, req)))
	f.must(t)(f.q.Cancel(f.ctx, old.Number, "citizen_left"))
	f.q.mu.Lock()
	f.q.holders[personKey(req.IDHash, "A")] = []int64{old.ID} // wrong on purpose
	f.q.mu.Unlock()
	if tk := f.must(t)(ticketOf(f.q.Issue(f.ctx, req))); tk.Existing || tk.Number == old.Number {
		t.Fatalf("swipe after the ticket was cancelled = %s (existing %v); want a new ticket", tk.Number, tk.Existing)
	}
	checkMemory(t, f, "after the new ticket")
}
