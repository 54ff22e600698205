package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// op is an operation a client got a success answer for.
type op string

const (
	opIssue  op = "issue"  // POST /hall/v1/tickets answered 201
	opCall   op = "call"   // POST .../windows/N/call-next answered 200
	opStart  op = "start"  // POST .../windows/N/start answered 200
	opFinish op = "finish" // POST .../windows/N/finish answered 200
)

// ack is one acknowledged operation: what the client was told, which the database must
// still show after the last kill.
type ack struct {
	Op       op
	Number   string    // "A0023"
	Date     string    // business date (hall-local YYYY-MM-DD) of the ticket
	IssuedAt time.Time // the ticket's issued_at as the answer gave it (whole seconds)
	Window   int       // call, start, finish: the window that did it
	Outcome  string    // finish: the outcome asked for and answered
}

// ticketAnswer is the part of the API's ticket JSON (web/hall.TicketJSON) the checker needs.
type ticketAnswer struct {
	Ticket   string `json:"ticket"`
	State    string `json:"state"`
	Outcome  string `json:"outcome"`
	Window   int    `json:"window"`
	IssuedAt string `json:"issued_at"`
}

// parseAck makes the ack for a success answer body. The answer carries no business date;
// it is the date of the ticket's issued_at in the hall's zone, which is how the queue
// numbers (queue.Queue.businessDate). An answer that does not name a ticket cannot be
// checked and is an error: a client could not have printed or announced it either.
func parseAck(o op, window int, body []byte, hall *time.Location) (ack, error) {
	var a ticketAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return ack{}, fmt.Errorf("%s answer: %w", o, err)
	}
	issued, err := time.Parse(time.RFC3339, a.IssuedAt)
	if a.Ticket == "" || err != nil {
		return ack{}, fmt.Errorf("%s answer names no ticket or issue time: %s", o, body)
	}
	k := ack{Op: o, Number: a.Ticket, Date: issued.In(hall).Format(time.DateOnly), IssuedAt: issued, Window: window}
	switch o {
	case opIssue:
		k.Window = 0
		if a.State != "waiting" {
			return ack{}, fmt.Errorf("issue answer: a new ticket in state %q: %s", a.State, body)
		}
	case opCall, opStart:
		if a.Window != window {
			return ack{}, fmt.Errorf("%s at window %d answered a ticket of window %d: %s", o, window, a.Window, body)
		}
	case opFinish:
		if a.State != "finished" || a.Outcome == "" {
			return ack{}, fmt.Errorf("finish answer: ticket not finished: %s", body)
		}
		k.Outcome = a.Outcome
	}
	return k, nil
}

// result is what check found.
type result struct {
	Acked      int        // acknowledged operations of every kind
	ByOp       map[op]int // of which per kind
	Lost       int        // acknowledged operations the database does not reflect, and missing events
	Duplicates int        // numbers issued twice on a day or stored twice, extra or orphan events
	Integrity  string     // PRAGMA integrity_check's answer, "ok" when intact
	Detail     []string   // one line per problem
}

// summary is the one line the issue asks for, exactly in its format.
func (r result) summary(kills int) string {
	integrity := r.Integrity
	if integrity != "ok" {
		integrity = "bad" // the checker's answer is in Detail: it has spaces and may be long
	}
	return fmt.Sprintf("kills=%d acked=%d lost=%d duplicates=%d integrity=%s", kills, r.Acked, r.Lost, r.Duplicates, integrity)
}

// verdict is nil only for a run that proved something: every kill done, tickets issued and
// finished under them, and nothing lost, doubled or damaged.
func (r result) verdict(kills, wantKills int) error {
	switch {
	case r.Lost != 0 || r.Duplicates != 0 || r.Integrity != "ok":
		return fmt.Errorf("the queue lost or doubled acknowledged operations, or the database is damaged (lost=%d duplicates=%d integrity=%s)",
			r.Lost, r.Duplicates, r.Integrity)
	case kills < wantKills:
		return fmt.Errorf("only %d of %d kills within the time allowed", kills, wantKills)
	case r.ByOp[opIssue] == 0 || r.ByOp[opFinish] == 0:
		return fmt.Errorf("nothing to check: %d tickets issued and %d finished with success answers", r.ByOp[opIssue], r.ByOp[opFinish])
	}
	return nil
}

type ticketKey struct{ number, date string }

func (k ticketKey) String() string { return k.number + " of " + k.date }

// storedTicket is a queue_tickets row as check reads it; times are unix milliseconds, 0
// when not set.
type storedTicket struct {
	state, outcome                       string
	window, calls                        int
	issued, called, started, finished    int64
	issuedEv, calledEv, finishedEv, rows int
}

// check compares the database, after the last kill, with what clients were told. It reads
// through db and writes nothing. The clients of this tool only issue, call-next, start and
// finish (no recall, transfer, park or cancel), so each ticket is issued, called, started
// and finished at most once, and its outbox events are exactly one ticket.issued, one
// ticket.called once it was called and one ticket.finished once it is finished. Events are
// tied to their ticket by number and time (occurred_at is the same instant as issued_at,
// called_at or finished_at), so numbers that come round again on the next day stay apart.
func check(db *sql.DB, acks []ack) (result, error) {
	res := result{Acked: len(acks), ByOp: map[op]int{}}
	problem := func(lost bool, format string, args ...any) {
		if lost {
			res.Lost++
		} else {
			res.Duplicates++
		}
		res.Detail = append(res.Detail, fmt.Sprintf(format, args...))
	}
	var problems []string
	rows, err := db.Query(`PRAGMA integrity_check`)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return res, err
		}
		problems = append(problems, s)
	}
	if err := rows.Close(); err != nil {
		return res, err
	}
	res.Integrity = strings.Join(problems, "; ")
	if res.Integrity != "ok" {
		res.Detail = append(res.Detail, "integrity_check: "+res.Integrity)
	}

	tickets := map[ticketKey]*storedTicket{}
	byNumber := map[string][]*storedTicket{}
	rows, err = db.Query(`SELECT number, business_date, state, COALESCE(outcome, ''), COALESCE(window_id, 0), call_count,
		issued_at, COALESCE(called_at, ''), COALESCE(started_at, ''), COALESCE(finished_at, '') FROM queue_tickets`)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var k ticketKey
		var t storedTicket
		var times [4]string
		if err := rows.Scan(&k.number, &k.date, &t.state, &t.outcome, &t.window, &t.calls,
			&times[0], &times[1], &times[2], &times[3]); err != nil {
			rows.Close()
			return res, err
		}
		for i, dst := range []*int64{&t.issued, &t.called, &t.started, &t.finished} {
			if *dst, err = unixMilli(times[i]); err != nil {
				rows.Close()
				return res, fmt.Errorf("ticket %s: %w", k, err)
			}
		}
		if old := tickets[k]; old != nil {
			old.rows++
			problem(false, "%s is stored %d times", k, old.rows)
			continue
		}
		t.rows = 1
		tickets[k] = &t
		byNumber[k.number] = append(byNumber[k.number], &t)
	}
	if err := rows.Close(); err != nil {
		return res, err
	}

	// A person holds at most one open ticket per category: a second card swipe gets the
	// first back (queue's holders, kept in memory and rebuilt at every restart). Nothing in
	// this flow transfers a ticket, which could make two.
	rows, err = db.Query(`SELECT substr(id_hash, 1, 8), category, COUNT(*) FROM queue_tickets
		WHERE id_hash IS NOT NULL AND state != 'finished' GROUP BY id_hash, category HAVING COUNT(*) > 1`)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var who, cat string
		var n int
		if err := rows.Scan(&who, &cat, &n); err != nil {
			rows.Close()
			return res, err
		}
		problem(false, "%d open tickets in %s were issued to one person (ID hash %s...): a card swipe should get the open one back", n, cat, who)
	}
	if err := rows.Close(); err != nil {
		return res, err
	}

	// Acknowledged operations. In this flow each happens at most once to a ticket: a
	// second success for the same thing means the first was undone by a kill and done
	// again (for issue: the number was handed out twice that day). Each ack is judged once.
	last := map[ticketKey]map[op]int{} // index of the last ack of each operation per ticket
	for i, a := range acks {
		k := ticketKey{a.Number, a.Date}
		if last[k] == nil {
			last[k] = map[op]int{}
		}
		last[k][a.Op] = i
	}
	issues := map[ticketKey]int{}
	for i, a := range acks {
		res.ByOp[a.Op]++
		k := ticketKey{a.Number, a.Date}
		what := string(a.Op)
		if a.Op == opIssue {
			if issues[k]++; issues[k] > 1 {
				problem(false, "%s was issued %d times: two clients hold the same number for one day", k, issues[k])
			}
		} else {
			what = fmt.Sprintf("%s at window %d", a.Op, a.Window)
		}
		t := tickets[k]
		var why string
		switch {
		case t == nil:
			why = "no such ticket is stored"
		case t.issued/1000 != a.IssuedAt.Unix():
			why = fmt.Sprintf("the answer's ticket was issued at %s, the stored one at %s: the acknowledged ticket was lost and its number issued again",
				a.IssuedAt.Format(time.RFC3339), time.UnixMilli(t.issued).In(a.IssuedAt.Location()).Format(time.RFC3339))
		case a.Op != opIssue && last[k][a.Op] != i:
			why = "it was acknowledged again later, which it can only be if this one was undone"
		case a.Op == opCall && (t.called == 0 || t.window != a.Window || (t.calls < 1 && t.state != "finished")):
			why = fmt.Sprintf("it is stored as %s at window %d, call_count %d, called_at %s", t.state, t.window, t.calls, msString(t.called))
		case a.Op == opStart && (t.started == 0 || (t.state != "serving" && t.state != "finished") || t.window != a.Window):
			why = fmt.Sprintf("it is stored as %s at window %d, started_at %s", t.state, t.window, msString(t.started))
		case a.Op == opFinish && (t.state != "finished" || t.outcome != a.Outcome || t.window != a.Window):
			why = fmt.Sprintf("it is stored as %s %s at window %d, not finished %s", t.state, t.outcome, t.window, a.Outcome)
		}
		if why != "" {
			problem(true, "%s: %s acknowledged, but %s", k, what, why)
		}
	}

	// Outbox events: exactly one set per ticket (nothing has been sent up: the node is not
	// enrolled, so every event is still there).
	rows, err = db.Query(`SELECT type, COALESCE(json_extract(data, '$.ticket'), ''), occurred_at FROM outbox
		WHERE type IN ('ticket.issued', 'ticket.called', 'ticket.finished')`)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var typ, number, at string
		if err := rows.Scan(&typ, &number, &at); err != nil {
			rows.Close()
			return res, err
		}
		ms, err := unixMilli(at)
		if err != nil {
			rows.Close()
			return res, fmt.Errorf("outbox event %s of %s: %w", typ, number, err)
		}
		var owner *storedTicket
		for _, t := range byNumber[number] {
			if (typ == "ticket.issued" && t.issued == ms) || (typ == "ticket.called" && t.called == ms) ||
				(typ == "ticket.finished" && t.finished == ms) {
				owner = t
			}
		}
		switch {
		case owner == nil:
			problem(false, "outbox: %s of %s at %s belongs to no stored ticket", typ, number, at)
		case typ == "ticket.issued":
			owner.issuedEv++
		case typ == "ticket.called":
			owner.calledEv++
		default:
			owner.finishedEv++
		}
	}
	if err := rows.Close(); err != nil {
		return res, err
	}
	keys := make([]ticketKey, 0, len(tickets))
	for k := range tickets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].date < keys[j].date || keys[i].date == keys[j].date && keys[i].number < keys[j].number
	})
	for _, k := range keys {
		t := tickets[k]
		for _, e := range []struct {
			typ       string
			got, want int
		}{
			{"ticket.issued", t.issuedEv, 1},
			{"ticket.called", t.calledEv, b2i(t.called != 0)},
			{"ticket.finished", t.finishedEv, b2i(t.state == "finished")},
		} {
			if e.got != e.want {
				problem(e.got < e.want, "%s (%s) has %d %s events, want %d", k, t.state, e.got, e.typ, e.want)
			}
		}
	}
	return res, nil
}

func unixMilli(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, err
	}
	return t.UnixMilli(), nil
}

func msString(ms int64) string {
	if ms == 0 {
		return "unset"
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
