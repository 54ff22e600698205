package queue

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// setups bring ticket A001 into each state, held by window 1 where that applies.
var setups = map[State]func(t *testing.T, f *fixture){
	Waiting: func(t *testing.T, f *fixture) { f.issue(t, "A") },
	Called: func(t *testing.T, f *fixture) {
		f.issue(t, "A")
		f.must(t)(f.q.CallNext(f.ctx, 1))
	},
	Serving: func(t *testing.T, f *fixture) {
		setupsCalled(t, f)
		f.must(t)(f.q.Start(f.ctx, 1))
	},
	Parked: func(t *testing.T, f *fixture) {
		setupsCalled(t, f)
		f.must(t)(f.q.Park(f.ctx, 1))
	},
	Finished: func(t *testing.T, f *fixture) {
		setupsCalled(t, f)
		f.must(t)(f.q.Start(f.ctx, 1))
		f.must(t)(f.q.Finish(f.ctx, 1, Served, ""))
	},
}

func setupsCalled(t *testing.T, f *fixture) {
	f.issue(t, "A")
	f.must(t)(f.q.CallNext(f.ctx, 1))
}

func TestTransitions(t *testing.T) {
	type want struct {
		state State
		err   error
	}
	ok := func(s State) want { return want{state: s} }
	fail := func(err error) want { return want{err: err} }
	noTicket, wrong, busy := fail(ErrNoTicket), fail(ErrWrongState), fail(ErrWindowBusy)
	ops := []struct {
		name string
		op   func(f *fixture) (Ticket, error)
		want map[State]want
	}{
		{"CallTicket", func(f *fixture) (Ticket, error) { return f.q.CallTicket(f.ctx, 1, "A001") },
			map[State]want{Waiting: ok(Called), Called: busy, Serving: busy, Parked: wrong, Finished: wrong}},
		{"Recall", func(f *fixture) (Ticket, error) { return f.q.Recall(f.ctx, 1) },
			map[State]want{Waiting: noTicket, Called: ok(Called), Serving: wrong, Parked: noTicket, Finished: noTicket}},
		{"Start", func(f *fixture) (Ticket, error) { return f.q.Start(f.ctx, 1) },
			map[State]want{Waiting: noTicket, Called: ok(Serving), Serving: wrong, Parked: noTicket, Finished: noTicket}},
		{"Park", func(f *fixture) (Ticket, error) { return f.q.Park(f.ctx, 1) },
			map[State]want{Waiting: noTicket, Called: ok(Parked), Serving: ok(Parked), Parked: noTicket, Finished: noTicket}},
		{"Return", func(f *fixture) (Ticket, error) { return f.q.Return(f.ctx, 1, "A001") },
			map[State]want{Waiting: wrong, Called: busy, Serving: busy, Parked: ok(Called), Finished: wrong}},
		{"Transfer", func(f *fixture) (Ticket, error) { return f.q.Transfer(f.ctx, 1, "B", End) },
			map[State]want{Waiting: noTicket, Called: ok(Waiting), Serving: ok(Waiting), Parked: noTicket, Finished: noTicket}},
		{"Finish(served)", func(f *fixture) (Ticket, error) { return f.q.Finish(f.ctx, 1, Served, "") },
			map[State]want{Waiting: noTicket, Called: wrong, Serving: ok(Finished), Parked: noTicket, Finished: noTicket}},
		{"Finish(no_show)", func(f *fixture) (Ticket, error) { return f.q.Finish(f.ctx, 1, NoShow, "") },
			map[State]want{Waiting: noTicket, Called: ok(Finished), Serving: wrong, Parked: noTicket, Finished: noTicket}},
		{"Finish(cancelled)", func(f *fixture) (Ticket, error) { return f.q.Finish(f.ctx, 1, Cancelled, "") },
			map[State]want{Waiting: noTicket, Called: ok(Finished), Serving: ok(Finished), Parked: noTicket, Finished: noTicket}},
		{"Cancel", func(f *fixture) (Ticket, error) { return f.q.Cancel(f.ctx, "A001", "print_failed") },
			map[State]want{Waiting: ok(Finished), Called: ok(Finished), Serving: ok(Finished), Parked: ok(Finished), Finished: wrong}},
	}
	for _, o := range ops {
		for _, from := range []State{Waiting, Called, Serving, Parked, Finished} {
			t.Run(o.name+"/"+string(from), func(t *testing.T) {
				f := newFixture(t, testConfig())
				setups[from](t, f)
				f.events(t)
				before, err := f.q.Ticket(f.ctx, "A001")
				if err != nil {
					t.Fatal(err)
				}
				f.clk.Advance(time.Minute)
				got, err := o.op(f)
				w := o.want[from]
				if w.err != nil {
					if !errors.Is(err, w.err) || !strings.HasPrefix(err.Error(), "queue: ") {
						t.Fatalf("%s from %s = %v; want %v", o.name, from, err, w.err)
					}
					after, _ := f.q.Ticket(f.ctx, "A001")
					if !reflect.DeepEqual(after, before) {
						t.Errorf("%s from %s failed but changed the ticket:\n%+v\nwant\n%+v", o.name, from, after, before)
					}
					if es := f.events(t); len(es) != 0 {
						t.Errorf("%s from %s failed but appended %v", o.name, from, types(es))
					}
					return
				}
				if err != nil || got.State != w.state {
					t.Fatalf("%s from %s = %v, %v; want state %s", o.name, from, got.State, err, w.state)
				}
				stored, _ := f.q.Ticket(f.ctx, "A001")
				if stored.State != w.state || stored.Number != "A001" {
					t.Errorf("%s from %s stored %s %s; want A001 %s", o.name, from, stored.Number, stored.State, w.state)
				}
			})
		}
	}
}

func TestOperationErrors(t *testing.T) {
	f := newFixture(t, testConfig())
	f.issue(t, "A")
	cases := []struct {
		name string
		op   func() error
		want error
	}{
		{"Issue unknown category", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "Z", Source: SourceWalkIn})
			return err
		}, ErrUnknownCategory},
		{"Issue bad source", func() error { _, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: "phone"}); return err }, ErrBadRequest},
		{"Issue id_card without hash", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceIDCard})
			return err
		}, ErrBadRequest},
		{"Issue id_card with the ID number as hash", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceIDCard, IDHash: "11010519491231002X"})
			return err
		}, ErrBadRequest},
		{"Issue id_card with an uppercase hash", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceIDCard, IDHash: strings.ToUpper(hashOf("x"))})
			return err
		}, ErrBadRequest},
		{"Issue appointment with the ID number as id", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceAppointment, AppointmentID: "11010519491231002X"})
			return err
		}, ErrBadRequest},
		{"Issue appointment with free text as id", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceAppointment, AppointmentID: "张三 10:00"})
			return err
		}, ErrBadRequest},
		{"Issue appointment with a raw hash", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceAppointment, AppointmentID: "ap-1", IDHash: "11010519491231002X"})
			return err
		}, ErrBadRequest},
		{"Issue walk_in with hash", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceWalkIn, IDHash: "ab"})
			return err
		}, ErrBadRequest},
		{"Issue appointment without id", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceAppointment})
			return err
		}, ErrBadRequest},
		{"Issue appointment priority for walk_in", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceWalkIn, Priority: PriorityAppointment})
			return err
		}, ErrBadRequest},
		{"Issue bad priority", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceWalkIn, Priority: "vip"})
			return err
		}, ErrBadRequest},
		{"CallNext unknown window", func() error { _, err := f.q.CallNext(f.ctx, 9); return err }, ErrUnknownWindow},
		{"CallNext nobody for window 3", func() error { _, err := f.q.CallNext(f.ctx, 3); return err }, ErrNoTicket},
		{"CallTicket not served", func() error { _, err := f.q.CallTicket(f.ctx, 3, "A001"); return err }, ErrNotServed},
		{"CallTicket unknown number", func() error { _, err := f.q.CallTicket(f.ctx, 1, "A999"); return err }, ErrNoTicket},
		{"Recall unknown window", func() error { _, err := f.q.Recall(f.ctx, 0); return err }, ErrUnknownWindow},
		{"Transfer unknown category", func() error { _, err := f.q.Transfer(f.ctx, 1, "Z", End); return err }, ErrUnknownCategory},
		{"Transfer bad position", func() error { _, err := f.q.Transfer(f.ctx, 1, "B", "middle"); return err }, ErrBadRequest},
		{"Finish reset", func() error { _, err := f.q.Finish(f.ctx, 1, Reset, ""); return err }, ErrBadRequest},
		{"Finish next with no_show", func() error { _, err := f.q.Finish(f.ctx, 1, NoShow, "B"); return err }, ErrBadRequest},
		{"Finish next unknown", func() error { _, err := f.q.Finish(f.ctx, 1, Served, "Z"); return err }, ErrUnknownCategory},
		{"Cancel unknown", func() error { _, err := f.q.Cancel(f.ctx, "B001", "x"); return err }, ErrNoTicket},
		{"Cancel free-text reason", func() error { _, err := f.q.Cancel(f.ctx, "A001", "张三 110105194912310021"); return err }, ErrBadRequest},
		{"Cancel no reason", func() error { _, err := f.q.Cancel(f.ctx, "A001", ""); return err }, ErrBadRequest},
		{"Estimate unknown", func() error { _, err := f.q.Estimate(f.ctx, "Z"); return err }, ErrUnknownCategory},
	}
	for _, c := range cases {
		if err := c.op(); !errors.Is(err, c.want) || !strings.HasPrefix(err.Error(), "queue: ") {
			t.Errorf("%s = %v; want %v", c.name, err, c.want)
		}
	}
	if es := f.events(t); len(es) != 1 {
		t.Errorf("events after failed operations = %v; want only the first ticket.issued", types(es))
	}
}

func TestNumberFormat(t *testing.T) {
	cfg := testConfig()
	cfg.Categories[1].RangeFrom, cfg.Categories[1].RangeTo = 995, 1005
	f := newFixture(t, cfg)
	if got := f.issue(t, "A").Number; got != "A001" {
		t.Errorf("first A = %q; want A001", got)
	}
	if got := f.issue(t, "B").Number; got != "B0995" {
		t.Errorf("first B (range 995..1005) = %q; want B0995", got)
	}
}

func TestNumberingResetsAtLocalMidnight(t *testing.T) {
	f := newFixture(t, testConfig())
	// 23:50 in Shanghai is 15:50 UTC; midnight there is 16:00 UTC.
	f.clk.Advance(14*time.Hour + 50*time.Minute)
	var got []string
	for range 3 {
		got = append(got, f.issue(t, "A").Number)
		f.clk.Advance(5 * time.Minute) // 23:55, 00:00, 00:05
	}
	if f.clk.Now().UTC().Hour() != 16 {
		t.Fatalf("clock at %v; want past 16:00 UTC", f.clk.Now().UTC())
	}
	got = append(got, f.issue(t, "A").Number)
	want := []string{"A001", "A002", "A001", "A002"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("numbers across midnight = %v; want %v", got, want)
	}
	tk, _ := f.q.Ticket(f.ctx, "A002")
	if tk.BusinessDate != "2026-11-23" {
		t.Errorf("Ticket(A002).BusinessDate = %q; want 2026-11-23", tk.BusinessDate)
	}
}

func TestNumberingAfterNodeOffOverMidnight(t *testing.T) {
	f := newFixture(t, testConfig())
	for range 5 {
		f.issue(t, "A")
	}
	f.db.Close()
	f.clk.Advance(20 * time.Hour) // off overnight, back at 05:00 next day
	f.open(t, testConfig())
	if got := f.issue(t, "A").Number; got != "A001" {
		t.Errorf("first number after a night off = %q; want A001", got)
	}
	// A restart within the same day continues, it does not restart.
	f.db.Close()
	f.open(t, testConfig())
	if got := f.issue(t, "A").Number; got != "A002" {
		t.Errorf("number after a same-day restart = %q; want A002", got)
	}
}

// A category renamed mid-day (same prefix, new code) starts a new counter; it must go on
// past the numbers the old code issued, not refuse every ticket until midnight.
func TestRenamedCategoryContinuesNumbering(t *testing.T) {
	// X shares A's letter with four-digit numbers: they must not count as A's.
	cfg := testConfig()
	cfg.Categories[0].RangeFrom, cfg.Categories[0].RangeTo = 1, 499
	cfg.Categories = append(cfg.Categories, Category{Code: "X", Prefix: "A", RangeFrom: 500, RangeTo: 1500, Windows: []int{1}})
	f := newFixture(t, cfg)
	f.issue(t, "A")
	f.issue(t, "A")
	if got := f.issue(t, "X").Number; got != "A0500" {
		t.Fatalf("X's first number = %s; want A0500", got)
	}
	f.db.Close()
	cfg.Categories[0].Code = "SB"
	f.open(t, cfg)
	for _, want := range []string{"A003", "A004"} {
		if got := f.issue(t, "SB").Number; got != want {
			t.Errorf("ticket of the renamed category = %s; want %s", got, want)
		}
	}
	// The other prefix's numbers are not affected.
	if got := f.issue(t, "B").Number; got != "B001" {
		t.Errorf("B after the rename = %s; want B001", got)
	}
	// A cap still refuses with a clear error, not a constraint failure.
	f.db.Close()
	cfg.Categories[0].Code, cfg.Categories[0].RangeFrom, cfg.Categories[0].RangeTo = "SB2", 1, 4
	f.open(t, cfg)
	if _, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "SB2", Source: SourceWalkIn}); !errors.Is(err, ErrRangeExhausted) {
		t.Errorf("Issue past the range after a rename = %v; want ErrRangeExhausted", err)
	}
}

func TestNumbersNotFromCountingRows(t *testing.T) {
	f := newFixture(t, testConfig())
	f.issue(t, "A")
	f.issue(t, "A")
	// Archiving tickets (here: deleting them) must not bring numbers round again.
	if err := f.db.Write(f.ctx, func(tx *store.Tx) error { _, err := tx.Exec(`DELETE FROM queue_tickets`); return err }); err != nil {
		t.Fatal(err)
	}
	if got := f.issue(t, "A").Number; got != "A003" {
		t.Errorf("number after deleting rows = %q; want A003", got)
	}
}

func TestRangeCapAndHours(t *testing.T) {
	cfg := testConfig()
	cfg.Categories[0].RangeFrom, cfg.Categories[0].RangeTo = 1, 2
	cfg.Categories[1].DailyCap = 1
	cfg.Categories[2].Open, cfg.Categories[2].Close = "08:30", "17:30"
	f := newFixture(t, cfg)
	f.issue(t, "A")
	f.issue(t, "A")
	_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceWalkIn})
	if !errors.Is(err, ErrRangeExhausted) || !strings.Contains(err.Error(), `"A"`) || !strings.Contains(err.Error(), "A001..A002") {
		t.Errorf("Issue(A) past range = %v; want ErrRangeExhausted naming \"A\" and A001..A002", err)
	}
	f.issue(t, "B")
	if _, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "B", Source: SourceWalkIn}); !errors.Is(err, ErrDailyCap) {
		t.Errorf("Issue(B) past cap = %v; want ErrDailyCap", err)
	}
	for _, c := range []struct {
		at   string
		want error
	}{{"08:29", ErrClosed}, {"08:30", nil}, {"17:29", nil}, {"17:30", ErrClosed}, {"23:00", ErrClosed}} {
		hm, _ := time.Parse("15:04", c.at)
		at := time.Date(2026, 11, 24, hm.Hour(), hm.Minute(), 0, 0, shanghai)
		f.clk.Advance(at.Sub(f.clk.Now()))
		if _, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "C", Source: SourceWalkIn}); !errors.Is(err, c.want) {
			t.Errorf("Issue(C) at %s = %v; want %v", c.at, err, c.want)
		}
	}
	// Next day the range is available again.
	if got := f.issue(t, "A").Number; got != "A001" {
		t.Errorf("Issue(A) next day = %q; want A001", got)
	}
}

func TestIDCardDuplicateReturnsExisting(t *testing.T) {
	f := newFixture(t, testConfig())
	req := IssueRequest{Category: "A", Source: SourceIDCard, IDHash: hashOf("9f86d081")}
	first, _, err := f.q.Issue(f.ctx, req)
	if err != nil || first.Existing {
		t.Fatalf("Issue = %+v, %v", first, err)
	}
	f.events(t)
	again, _, err := f.q.Issue(f.ctx, req)
	if err != nil || !again.Existing || again.Number != first.Number {
		t.Errorf("second Issue = %s existing=%v, %v; want %s existing=true", again.Number, again.Existing, err, first.Number)
	}
	if es := f.events(t); len(es) != 0 {
		t.Errorf("second Issue appended %v; want no event", types(es))
	}
	// Another category is another queue; a finished ticket no longer counts.
	if b, _, _ := f.q.Issue(f.ctx, IssueRequest{Category: "B", Source: SourceIDCard, IDHash: hashOf("9f86d081")}); b.Existing {
		t.Errorf("Issue(B) same person = existing %s; want a new ticket", b.Number)
	}
	f.must(t)(f.q.Cancel(f.ctx, first.Number, "left"))
	if n, _, _ := f.q.Issue(f.ctx, req); n.Existing || n.Number != "A002" {
		t.Errorf("Issue after cancel = %s existing=%v; want A002 new", n.Number, n.Existing)
	}
}

func TestRecallLimitIsNoShow(t *testing.T) {
	f := newFixture(t, testConfig())
	f.issue(t, "A")
	f.must(t)(f.q.CallNext(f.ctx, 1))
	for i := 2; i <= 4; i++ {
		tk := f.must(t)(f.q.Recall(f.ctx, 1))
		if tk.State != Called || tk.CallCount != i {
			t.Fatalf("Recall #%d = %s call_count %d; want called %d", i-1, tk.State, tk.CallCount, i)
		}
	}
	tk := f.must(t)(f.q.Recall(f.ctx, 1))
	if tk.State != Finished || tk.Outcome != NoShow {
		t.Errorf("Recall past MaxRecalls = %s %s; want finished no_show", tk.State, tk.Outcome)
	}
	es := f.events(t)
	want := "[ticket.issued ticket.called ticket.recalled ticket.recalled ticket.recalled ticket.finished]"
	if got := fmt.Sprint(types(es)); got != want {
		t.Errorf("events = %s; want %s", got, want)
	}
	if o := es[len(es)-1].Data["outcome"]; o != "no_show" {
		t.Errorf("ticket.finished outcome = %v; want no_show", o)
	}
	if _, err := f.q.Recall(f.ctx, 1); !errors.Is(err, ErrNoTicket) {
		t.Errorf("Recall after no_show = %v; want ErrNoTicket (window free)", err)
	}
}

// A citizen who came back after all the recalls and was parked (gone to fetch a document)
// is called anew on return: the next recall is a recall, not a no-show.
func TestReturnStartsANewCall(t *testing.T) {
	f := newFixture(t, testConfig())
	f.issue(t, "A")
	f.must(t)(f.q.CallNext(f.ctx, 1))
	for range 3 {
		f.must(t)(f.q.Recall(f.ctx, 1))
	}
	f.must(t)(f.q.Park(f.ctx, 1))
	if tk := f.must(t)(f.q.Return(f.ctx, 1, "A001")); tk.State != Called || tk.CallCount != 1 {
		t.Fatalf("Return = %s call_count %d; want called 1", tk.State, tk.CallCount)
	}
	if tk := f.must(t)(f.q.Recall(f.ctx, 1)); tk.State != Called || tk.CallCount != 2 {
		t.Errorf("Recall after Return = %s %s call_count %d; want called 2", tk.State, tk.Outcome, tk.CallCount)
	}
}

func TestCallingOrder(t *testing.T) {
	f := newFixture(t, testConfig())
	issue := func(req IssueRequest) string {
		tk, _, err := f.q.Issue(f.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(time.Minute)
		return tk.Number
	}
	n1 := issue(IssueRequest{Category: "A", Source: SourceWalkIn})
	n2 := issue(IssueRequest{Category: "A", Source: SourceWalkIn, Priority: PriorityGreen})
	n3 := issue(IssueRequest{Category: "A", Source: SourceWalkIn})
	n4 := issue(IssueRequest{Category: "A", Source: SourceAppointment, AppointmentID: "ap-1"})
	n5 := issue(IssueRequest{Category: "A", Source: SourceIDCard, IDHash: hashOf("aa"), Priority: PriorityGreen})
	want := []string{n4, n2, n5, n1, n3} // appointment > green > normal, then issue time
	var got []string
	for range want {
		tk := f.must(t)(f.q.CallNext(f.ctx, 1))
		got = append(got, tk.Number)
		f.must(t)(f.q.Finish(f.ctx, 1, Cancelled, ""))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("call order = %v; want %v", got, want)
	}
}

func TestLongWaitOverridesPriority(t *testing.T) {
	cfg := testConfig()
	cfg.LongWait = 30 * time.Minute
	f := newFixture(t, cfg)
	old := f.issue(t, "B") // window 2 serves A and B
	f.clk.Advance(29 * time.Minute)
	green, _, _ := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceWalkIn, Priority: PriorityGreen})
	if tk := f.must(t)(f.q.CallNext(f.ctx, 2)); tk.Number != green.Number {
		t.Errorf("CallNext at 29 min = %s; want green %s first", tk.Number, green.Number)
	}
	f.must(t)(f.q.Finish(f.ctx, 2, Cancelled, ""))
	f.issue(t, "A")
	f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceAppointment, AppointmentID: "x"})
	f.clk.Advance(time.Minute)
	if tk := f.must(t)(f.q.CallNext(f.ctx, 2)); tk.Number != old.Number {
		t.Errorf("CallNext at 30 min = %s; want long waiter %s before appointment", tk.Number, old.Number)
	}
}

func TestWeightedRoundRobin(t *testing.T) {
	cfg := testConfig()
	cfg.Windows[1].Policy = Policy{Categories: []string{"A", "B"}, Weights: map[string]int{"A": 2, "B": 1}}
	f := newFixture(t, cfg)
	for range 6 {
		f.issue(t, "A")
		f.issue(t, "B")
	}
	var got []string
	for range 6 {
		tk := f.must(t)(f.q.CallNext(f.ctx, 2))
		got = append(got, tk.Category)
		f.must(t)(f.q.Finish(f.ctx, 2, Cancelled, ""))
	}
	if want := "[A B A A B A]"; fmt.Sprint(got) != want {
		t.Errorf("categories called by window 2 (A:2, B:1) = %v; want %s", got, want)
	}
	// When the weighted categories run dry the window serves the rest.
	for range 3 {
		f.must(t)(f.q.CallNext(f.ctx, 2))
		f.must(t)(f.q.Finish(f.ctx, 2, Cancelled, ""))
	}
	if tk := f.must(t)(f.q.CallNext(f.ctx, 2)); tk.Category != "B" {
		t.Errorf("CallNext with only B waiting = %s; want B", tk.Category)
	}
}

func TestTransferPositions(t *testing.T) {
	for _, c := range []struct {
		position string
		want     string // order window 3 calls B after the transfer
	}{
		// B001 normal (issued after A001), B002 green: green outranks normals; among
		// normals queue time decides, which the position sets.
		{Front, "[A001 B002 B001]"},
		{End, "[B002 B001 A001]"},
		{Original, "[B002 A001 B001]"},
	} {
		t.Run(c.position, func(t *testing.T) {
			f := newFixture(t, testConfig())
			f.issue(t, "A")
			f.clk.Advance(time.Minute)
			f.issue(t, "B")
			f.q.Issue(f.ctx, IssueRequest{Category: "B", Source: SourceWalkIn, Priority: PriorityGreen}) // B002 green
			f.must(t)(f.q.CallNext(f.ctx, 1))
			f.events(t)
			f.clk.Advance(time.Minute)
			tk := f.must(t)(f.q.Transfer(f.ctx, 1, "B", c.position))
			if tk.Number != "A001" || tk.Category != "B" || tk.OriginCategory != "A" || tk.State != Waiting {
				t.Errorf("Transfer = %s %s/%s %s; want A001 B/A waiting", tk.Number, tk.Category, tk.OriginCategory, tk.State)
			}
			es := f.events(t)
			if len(es) != 1 || es[0].Type != "ticket.transferred" || es[0].Data["from_category"] != "A" || es[0].Data["to_category"] != "B" {
				t.Errorf("events = %+v; want one ticket.transferred A->B", es)
			}
			var got []string
			for range 3 {
				got = append(got, f.must(t)(f.q.CallNext(f.ctx, 3)).Number)
				f.must(t)(f.q.Finish(f.ctx, 3, Cancelled, ""))
			}
			if fmt.Sprint(got) != c.want {
				t.Errorf("calls after Transfer(%s) = %v; want %s", c.position, got, c.want)
			}
		})
	}
}

func TestMultiStepKeepsNumber(t *testing.T) {
	f := newFixture(t, testConfig())
	f.issue(t, "A")
	f.clk.Advance(time.Minute)
	f.issue(t, "C")
	f.must(t)(f.q.CallNext(f.ctx, 1))
	f.must(t)(f.q.Start(f.ctx, 1))
	f.clk.Advance(3 * time.Minute)
	tk := f.must(t)(f.q.Finish(f.ctx, 1, Served, "C"))
	if tk.Number != "A001" || tk.Category != "C" || tk.State != Waiting {
		t.Fatalf("Finish(served, next C) = %s %s %s; want A001 waiting in C", tk.Number, tk.Category, tk.State)
	}
	// It keeps its place by issue time: ahead of C001, issued a minute later.
	if tk := f.must(t)(f.q.CallNext(f.ctx, 3)); tk.Number != "A001" {
		t.Errorf("window 3 calls %s; want A001 (next step keeps its place)", tk.Number)
	}
	f.must(t)(f.q.Start(f.ctx, 3))
	f.clk.Advance(2 * time.Minute)
	tk = f.must(t)(f.q.Finish(f.ctx, 3, Served, ""))
	if tk.Serve != 5*time.Minute {
		t.Errorf("Serve over two steps = %v; want 5m", tk.Serve)
	}
	es := f.events(t)
	want := "[ticket.issued ticket.issued ticket.called ticket.transferred ticket.called ticket.finished]"
	if got := fmt.Sprint(types(es)); got != want {
		t.Errorf("events = %s; want %s", got, want)
	}
	if es[3].Data["reason"] != "next_step" {
		t.Errorf("step event = %v; want reason next_step", es[3].Data)
	}
	if s := es[5].Data["serve_s"]; s != float64(300) {
		t.Errorf("ticket.finished serve_s = %v; want 300", s)
	}
	var n int
	f.db.Read().QueryRow(`SELECT COUNT(*) FROM queue_tickets`).Scan(&n)
	if n != 2 {
		t.Errorf("ticket rows = %d; want 2 (no new ticket for the second step)", n)
	}
}

func TestHallReset(t *testing.T) {
	f := newFixture(t, testConfig())
	for range 4 {
		f.issue(t, "A")
	}
	f.issue(t, "B")
	f.must(t)(f.q.CallNext(f.ctx, 1))
	f.must(t)(f.q.CallNext(f.ctx, 2))
	f.must(t)(f.q.Start(f.ctx, 2))
	f.must(t)(f.q.Park(f.ctx, 2))
	f.must(t)(f.q.CallNext(f.ctx, 3))
	f.must(t)(f.q.Start(f.ctx, 3))
	f.must(t)(f.q.Finish(f.ctx, 3, Served, ""))
	f.events(t)
	n, err := f.q.HallReset(f.ctx)
	if err != nil || n != 4 {
		t.Fatalf("HallReset = %d, %v; want 4", n, err)
	}
	es := f.events(t)
	if len(es) != 4 {
		t.Fatalf("events = %v; want 4 ticket.finished", types(es))
	}
	for _, e := range es {
		if e.Type != "ticket.finished" || e.Data["outcome"] != "reset" {
			t.Errorf("event %s %v; want ticket.finished reset", e.Type, e.Data)
		}
	}
	s, err := f.q.Stats(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Waiting["A"] != 0 || s.Parked != 0 || s.Served != 1 || s.Windows[0].State != "idle" {
		t.Errorf("Stats after reset = %+v; want nothing open, 1 served", s)
	}
	if got := f.issue(t, "A").Number; got != "A005" {
		t.Errorf("Issue(A) after HallReset = %s; want A005 (numbers never repeat within a day)", got)
	}
}

func TestEstimate(t *testing.T) {
	f := newFixture(t, testConfig())
	if e, err := f.q.Estimate(f.ctx, "A"); err != nil || e != (Estimate{}) {
		t.Errorf("Estimate(A) empty = %+v, %v; want zero", e, err)
	}
	var est Estimate
	for range 4 {
		_, est, _ = f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceWalkIn})
	}
	// Three ahead, seeded 4 min each, two windows.
	if want := (Estimate{Ahead: 3, Wait: 6 * time.Minute}); est != want {
		t.Errorf("Issue's estimate for the 4th = %+v; want %+v", est, want)
	}
	// Five served in 10 min each: the seed drops out, the median is 10 min.
	for range 5 {
		f.issue(t, "A")
		f.must(t)(f.q.CallNext(f.ctx, 1))
		f.must(t)(f.q.Start(f.ctx, 1))
		f.clk.Advance(10 * time.Minute)
		f.must(t)(f.q.Finish(f.ctx, 1, Served, ""))
	}
	e, _ := f.q.Estimate(f.ctx, "A")
	if want := (Estimate{Ahead: 4, Wait: 20 * time.Minute}); e != want {
		t.Errorf("Estimate(A) = %+v; want %+v", e, want)
	}
	// Tickets finished as served the moment they were started are clicks, not services:
	// they leave the estimate as it was.
	for range 10 {
		f.issue(t, "A")
		f.must(t)(f.q.CallNext(f.ctx, 1))
		f.must(t)(f.q.Start(f.ctx, 1))
		f.clk.Advance(2 * time.Second)
		f.must(t)(f.q.Finish(f.ctx, 1, Served, ""))
	}
	if e, _ := f.q.Estimate(f.ctx, "A"); e != (Estimate{Ahead: 4, Wait: 20 * time.Minute}) {
		t.Errorf("Estimate(A) after ten 2 s services = %+v; want 4 ahead, 20 min as before", e)
	}
	for _, c := range []struct {
		ahead   int
		per     time.Duration
		windows int
		want    time.Duration
	}{{-1, time.Minute, 1, 0}, {3, -time.Minute, 1, 0}, {1000, time.Hour, 1, maxEstimate}, {1 << 40, time.Hour, 1, maxEstimate}} {
		if got := waitFor(c.ahead, c.per, c.windows); got != c.want {
			t.Errorf("waitFor(%d, %v, %d) = %v; want %v", c.ahead, c.per, c.windows, got, c.want)
		}
	}
}

func TestStats(t *testing.T) {
	f := newFixture(t, testConfig())
	f.issue(t, "A")
	f.issue(t, "A")
	f.issue(t, "B")
	f.clk.Advance(7 * time.Minute)
	f.must(t)(f.q.CallNext(f.ctx, 1))
	f.must(t)(f.q.CallNext(f.ctx, 3))
	f.must(t)(f.q.Start(f.ctx, 3))
	s, err := f.q.Stats(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Waiting["A"] != 1 || s.Waiting["B"] != 0 || s.LongestWait["A"] != 7*time.Minute {
		t.Errorf("Stats waiting = %v longest %v; want A:1 B:0, A 7m", s.Waiting, s.LongestWait)
	}
	want := []WindowStat{{1, "called", "A001", t0.Add(7 * time.Minute)}, {2, "idle", "", time.Time{}}, {3, "serving", "B001", t0.Add(7 * time.Minute)}}
	for i, w := range want {
		g := s.Windows[i]
		if g.ID != w.ID || g.State != w.State || g.Ticket != w.Ticket || !g.Since.Equal(w.Since) {
			t.Errorf("Stats().Windows[%d] = %+v; want %+v", i, g, w)
		}
	}
	f.must(t)(f.q.Finish(f.ctx, 1, NoShow, ""))
	f.must(t)(f.q.Finish(f.ctx, 3, Served, ""))
	s, _ = f.q.Stats(f.ctx)
	if s.Served != 1 || s.NoShows != 1 {
		t.Errorf("Stats served %d no-shows %d; want 1 and 1", s.Served, s.NoShows)
	}

	// Print failures are listed for staff, newest first; other cancellations are not.
	for _, reason := range []string{ReasonPrintFailed, "citizen_left", ReasonPrintFailed} {
		tk := f.issue(t, "B")
		f.clk.Advance(time.Minute)
		f.must(t)(f.q.Cancel(f.ctx, tk.Number, reason))
	}
	s, _ = f.q.Stats(f.ctx)
	if len(s.PrintFailures) != 2 || s.PrintFailures[0].Number != "B004" || s.PrintFailures[1].Number != "B002" ||
		s.PrintFailures[0].Category != "B" || !s.PrintFailures[0].At.Equal(f.q.now()) {
		t.Errorf("Stats print failures = %+v; want B004 then B002, B004 at %v", s.PrintFailures, f.q.now())
	}
	if s.Waiting["A"] != 1 || s.Parked != 0 || s.Served != 1 {
		t.Errorf("Stats after the cancellations = waiting %v parked %d served %d", s.Waiting, s.Parked, s.Served)
	}

	// A ticket of yesterday that was served after midnight counts today; yesterday's
	// outcomes do not, nor its print failures.
	f.clk.Advance(time.Date(2026, 11, 22, 23, 58, 0, 0, shanghai).Sub(f.clk.Now()))
	late := f.issue(t, "A")
	f.must(t)(f.q.CallNext(f.ctx, 1))
	f.must(t)(f.q.CallNext(f.ctx, 2))
	f.must(t)(f.q.Start(f.ctx, 1))
	f.must(t)(f.q.Start(f.ctx, 2))
	f.must(t)(f.q.Finish(f.ctx, 1, Served, "")) // before midnight
	f.clk.Advance(3 * time.Minute)
	if tk := f.must(t)(f.q.Finish(f.ctx, 2, Served, "")); tk.Number != late.Number {
		t.Fatalf("window 2 served %s; want %s", tk.Number, late.Number)
	}
	s, _ = f.q.Stats(f.ctx)
	if s.Served != 1 || s.NoShows != 0 || len(s.PrintFailures) != 0 || s.BusinessDate != "2026-11-23" {
		t.Errorf("Stats after midnight: date %s served %d no-shows %d print failures %v; want 2026-11-23, 1, 0, none",
			s.BusinessDate, s.Served, s.NoShows, s.PrintFailures)
	}
}

func TestPeriodsAreTimed(t *testing.T) {
	f := newFixture(t, testConfig())
	f.issue(t, "A")
	f.clk.Advance(10 * time.Minute)
	f.must(t)(f.q.CallNext(f.ctx, 1))
	f.clk.Advance(time.Minute)
	f.must(t)(f.q.Start(f.ctx, 1))
	f.clk.Advance(2 * time.Minute)
	f.must(t)(f.q.Park(f.ctx, 1))
	f.clk.Advance(5 * time.Minute)
	f.must(t)(f.q.Return(f.ctx, 1, "A001"))
	f.clk.Advance(3 * time.Minute)
	tk := f.must(t)(f.q.Finish(f.ctx, 1, Served, ""))
	if tk.Wait != 10*time.Minute || tk.CalledToStart != time.Minute || tk.Serve != 5*time.Minute || tk.Parked != 5*time.Minute {
		t.Errorf("periods = wait %v called %v serve %v parked %v; want 10m 1m 5m 5m", tk.Wait, tk.CalledToStart, tk.Serve, tk.Parked)
	}
	if !tk.IssuedAt.Equal(t0) || !tk.CalledAt.Equal(t0.Add(10*time.Minute)) || !tk.StartedAt.Equal(t0.Add(11*time.Minute)) || !tk.FinishedAt.Equal(t0.Add(21*time.Minute)) {
		t.Errorf("times = %v %v %v %v", tk.IssuedAt, tk.CalledAt, tk.StartedAt, tk.FinishedAt)
	}
	es := f.events(t)
	last := es[len(es)-1]
	if last.Data["wait_s"] != float64(600) || last.Data["serve_s"] != float64(300) {
		t.Errorf("ticket.finished = %v; want wait_s 600 serve_s 300", last.Data)
	}
}

func TestOutboxPerOperation(t *testing.T) {
	f := newFixture(t, testConfig())
	steps := []struct {
		name string
		op   func() error
		want string
	}{
		{"Issue walk_in", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceWalkIn})
			return err
		}, "[ticket.issued]"},
		{"Issue appointment", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceAppointment, AppointmentID: "ap-7", IDHash: hashOf("cd")})
			return err
		}, "[ticket.issued appointment.checked_in]"},
		{"Issue appointment again", func() error {
			_, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceAppointment, AppointmentID: "ap-7", IDHash: hashOf("cd")})
			return err
		}, "[]"},
		{"CallNext", func() error { _, err := f.q.CallNext(f.ctx, 1); return err }, "[ticket.called]"},
		{"Recall", func() error { _, err := f.q.Recall(f.ctx, 1); return err }, "[ticket.recalled]"},
		{"Start", func() error { _, err := f.q.Start(f.ctx, 1); return err }, "[]"},
		{"Park", func() error { _, err := f.q.Park(f.ctx, 1); return err }, "[]"},
		{"Return", func() error { _, err := f.q.Return(f.ctx, 1, "A002"); return err }, "[]"},
		{"Transfer", func() error { _, err := f.q.Transfer(f.ctx, 1, "B", Front); return err }, "[ticket.transferred]"},
		{"CallTicket", func() error { _, err := f.q.CallTicket(f.ctx, 3, "A002"); return err }, "[ticket.called]"},
		{"Finish no_show", func() error { _, err := f.q.Finish(f.ctx, 3, NoShow, ""); return err }, "[ticket.finished]"},
		{"Cancel", func() error { _, err := f.q.Cancel(f.ctx, "A001", "print_failed"); return err }, "[ticket.finished]"},
		{"HallReset empty", func() error { _, err := f.q.HallReset(f.ctx); return err }, "[]"},
	}
	for _, s := range steps {
		if err := s.op(); err != nil {
			t.Fatalf("%s = %v", s.name, err)
		}
		if got := fmt.Sprint(types(f.events(t))); got != s.want {
			t.Errorf("%s appended %s; want %s", s.name, got, s.want)
		}
	}
	// Data fields as UPLINK.md's table.
	rows, _ := f.db.Read().Query(`SELECT type, data FROM outbox WHERE stream = 'queue' ORDER BY seq`)
	defer rows.Close()
	fields := map[string][]string{
		"ticket.issued":          {"ticket", "category", "priority", "source"},
		"appointment.checked_in": {"appointment_id", "ticket"},
		"ticket.called":          {"ticket", "window", "call_count"},
		"ticket.recalled":        {"ticket", "window", "call_count"},
		"ticket.transferred":     {"ticket", "from_category", "to_category"},
		"ticket.finished":        {"ticket", "outcome", "wait_s", "serve_s"},
	}
	for rows.Next() {
		var typ, data string
		rows.Scan(&typ, &data)
		for _, k := range fields[typ] {
			if !strings.Contains(data, `"`+k+`":`) {
				t.Errorf("%s data %s lacks %q", typ, data, k)
			}
		}
	}
	var cancelled string
	f.db.Read().QueryRow(`SELECT data FROM outbox WHERE type = 'ticket.finished' ORDER BY seq DESC LIMIT 1`).Scan(&cancelled)
	if !strings.Contains(cancelled, `"outcome":"cancelled"`) || !strings.Contains(cancelled, `"reason":"print_failed"`) {
		t.Errorf("Cancel's event = %s; want outcome cancelled, reason print_failed", cancelled)
	}
}

func TestExistingTicketAfterClosing(t *testing.T) {
	cfg := testConfig()
	cfg.Categories[0].Open, cfg.Categories[0].Close = "08:30", "17:30"
	f := newFixture(t, cfg)
	req := IssueRequest{Category: "A", Source: SourceIDCard, IDHash: hashOf("beef")}
	first, _, err := f.q.Issue(f.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(9 * time.Hour) // 18:00
	if again, _, err := f.q.Issue(f.ctx, req); err != nil || !again.Existing || again.Number != first.Number {
		t.Errorf("Issue(same card) after closing = %s existing=%v, %v; want %s existing", again.Number, again.Existing, err, first.Number)
	}
	if _, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceIDCard, IDHash: hashOf("f00d")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Issue(new card) after closing = %v; want ErrClosed", err)
	}
}

func TestEndDay(t *testing.T) {
	f := newFixture(t, testConfig())
	f.issue(t, "A")
	f.issue(t, "A")
	f.must(t)(f.q.CallNext(f.ctx, 1))
	if n, err := f.q.EndDay(f.ctx); err != nil || n != 0 {
		t.Fatalf("EndDay on the same day = %d, %v; want 0 (today's tickets stay)", n, err)
	}
	next := f.q.NextDay(f.clk.Now())
	if want := time.Date(2026, 11, 23, 0, 0, 0, 0, shanghai); !next.Equal(want) {
		t.Fatalf("NextDay(%v) = %v; want %v", f.clk.Now(), next, want)
	}
	// The node was off over midnight and comes back at 08:00 the next day.
	f.clk.Advance(23 * time.Hour)
	today := f.issue(t, "A")
	f.events(t)
	n, err := f.q.EndDay(f.ctx)
	if err != nil || n != 2 {
		t.Fatalf("EndDay the next morning = %d, %v; want 2", n, err)
	}
	for _, e := range f.events(t) {
		if e.Type != "ticket.finished" || e.Data["outcome"] != "reset" || e.Data["reason"] != ReasonEndOfDay {
			t.Errorf("event %s %v; want ticket.finished reset end_of_day", e.Type, e.Data)
		}
	}
	if got := f.must(t)(f.q.Ticket(f.ctx, today.Number)); got.State != Waiting {
		t.Errorf("today's %s after EndDay: %s; want waiting", today.Number, got.State)
	}
	if got := f.must(t)(f.q.CallNext(f.ctx, 1)); got.Number != today.Number {
		t.Errorf("CallNext after EndDay = %s; want today's %s (window 1 was freed)", got.Number, today.Number)
	}
}

func TestMaskedName(t *testing.T) {
	f := newFixture(t, testConfig())
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"张*", true}, {"欧阳**", true}, {"", true}, {"张三", false}, {"110105194912310021", false}, {"*1*", false}, {"张*********", false}} {
		tk, _, err := f.q.Issue(f.ctx, IssueRequest{Category: "A", Source: SourceWalkIn, MaskedName: tc.name})
		if tc.ok != (err == nil) {
			t.Errorf("Issue(MaskedName %q) = %v; want ok %v", tc.name, err, tc.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("Issue(MaskedName %q) = %v; want ErrBadRequest", tc.name, err)
			}
			continue
		}
		if got := f.must(t)(f.q.Ticket(f.ctx, tk.Number)).MaskedName; got != tc.name {
			t.Errorf("stored MaskedName = %q; want %q", got, tc.name)
		}
	}
}

// TestAllClasses: pickNext's class list, which lets the long-wait query seek the waiting
// index, must name every class or it would skip tickets.
func TestAllClasses(t *testing.T) {
	var want []string
	for c := classFront; c <= classNormal; c++ {
		want = append(want, fmt.Sprint(c))
	}
	if got := strings.Join(want, ", "); got != allClasses {
		t.Errorf("allClasses = %q; want %q", allClasses, got)
	}
}
