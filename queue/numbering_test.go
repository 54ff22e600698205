package queue

import (
	"testing"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// exec runs statements on the writer connection, outside the queue.
func (f *fixture) exec(t *testing.T, query string) {
	t.Helper()
	if err := f.db.Write(f.ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(query)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestNumberAfterRolledBackIssue: an issue that rolls back gives its number back, also to
// the queue's memory of the counter.
func TestNumberAfterRolledBackIssue(t *testing.T) {
	f := newFixture(t, testConfig())
	f.issue(t, "A")
	f.issue(t, "A")
	f.exec(t, `CREATE TEMP TRIGGER refuse_issued BEFORE INSERT ON outbox WHEN NEW.type = 'ticket.issued'
		BEGIN SELECT RAISE(ABORT, 'test: refused'); END`)
	for range 3 {
		if _, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceWalkIn}); err == nil {
			t.Fatal("Issue with ticket.issued refused = nil; want an error")
		}
	}
	f.exec(t, `DROP TRIGGER temp.refuse_issued`)
	for _, want := range []string{"A003", "A004"} {
		if got := f.issue(t, "A").Number; got != want {
			t.Errorf("Issue(A) after three rolled-back issues = %s; want %s", got, want)
		}
	}
}

// TestNumberCounterChangedBehind: the database's counter is the truth. Changed behind the
// queue's back (a restored file, an operator's fix), numbering follows it, as after a
// restart.
func TestNumberCounterChangedBehind(t *testing.T) {
	f := newFixture(t, testConfig())
	f.issue(t, "A")
	f.issue(t, "B")
	f.exec(t, `UPDATE queue_counters SET last_number = 10 WHERE category = 'A'`)
	if got := f.issue(t, "A").Number; got != "A011" {
		t.Errorf("Issue(A) after the counter was set to 10 = %s; want A011", got)
	}
	if got := f.issue(t, "B").Number; got != "B002" {
		t.Errorf("Issue(B) = %s; want B002", got)
	}
	f.db.Close()
	f.open(t, testConfig())
	for _, want := range []string{"A012", "A013"} {
		if got := f.issue(t, "A").Number; got != want {
			t.Errorf("Issue(A) after a restart = %s; want %s", got, want)
		}
	}
}
