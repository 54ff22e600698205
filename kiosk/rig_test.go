package kiosk

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/testlog"
	"github.com/hallkiosk/hallkiosk/queue"
	"github.com/hallkiosk/hallkiosk/ui"
)

var logSink testlog.Sink

func TestMain(m *testing.M) { testlog.Main(m, &logSink, "kiosk") }

// The citizen of the tests. The number is valid (GB 11643 check digit).
const (
	testID   = "11010519491231002X"
	testName = "张三丰"
)

var (
	hallZone = time.FixedZone("CST", 8*3600)
	// t0 is 09:40 hall time on a Monday: AP-...-001 and -004 may check in, -002 is early,
	// -003 is late.
	t0 = time.Date(2026, 11, 23, 9, 40, 0, 0, hallZone)
)

// fakeTaker issues numbered tickets and returns the one a person or appointment already
// holds, like the queue; it fails as told.
type fakeTaker struct {
	reqs     []queue.IssueRequest
	names    []string
	err      error // Issue refuses
	printErr error
	noCancel error // with printErr: the dispenser could not cancel the ticket
	n        int
	held     map[string]queue.Ticket
	onTake   func()
	green    bool // every new ticket is in the green channel, whatever the request says
}

func (f *fakeTaker) Take(_ context.Context, req queue.IssueRequest, name string) (Taken, error) {
	if f.onTake != nil {
		f.onTake()
	}
	f.reqs, f.names = append(f.reqs, req), append(f.names, name)
	if f.err != nil {
		return Taken{}, f.err
	}
	if f.held == nil {
		f.held = map[string]queue.Ticket{}
	}
	key := ""
	switch {
	case req.AppointmentID != "":
		key = "appt/" + req.AppointmentID
	case req.IDHash != "":
		key = req.IDHash + "/" + req.Category
	}
	t, ok := f.held[key]
	if ok && key != "" {
		t.Existing = true
	} else {
		f.n++
		t = queue.Ticket{Number: fmt.Sprintf("%s%03d", req.Category, f.n), Category: req.Category, State: queue.Waiting,
			Source: req.Source, IDHash: req.IDHash, AppointmentID: req.AppointmentID, Priority: req.Priority}
		if f.green {
			t.Priority = queue.PriorityGreen
		}
		if key != "" {
			f.held[key] = t
		}
	}
	out := Taken{Ticket: t, Estimate: queue.Estimate{Ahead: 3, Wait: 12 * time.Minute}}
	if f.printErr != nil { // as Dispenser.Take: a new ticket is ended, a held one stands
		out.PrintErr = f.printErr
		if !t.Existing && f.noCancel != nil {
			return out, f.noCancel
		}
		if !t.Existing {
			out.Ticket.State, out.Ticket.Outcome, out.Ticket.Reason = queue.Finished, queue.Cancelled, ReasonPrintFailed
			out.Cancelled = true
			delete(f.held, key)
		}
		return out, nil
	}
	out.Printed = true
	return out, nil
}

type fakeHall struct{ cats []queue.Category }

func (h *fakeHall) Categories() []queue.Category { return h.cats }
func (h *fakeHall) Estimate(_ context.Context, code string) (queue.Estimate, error) {
	for i, c := range h.cats {
		if c.Code == code {
			return queue.Estimate{Ahead: i, Wait: time.Duration(i) * 5 * time.Minute}, nil
		}
	}
	return queue.Estimate{}, queue.ErrUnknownCategory
}

func testCategories(n int) []queue.Category {
	base := []queue.Category{
		{Code: "A", Prefix: "A", NameZH: "社保业务", NameEN: "Social insurance"},
		{Code: "B", Prefix: "B", NameZH: "医保业务", NameEN: "Medical insurance"},
		{Code: "C", Prefix: "C", NameZH: "不动产登记", NameEN: "Real estate registration"},
		{Code: "D", Prefix: "D", NameZH: "公积金", NameEN: "Housing fund"},
		{Code: "E", Prefix: "E", NameZH: "户籍办理", NameEN: "Household registration"},
		{Code: "F", Prefix: "F", NameZH: "出入境", NameEN: "Exit and entry"},
		{Code: "G", Prefix: "G", NameZH: "税务", NameEN: "Taxation"},
		{Code: "H", Prefix: "H", NameZH: "企业开办", NameEN: "Business start-up"},
		{Code: "J", Prefix: "J", NameZH: "综合咨询", NameEN: "General enquiries"},
		{Code: "K", Prefix: "K", NameZH: "婚姻登记", NameEN: "Marriage registration"},
	}
	return base[:n]
}

type fakeLight struct{ calls []bool }

func (l *fakeLight) Help(on bool) { l.calls = append(l.calls, on) }

type fakeAlerts struct{ screens []string }

func (a *fakeAlerts) HelpRequested(_ context.Context, terminal, screen string) error {
	a.screens = append(a.screens, terminal+"/"+screen)
	return nil
}

type fakeVoice struct{ said []string }

func (v *fakeVoice) Prompt(lang, text string) { v.said = append(v.said, lang+":"+text) }

// rig is a session with fakes around it; it records every screen the session showed.
type rig struct {
	t       *testing.T
	s       *Session
	clk     *clock.Fake
	taker   *fakeTaker
	hall    *fakeHall
	light   *fakeLight
	alerts  *fakeAlerts
	voice   *fakeVoice
	book    *AppointmentBook
	health  []health.Status
	online  bool
	logs    *bytes.Buffer
	screens []ui.Screen
	cat     *ui.Catalog
	// mode chooses the language and mode of a new session (screenPaths).
	mode func(r *rig)
}

// start wakes a session in the rig's language and mode.
func (r *rig) start() {
	if r.mode != nil {
		r.mode(r)
	}
}

func newRig(t *testing.T, tweak ...func(*Config)) *rig {
	t.Helper()
	book, err := LoadAppointments("testdata/appointments.json")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := Messages()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, clk: clock.NewFake(t0), taker: &fakeTaker{}, hall: &fakeHall{cats: testCategories(3)},
		light: &fakeLight{}, alerts: &fakeAlerts{}, voice: &fakeVoice{}, book: book, online: true, logs: &bytes.Buffer{}, cat: cat}
	cfg := Config{Terminal: "T1", HallName: "朝阳区政务服务中心", HallNameEN: "Chaoyang Government Service Centre", RequireID: map[string]bool{"B": true},
		PrinterComponent: "printer", Location: hallZone}
	for _, f := range tweak {
		f(&cfg)
	}
	h := slog.NewJSONHandler(logSink.Tee(r.logs), &slog.HandlerOptions{Level: slog.LevelDebug})
	r.s = NewSession(cfg, Deps{Clock: r.clk, Catalog: cat, Tickets: r.taker, Hall: r.hall, Appointments: book,
		Health: func() []health.Status { return r.health }, Light: r.light, Alerts: r.alerts, Voice: r.voice,
		Online: func() bool { return r.online }, IDKey: []byte("test-key"), Log: slog.New(h)})
	r.record()
	return r
}

func (r *rig) record() {
	sc, _ := r.s.View()
	r.screens = append(r.screens, sc)
}

// do handles inputs the way Run does: show, then take a pending ticket, then show.
func (r *rig) do(ins ...Input) {
	for _, in := range ins {
		r.s.Handle(context.Background(), in)
		r.record()
		for r.s.Continue(context.Background()) {
			r.record()
		}
	}
}

func (r *rig) tap(ids ...string) {
	for _, id := range ids {
		r.do(UIEvent{ui.Event{Kind: ui.Touch}}, UIEvent{ui.Event{Kind: ui.Tap, ID: id}})
	}
}

func (r *rig) advance(d time.Duration) {
	r.clk.Advance(d)
	r.do(Tick{})
}

func (r *rig) view() ui.Screen {
	sc, _ := r.s.View()
	return sc
}

func (r *rig) want(name string) {
	r.t.Helper()
	if got := r.view().Name; got != name {
		r.t.Fatalf("screen = %q; want %q (held %v)", got, name, r.s.held())
	}
}

func (r *rig) zh(key string, args ...any) string { return r.cat.T("zh", key, args...) }

// texts is every string of a screen a citizen can read.
func texts(sc ui.Screen) []string {
	out := []string{sc.Title, sc.Subtitle, sc.Status.Hall, sc.Status.OfflineText, sc.Status.StaffCalled}
	for _, b := range sc.Actions {
		out = append(out, b.Label)
	}
	for _, w := range widgets(sc.Body) {
		switch w := w.(type) {
		case ui.Text:
			out = append(out, w.Text)
		case ui.Notice:
			out = append(out, w.Text)
		case ui.Tiles:
			for _, t := range w.Items {
				out = append(out, t.Title, t.Detail, t.Reason)
			}
		case ui.Buttons:
			for _, b := range w.Items {
				out = append(out, b.Label)
			}
		case ui.Keypad:
			out = append(out, w.Value, w.OK)
		case ui.QR:
			out = append(out, w.Content, w.Caption)
		case ui.Progress:
			out = append(out, w.Label)

		case ui.List:
			for _, it := range w.Items {
				out = append(out, it.Title, it.Detail)
			}
		}
	}
	if sc.Modal != nil {
		out = append(out, sc.Modal.Title, sc.Modal.Text)
		for _, b := range sc.Modal.Buttons {
			out = append(out, b.Label)
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

func has(sc ui.Screen, text string) bool {
	for _, s := range texts(sc) {
		if strings.Contains(s, text) {
			return true
		}
	}
	return false
}

// tile returns the tile with id on the screen.
func tile(sc ui.Screen, id string) (ui.Tile, bool) {
	for _, w := range sc.Body {
		if ts, ok := w.(ui.Tiles); ok {
			for _, t := range ts.Items {
				if t.ID == id {
					return t, true
				}
			}
		}
	}
	return ui.Tile{}, false
}

// widgets is a screen's body with the widgets of its columns in line.
func widgets(ws []ui.Widget) []ui.Widget {
	var out []ui.Widget
	for _, w := range ws {
		out = append(out, w)
		if c, ok := w.(ui.Columns); ok {
			for _, col := range c.Cols {
				out = append(out, widgets(col)...)
			}
		}
	}
	return out
}

func widget[W ui.Widget](sc ui.Screen) (W, bool) {
	for _, w := range widgets(sc.Body) {
		if w, ok := w.(W); ok {
			return w, true
		}
	}
	var zero W
	return zero, false
}

// screenPaths lead from a fresh session (language and mode already chosen on home) to
// every screen.
var screenPaths = map[string]func(r *rig){
	ScreenAttract:  func(r *rig) {},
	ScreenHome:     func(r *rig) { r.tap("x") },
	ScreenCategory: func(r *rig) { r.tap("tile:ticket") },
	ScreenCard:     func(r *rig) { r.tap("tile:ticket", "cat:B") },
	ScreenPrinting: func(r *rig) {
		r.tap("tile:ticket", "cat:A")
		r.s.Handle(context.Background(), UIEvent{ui.Event{Kind: ui.Tap, ID: "skip"}}) // no Continue
	},
	ScreenTicketDone:  skipA,
	ScreenPrintFailed: func(r *rig) { r.taker.printErr = context.DeadlineExceeded; skipA(r) },
	ScreenExisting: func(r *rig) {
		r.do(CardPlaced{IDNumber: testID, Name: testName})
		r.tap("cat:A", "done")
		r.start()
		r.do(CardPlaced{IDNumber: testID, Name: testName})
		r.tap("cat:A")
	},
	ScreenTicketError: func(r *rig) { r.taker.err = queue.ErrDailyCap; skipA(r) },
	ScreenApptEnter:   func(r *rig) { r.tap("tile:appointment", "appt:1", "appt:0") },
	ScreenApptEarly:   func(r *rig) { r.do(CodeScanned{Code: "1002"}) },
	ScreenApptLate:    func(r *rig) { r.do(CodeScanned{Code: "1003"}) },
	ScreenApptUnknown: func(r *rig) { r.do(CodeScanned{Code: "0"}) },
	ScreenApptUsed: func(r *rig) {
		r.do(CodeScanned{Code: "1001"})
		r.tap("done")
		r.start()
		r.do(CodeScanned{Code: "1001"})
	},
	ScreenApptDone: func(r *rig) { r.do(CodeScanned{Code: "1004"}) },
}
