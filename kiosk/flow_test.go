package kiosk

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/internal/idnum"
	"github.com/hallkiosk/hallkiosk/queue"
	"github.com/hallkiosk/hallkiosk/ui"
)

func TestWake(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Input
		want string
	}{
		{"touch", UIEvent{ui.Event{Kind: ui.Touch}}, ScreenHome},
		{"tap", UIEvent{ui.Event{Kind: ui.Tap, ID: "x"}}, ScreenHome},
		{"presence", PersonNear{}, ScreenHome},
		{"card", CardPlaced{IDNumber: testID, Name: testName}, ScreenCategory},
		{"appointment code", CodeScanned{Code: "1001"}, ScreenApptDone},
		{"unknown code", CodeScanned{Code: "9999"}, ScreenApptUnknown},
		{"card removed", CardRemoved{}, ScreenAttract},
		{"card failed", CardFailed{}, ScreenAttract},
		{"person left", PersonLeft{}, ScreenAttract},
		{"tick", Tick{}, ScreenAttract},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.want(ScreenAttract)
			r.do(tc.in)
			r.want(tc.want)
		})
	}
}

func TestSensorOnlyWakeSleepsWhenThePersonLeaves(t *testing.T) {
	r := newRig(t)
	r.do(PersonNear{}, PersonLeft{})
	r.want(ScreenAttract)
	r.do(PersonNear{}, UIEvent{ui.Event{Kind: ui.Touch}}, PersonLeft{})
	r.want(ScreenHome) // someone touched: the sensor may be wrong, the idle timeout decides
}

func TestTicket(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setup    func(r *rig)
		steps    func(r *rig)
		want     string
		wantReq  queue.IssueRequest // Category "" means: no ticket was asked for
		wantText []string           // zh catalogue keys or literal texts on the final screen
	}{
		{
			name:     "walk in, skip the card",
			steps:    func(r *rig) { r.tap("tile:ticket", "cat:A", "skip") },
			want:     ScreenTicketDone,
			wantReq:  queue.IssueRequest{Category: "A", Source: queue.SourceWalkIn},
			wantText: []string{"A001", "社保业务", "前面还有 3 人，预计等候约 12 分钟", "done.subtitle"},
		},
		{
			name:     "card on the card screen",
			steps:    func(r *rig) { r.tap("tile:ticket", "cat:A"); r.do(CardPlaced{IDNumber: testID, Name: testName}) },
			want:     ScreenTicketDone,
			wantReq:  queue.IssueRequest{Category: "A", Source: queue.SourceIDCard, IDHash: idnum.Hash([]byte("test-key"), testID), Priority: queue.PriorityGreen},
			wantText: []string{"A001"},
		},
		{
			name:     "card on attract, then a category",
			steps:    func(r *rig) { r.do(CardPlaced{IDNumber: testID, Name: testName}); r.tap("cat:B") },
			want:     ScreenTicketDone,
			wantReq:  queue.IssueRequest{Category: "B", Source: queue.SourceIDCard, IDHash: idnum.Hash([]byte("test-key"), testID), Priority: queue.PriorityGreen},
			wantText: []string{"B001", "医保业务"},
		},
		{
			name:     "required ID refuses skip",
			steps:    func(r *rig) { r.tap("tile:ticket", "cat:B", "skip") },
			want:     ScreenCard,
			wantText: []string{"card.required"},
		},
		{
			name: "required ID, then the card",
			steps: func(r *rig) {
				r.tap("tile:ticket", "cat:B", "skip")
				r.do(CardPlaced{IDNumber: testID, Name: testName})
			},
			want:     ScreenTicketDone,
			wantReq:  queue.IssueRequest{Category: "B", Source: queue.SourceIDCard, IDHash: idnum.Hash([]byte("test-key"), testID), Priority: queue.PriorityGreen},
			wantText: []string{"B001"},
		},
		{
			name:     "unreadable card",
			steps:    func(r *rig) { r.tap("tile:ticket", "cat:B"); r.do(CardFailed{}) },
			want:     ScreenCard,
			wantText: []string{"card.failed"},
		},
		{
			name:     "print failed",
			setup:    func(r *rig) { r.taker.printErr = escpos.ErrPaperOut },
			steps:    func(r *rig) { r.tap("tile:ticket", "cat:A", "skip") },
			want:     ScreenPrintFailed,
			wantReq:  queue.IssueRequest{Category: "A", Source: queue.SourceWalkIn},
			wantText: []string{"A001", "failed.note", "failed.subtitle", "failed.desk"},
		},
		{
			name: "existing ticket",
			steps: func(r *rig) {
				r.do(CardPlaced{IDNumber: testID, Name: testName})
				r.tap("cat:A", "done")
				r.do(CardPlaced{IDNumber: testID, Name: testName})
				r.tap("cat:A")
			},
			want:     ScreenExisting,
			wantReq:  queue.IssueRequest{Category: "A", Source: queue.SourceIDCard, IDHash: idnum.Hash([]byte("test-key"), testID), Priority: queue.PriorityGreen},
			wantText: []string{"A001", "existing.note", "existing.subtitle"},
		},
		{
			name: "print failed, and the ticket could not be cancelled",
			setup: func(r *rig) {
				r.taker.printErr, r.taker.noCancel = escpos.ErrPaperOut, errors.New("hall node unreachable")
			},
			steps:    func(r *rig) { r.tap("tile:ticket", "cat:A", "skip") },
			want:     ScreenPrintFailed,
			wantReq:  queue.IssueRequest{Category: "A", Source: queue.SourceWalkIn},
			wantText: []string{"A001", "failed.open.note", "failed.desk"},
		},
		{
			name: "existing ticket, reprint failed",
			steps: func(r *rig) {
				r.do(CardPlaced{IDNumber: testID, Name: testName})
				r.tap("cat:A", "done")
				r.taker.printErr = escpos.ErrPaperOut
				r.do(CardPlaced{IDNumber: testID, Name: testName})
				r.tap("cat:A")
			},
			want:     ScreenPrintFailed,
			wantReq:  queue.IssueRequest{Category: "A", Source: queue.SourceIDCard, IDHash: idnum.Hash([]byte("test-key"), testID), Priority: queue.PriorityGreen},
			wantText: []string{"A001", "failed.reprint.title", "failed.reprint.note", "前面还有 3 人"},
		},
		{"closed", errSetup(queue.ErrClosed), skipA, ScreenTicketError, reqA, []string{"error.closed", "error.back"}},
		{"daily cap", errSetup(queue.ErrDailyCap), skipA, ScreenTicketError, reqA, []string{"error.cap"}},
		{"range exhausted", errSetup(queue.ErrRangeExhausted), skipA, ScreenTicketError, reqA, []string{"error.range"}},
		{"unknown error", errSetup(errors.New("hall node unreachable")), skipA, ScreenTicketError, reqA, []string{"error.other"}},
		{
			name:     "error, back to the categories",
			setup:    errSetup(queue.ErrDailyCap),
			steps:    func(r *rig) { skipA(r); r.tap("back") },
			want:     ScreenCategory,
			wantReq:  reqA,
			wantText: []string{"category.subtitle"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			if tc.setup != nil {
				tc.setup(r)
			}
			tc.steps(r)
			r.want(tc.want)
			if tc.wantReq.Category == "" && len(r.taker.reqs) > 0 {
				t.Errorf("Take was called with %+v; want no ticket", r.taker.reqs)
			}
			if tc.wantReq.Category != "" {
				if len(r.taker.reqs) == 0 || r.taker.reqs[len(r.taker.reqs)-1] != tc.wantReq {
					t.Errorf("Take requests = %+v; want last %+v", r.taker.reqs, tc.wantReq)
				}
			}
			sc := r.view()
			for _, w := range tc.wantText {
				text := w
				if r.cat.Has(w) {
					text = r.zh(w)
				}
				if !has(sc, text) {
					t.Errorf("screen %s lacks %q; has %q", sc.Name, text, texts(sc))
				}
			}
		})
	}
}

var reqA = queue.IssueRequest{Category: "A", Source: queue.SourceWalkIn}

func skipA(r *rig) { r.tap("tile:ticket", "cat:A", "skip") }

func errSetup(err error) func(*rig) {
	return func(r *rig) { r.taker.err = fmt.Errorf("queue said: %w", err) }
}

// TestTicketDoneShowsNumberAndQR: a ticket that printed, new, held already or an
// appointment's, shows its number (huge, under its label), its category, the people ahead
// and its QR code, in both languages and in the elderly mode too.
func TestTicketDoneShowsNumberAndQR(t *testing.T) {
	for _, pattern := range []string{"", "https://hall.example/t/%s"} {
		for mi, m := range viewModes {
			for _, screen := range []string{ScreenTicketDone, ScreenExisting, ScreenApptDone} {
				r := newRig(t, func(c *Config) { c.TicketQR = pattern })
				setMode(r, screen, mi)
				screenPaths[screen](r)
				r.want(screen)
				sc := r.view()
				number := r.s.taken.Ticket.Number
				want := number
				if pattern != "" {
					want = "https://hall.example/t/" + number
				}
				where := fmt.Sprintf("%s %s, TicketQR %q", screen, m.name, pattern)
				if qr, ok := widget[ui.QR](sc); !ok || qr.Content != want {
					t.Errorf("%s: QR = %+v; want content %q", where, qr, want)
				}
				huge := false
				for _, w := range widgets(sc.Body) {
					if tx, ok := w.(ui.Text); ok && tx.Size == ui.TextHuge && tx.Text == number {
						huge = true
					}
				}
				if !huge {
					t.Errorf("%s: no TextHuge %s", where, number)
				}
				for _, text := range []string{
					r.cat.T(m.lang, "done.your_number"),
					r.s.categoryName(r.s.taken.Ticket.Category),
					r.cat.T(m.lang, "done.ahead", 3, 12),
				} {
					if !has(sc, text) {
						t.Errorf("%s: no %q on screen; has %q", where, text, texts(sc))
					}
				}
			}
		}
	}
}

func TestAppointment(t *testing.T) {
	type entry struct {
		name string
		do   func(r *rig, code string)
	}
	entries := []entry{
		{"qr", func(r *rig, code string) { r.tap("tile:appointment"); r.do(CodeScanned{Code: code}) }},
		{"keypad", func(r *rig, code string) {
			r.tap("tile:appointment")
			for _, c := range code {
				r.tap("appt:" + string(c))
			}
			r.tap("appt:ok")
		}},
	}
	for _, e := range entries {
		for _, tc := range []struct {
			name, code string
			before     func(r *rig)
			want       string
			wantText   []string
			wantTicket bool
		}{
			{name: "valid", code: "1001", want: ScreenApptDone, wantTicket: true,
				wantText: []string{"B001", "apptdone.subtitle", "预约人：王*"}},
			{name: "valid at the early edge", code: "1004", want: ScreenApptDone, wantTicket: true},
			{name: "early", code: "1002", want: ScreenApptEarly, wantText: []string{"请于 10:30 后再来签到", "appt.normal"}},
			{name: "late", code: "1003", want: ScreenApptLate, wantText: []string{"late.subtitle", "appt.normal"}},
			{name: "unknown", code: "4711", want: ScreenApptUnknown, wantText: []string{"unknown.subtitle", "unknown.retype"}},
			{name: "used here", code: "1001", want: ScreenApptUsed, wantText: []string{"used.title", "B001"},
				before: func(r *rig) { r.do(CodeScanned{Code: "1001"}); r.tap("done") }},
			{name: "used per the queue", code: "1001", want: ScreenApptUsed, wantTicket: true, wantText: []string{"used.title", "B001", "used.reprinted"},
				before: func(r *rig) {
					r.taker.held = map[string]queue.Ticket{"appt/AP-20261123-001": {Number: "B001", Category: "B"}}
				}},
		} {
			t.Run(e.name+"/"+tc.name, func(t *testing.T) {
				r := newRig(t)
				if tc.before != nil {
					tc.before(r)
				}
				n := len(r.taker.reqs)
				e.do(r, tc.code)
				r.want(tc.want)
				if got := len(r.taker.reqs) > n; got != tc.wantTicket {
					t.Errorf("ticket asked for = %v; want %v", got, tc.wantTicket)
				}
				if tc.wantTicket {
					req := r.taker.reqs[len(r.taker.reqs)-1]
					a, _ := r.book.Find(tc.code)
					want := queue.IssueRequest{Category: a.Category, Source: queue.SourceAppointment, AppointmentID: a.ID, Priority: queue.PriorityAppointment}
					if req != want {
						t.Errorf("request = %+v; want %+v", req, want)
					}
					if _, used := r.book.Used(a.ID); !used {
						t.Error("appointment not marked used")
					}
				}
				sc := r.view()
				for _, w := range tc.wantText {
					text := w
					if r.cat.Has(w) {
						text = r.zh(w)
					}
					if !has(sc, text) {
						t.Errorf("screen %s lacks %q; has %q", sc.Name, text, texts(sc))
					}
				}
			})
		}
	}
}

func TestAppointmentWaysForward(t *testing.T) {
	r := newRig(t)
	r.tap("tile:appointment")
	r.do(CodeScanned{Code: "1002"})
	r.want(ScreenApptEarly)
	r.tap("normal")
	r.want(ScreenCategory)
	if r.s.appt != nil {
		t.Error("the appointment is still held in the normal ticket flow")
	}

	r.tap("home", "tile:appointment", "appt:4", "appt:7", "appt:ok")
	r.want(ScreenApptUnknown)
	r.tap("retype")
	r.want(ScreenApptEnter)
	if kp, _ := widget[ui.Keypad](r.view()); kp.Value != "" {
		t.Errorf("keypad after retype = %q; want empty", kp.Value)
	}
	r.tap("appt:1", "appt:0", "appt:0", "appt:9", "appt:del", "appt:1", "appt:ok")
	r.want(ScreenApptDone)
}

func TestSlotEdges(t *testing.T) {
	// AP-...-001 is 10:00-10:30: check-in from 09:30 to 10:45.
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 23, 9, 29, 59, 0, hallZone), ScreenApptEarly},
		{time.Date(2026, 11, 23, 9, 30, 0, 0, hallZone), ScreenApptDone},
		{time.Date(2026, 11, 23, 10, 45, 0, 0, hallZone), ScreenApptDone},
		{time.Date(2026, 11, 23, 10, 45, 1, 0, hallZone), ScreenApptLate},
	} {
		r := newRig(t)
		r.clk.Advance(tc.at.Sub(t0))
		r.do(CodeScanned{Code: "1001"})
		if got := r.view().Name; got != tc.want {
			t.Errorf("check-in at %s = %s; want %s", tc.at.Format("15:04:05"), got, tc.want)
		}
	}
}
