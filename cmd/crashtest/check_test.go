package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/store"
	"github.com/hallkiosk/hallkiosk/queue"
	"github.com/hallkiosk/hallkiosk/web/hall"
)

// hallFixture is a real queue and hall API over a database file, with a fake clock. The
// tests drive it as crashtest's clients do, keep the success answers as acks, and then
// undo committed rows by hand: what a lost commit would leave behind.
type hallFixture struct {
	t    *testing.T
	db   *store.DB
	clk  *clock.Fake
	srv  *httptest.Server
	loc  *time.Location
	acks []ack
}

func newHallFixture(t *testing.T, start time.Time) *hallFixture {
	t.Helper()
	loc, err := time.LoadLocation(hallZone)
	if err != nil {
		t.Skip("no zone database:", err)
	}
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kioskd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := clock.NewFake(start)
	q, err := queue.New(db, queue.Config{
		Categories: []queue.Category{
			{Code: "A", Prefix: "A", RangeFrom: 1, RangeTo: 9999, Windows: []int{1, 2}},
			{Code: "B", Prefix: "B", RangeFrom: 1, RangeTo: 9999, Windows: []int{2, 3}},
		},
		Windows:  []queue.Window{{ID: 1}, {ID: 2}, {ID: 3}},
		Location: loc,
	}, clk)
	if err != nil {
		t.Fatal(err)
	}
	api := &hall.API{Queue: q, Tokens: hall.Tokens{Terminal: []string{"term"},
		Windows: map[int]string{1: "w1", 2: "w2", 3: "w3"}}}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return &hallFixture{t: t, db: db, clk: clk, srv: srv, loc: loc}
}

// post does what a crashtest client does and keeps the answer as an ack when it is a success.
func (f *hallFixture) post(o op, window int, path, token, body string) ack {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	want := http.StatusOK
	if o == opIssue {
		want = http.StatusCreated
	}
	if resp.StatusCode != want {
		f.t.Fatalf("%s %s: %d %s", o, path, resp.StatusCode, b)
	}
	k, err := parseAck(o, window, b, f.loc)
	if err != nil {
		f.t.Fatal(err)
	}
	f.acks = append(f.acks, k)
	return k
}

func (f *hallFixture) issue(cat string) ack {
	return f.post(opIssue, 0, "/hall/v1/tickets", "term", `{"category":"`+cat+`"}`)
}

func (f *hallFixture) window(o op, w int) ack {
	path := "/hall/v1/windows/" + strconv.Itoa(w) + "/"
	switch o {
	case opCall:
		return f.post(o, w, path+"call-next", "w"+strconv.Itoa(w), "")
	case opStart:
		return f.post(o, w, path+"start", "w"+strconv.Itoa(w), "")
	}
	return f.post(o, w, path+"finish", "w"+strconv.Itoa(w), `{"outcome":"served"}`)
}

// serve takes the next ticket at window w through call, start and finish.
func (f *hallFixture) serve(w int) {
	f.window(opCall, w)
	f.clk.Advance(time.Second)
	f.window(opStart, w)
	f.clk.Advance(time.Second)
	f.window(opFinish, w)
	f.clk.Advance(time.Second)
}

// exec runs SQL as a commit that the kill took back (or, for inserts, one that should not be).
func (f *hallFixture) exec(query string, args ...any) {
	f.t.Helper()
	err := f.db.Write(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec(query, args...)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *hallFixture) check() result {
	f.t.Helper()
	res, err := check(f.db.Read(), f.acks)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// want checks the counts and that the run would fail (or pass) with the summary line in
// the issue's format alone on stdout.
func (r result) want(t *testing.T, lost, dups int) {
	t.Helper()
	if r.Lost != lost || r.Duplicates != dups || r.Integrity != "ok" {
		t.Errorf("lost=%d duplicates=%d integrity=%s, want lost=%d duplicates=%d integrity=ok\n%s",
			r.Lost, r.Duplicates, r.Integrity, lost, dups, strings.Join(r.Detail, "\n"))
	}
	var stdout, stderr bytes.Buffer
	err := report(&stdout, &stderr, r, nil, 3, 3)
	t.Logf("stderr:\n%sstdout:\n%s", stderr.String(), stdout.String())
	line := "kills=3 acked=" + strconv.Itoa(r.Acked) + " lost=" + strconv.Itoa(lost) + " duplicates=" + strconv.Itoa(dups) + " integrity=ok\n"
	if stdout.String() != line {
		t.Errorf("stdout %q, want %q", stdout.String(), line)
	}
	if (err == nil) != (lost == 0 && dups == 0) {
		t.Errorf("verdict %v with lost=%d duplicates=%d", err, lost, dups)
	}
	if lost+dups > 0 && !strings.Contains(stderr.String(), "acknowledged") && !strings.Contains(stderr.String(), "events") &&
		!strings.Contains(stderr.String(), "issued") {
		t.Errorf("stderr does not say what was lost:\n%s", stderr.String())
	}
}

// t0 is mid-morning in the hall.
var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func TestCheckCleanRun(t *testing.T) {
	f := newHallFixture(t, t0)
	for range 3 {
		f.issue("A")
		f.issue("B")
	}
	f.serve(1)
	f.serve(2)
	f.window(opCall, 3)
	f.window(opStart, 3)
	f.window(opCall, 1)
	res := f.check()
	res.want(t, 0, 0)
	if res.Acked != 6+3+3+2+1 || res.ByOp[opIssue] != 6 || res.ByOp[opFinish] != 2 {
		t.Errorf("acked=%d by op %v", res.Acked, res.ByOp)
	}
}

// The number comes round again on the next day: the same number twice is no duplicate when
// the business dates differ, and the answers' dates are the hall's, not UTC's.
func TestCheckNumbersAcrossMidnight(t *testing.T) {
	f := newHallFixture(t, time.Date(2026, 12, 1, 23, 59, 50, 0, time.FixedZone("CST", 8*3600)))
	a1 := f.issue("A")
	f.serve(1)
	f.clk.Advance(time.Minute)
	a2 := f.issue("A")
	f.serve(1)
	if a1.Number != "A0001" || a2.Number != "A0001" || a1.Date != "2026-12-01" || a2.Date != "2026-12-02" {
		t.Fatalf("acks %+v and %+v: want A0001 on 2026-12-01 and 2026-12-02", a1, a2)
	}
	f.check().want(t, 0, 0)
}

// The audit's case: a commit lost after its 201, and the number issued again after the
// restart. As a set of numbers the two acks were one and the run said lost=0 duplicates=0.
func TestCheckNumberIssuedTwice(t *testing.T) {
	f := newHallFixture(t, t0)
	f.issue("A")
	f.issue("B")
	f.exec(`DELETE FROM queue_tickets WHERE number = 'A0001'`)
	f.exec(`DELETE FROM outbox WHERE json_extract(data, '$.ticket') = 'A0001'`)
	f.exec(`UPDATE queue_counters SET last_number = 0 WHERE category = 'A'`)
	f.clk.Advance(2 * time.Second)
	if a := f.issue("A"); a.Number != "A0001" {
		t.Fatalf("reissued %s, want A0001", a.Number)
	}
	// The first holder of A0001 lost the ticket (its issue time is not the stored one), and
	// the number was handed out twice.
	f.check().want(t, 1, 1)
}

// A ticket whose 201 was answered is simply gone.
func TestCheckIssuedTicketMissing(t *testing.T) {
	f := newHallFixture(t, t0)
	f.issue("A")
	f.issue("A")
	f.exec(`DELETE FROM queue_tickets WHERE number = 'A0002'`)
	f.exec(`DELETE FROM outbox WHERE json_extract(data, '$.ticket') = 'A0002'`)
	f.check().want(t, 1, 0)
}

// A finish answered 200 whose commit did not survive: the ticket is still serving.
func TestCheckFinishLost(t *testing.T) {
	f := newHallFixture(t, t0)
	f.issue("B")
	f.serve(3)
	f.exec(`UPDATE queue_tickets SET state = 'serving', outcome = NULL, finished_at = NULL WHERE number = 'B0001'`)
	f.exec(`DELETE FROM outbox WHERE type = 'ticket.finished'`)
	f.check().want(t, 1, 0)
}

// A finish that survived but with another outcome (say the end-of-day reset finished a
// ticket whose served finish was lost) is lost too.
func TestCheckFinishOutcomeWrong(t *testing.T) {
	f := newHallFixture(t, t0)
	f.issue("B")
	f.serve(3)
	f.exec(`UPDATE queue_tickets SET outcome = 'reset' WHERE number = 'B0001'`)
	f.check().want(t, 1, 0)
}

// A call answered 200 that was lost, after which another window called the same ticket:
// the ticket looks called, but not by the window that was told so.
func TestCheckCallLostAndRedone(t *testing.T) {
	f := newHallFixture(t, t0)
	f.issue("B")
	f.window(opCall, 2)
	f.exec(`UPDATE queue_tickets SET state = 'waiting', window_id = NULL, call_count = 0, called_at = NULL WHERE number = 'B0001'`)
	f.exec(`DELETE FROM outbox WHERE type = 'ticket.called'`)
	f.clk.Advance(time.Second)
	f.window(opCall, 3)
	f.check().want(t, 1, 0)
}

// The same, redone by the same window: the row looks right, but a ticket is called only
// once in this flow, so two call answers mean the first was undone.
func TestCheckCallLostAndRedoneSameWindow(t *testing.T) {
	f := newHallFixture(t, t0)
	f.issue("A")
	f.window(opCall, 1)
	f.exec(`UPDATE queue_tickets SET state = 'waiting', window_id = NULL, call_count = 0, called_at = NULL WHERE number = 'A0001'`)
	f.exec(`DELETE FROM outbox WHERE type = 'ticket.called'`)
	f.clk.Advance(time.Second)
	f.window(opCall, 1)
	f.check().want(t, 1, 0)
}

// A call whose row survived but whose event did not (not in one transaction), and a start
// that was lost.
func TestCheckEventMissingAndStartLost(t *testing.T) {
	f := newHallFixture(t, t0)
	f.issue("A")
	f.window(opCall, 1)
	f.window(opStart, 1)
	f.exec(`DELETE FROM outbox WHERE type = 'ticket.called'`)
	f.exec(`UPDATE queue_tickets SET state = 'called', started_at = NULL WHERE number = 'A0001'`)
	f.check().want(t, 2, 0)
}

// An event written twice, and one for a ticket that is not stored.
func TestCheckExtraEvents(t *testing.T) {
	f := newHallFixture(t, t0)
	f.issue("A")
	f.exec(`INSERT INTO outbox(stream, seq, id, type, occurred_at, data, created_at)
		SELECT stream, seq + 100, id || 'x', type, occurred_at, data, created_at FROM outbox WHERE type = 'ticket.issued'`)
	f.exec(`INSERT INTO outbox(stream, seq, id, type, occurred_at, data, created_at)
		SELECT stream, seq + 200, id || 'y', type, occurred_at, CAST(json_set(data, '$.ticket', 'A0777') AS BLOB), created_at FROM outbox WHERE seq < 100`)
	f.check().want(t, 0, 2)
}

func TestParseAckDate(t *testing.T) {
	loc, err := time.LoadLocation(hallZone)
	if err != nil {
		t.Skip("no zone database:", err)
	}
	for _, c := range []struct{ issued, date string }{
		{"2026-12-01T23:59:59+08:00", "2026-12-01"},
		{"2026-12-01T16:30:00Z", "2026-12-02"}, // 00:30 in the hall
		{"2026-12-01T15:59:59Z", "2026-12-01"},
	} {
		a, err := parseAck(opIssue, 0, []byte(`{"ticket":"A0001","state":"waiting","issued_at":"`+c.issued+`"}`), loc)
		if err != nil || a.Date != c.date {
			t.Errorf("issued_at %s: date %q, %v; want %s", c.issued, a.Date, err, c.date)
		}
	}
	for _, body := range []string{`{}`, `{"ticket":"A0001"}`, `not json`, `{"ticket":"A0001","state":"called","issued_at":"2026-12-01T10:00:00+08:00"}`} {
		if _, err := parseAck(opIssue, 0, []byte(body), loc); err == nil {
			t.Errorf("parseAck(%s) is no error", body)
		}
	}
}

func TestVerdict(t *testing.T) {
	ok := result{ByOp: map[op]int{opIssue: 1, opFinish: 1}, Integrity: "ok"}
	if err := ok.verdict(200, 200); err != nil {
		t.Error(err)
	}
	for name, r := range map[string]struct {
		res         result
		kills, want int
	}{
		"too few kills": {ok, 150, 200},
		"nothing done":  {result{ByOp: map[op]int{opIssue: 5}, Integrity: "ok"}, 200, 200},
		"damaged":       {result{ByOp: ok.ByOp, Integrity: "*** in database main ***\nPage 4 is never used"}, 200, 200},
	} {
		if err := r.res.verdict(r.kills, r.want); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	bad := result{ByOp: ok.ByOp, Integrity: "row 3 missing from index"}
	if got := bad.summary(7); got != "kills=7 acked=0 lost=0 duplicates=0 integrity=bad" {
		t.Errorf("summary %q", got)
	}
}

func TestCompareWaiting(t *testing.T) {
	if err := compareWaiting(map[string]int{"A": 2, "B": 0}, map[string]int{"A": 2}); err != nil {
		t.Errorf("equal counts (B 0 on one side, absent on the other): %v", err)
	}
	err := compareWaiting(map[string]int{"A": 2, "C": 1}, map[string]int{"A": 3, "B": 1})
	want := "waiting counts after the last restart differ from the database: A: kioskd 2, database 3; B: kioskd 0, database 1; C: kioskd 1, database 0"
	if err == nil || err.Error() != want {
		t.Errorf("compareWaiting = %v; want %q", err, want)
	}
}

// A person with two open tickets in one category: the second swipe should have returned
// the first.
func TestCheckPersonHoldsTwo(t *testing.T) {
	f := newHallFixture(t, t0)
	card := `{"category":"A","source":"id_card","id_hash":"` + personHash(1) + `"}`
	f.post(opIssue, 0, "/hall/v1/tickets", "term", card)
	f.issue("A")
	f.issue("B")
	f.serve(3)
	f.check().want(t, 0, 0)
	f.exec(`UPDATE queue_tickets SET id_hash = ? WHERE number = 'A0002'`, personHash(1))
	f.check().want(t, 0, 1)
}
