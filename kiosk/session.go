package kiosk

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/queue"
	"github.com/hallkiosk/hallkiosk/ui"
)

// Screen names (ui.Screen.Name), stable for goldens, logs and end-to-end tests. The
// "need more time?" prompt is a Modal over whichever screen is up.
const (
	ScreenAttract     = "attract"
	ScreenHome        = "home"
	ScreenCategory    = "ticket.category"
	ScreenCard        = "ticket.card"
	ScreenPrinting    = "ticket.printing"
	ScreenTicketDone  = "ticket.done"
	ScreenPrintFailed = "ticket.print_failed"
	ScreenExisting    = "ticket.existing"
	ScreenTicketError = "ticket.error"
	ScreenApptEnter   = "appointment.enter"
	ScreenApptEarly   = "appointment.early"
	ScreenApptLate    = "appointment.late"
	ScreenApptUnknown = "appointment.unknown"
	ScreenApptUsed    = "appointment.used"
	ScreenApptDone    = "appointment.done"
)

const (
	helpInterval     = 30 * time.Second // the shortest time between two staff calls
	maxAppointmentNo = 16               // digits of a typed appointment number
)

// Session is one terminal's citizen session, from wake-up to the wipe. It is owned by one
// goroutine: Handle, Continue, View and Run must not be called concurrently.
type Session struct {
	cfg Config
	d   Deps
	log *slog.Logger

	screen    string
	lang      string
	elderly   bool
	started   time.Time
	lastInput time.Time
	touched   bool      // a touch since wake-up (else the sensor alone woke it)
	moreUntil time.Time // non-zero: the "need more time?" prompt is up until then
	helpAt    time.Time // last help request of this session
	spoken    string    // the last voice prompt's key

	// flow data, wiped at the end
	cardFailed bool
	page       int
	cats       []catInfo
	card       *card
	category   string
	req        *queue.IssueRequest // the ticket to take next (Continue)
	maskedName string              // printed on that ticket
	taken      *Taken
	failure    failure
	appt       *Appointment
	apptTicket string // the ticket an already used appointment got
	code       []byte // the appointment number typed so far
}

type catInfo struct {
	cat    queue.Category
	est    queue.Estimate
	estErr bool
}

// failure is why a ticket could not be taken.
type failure int

const (
	failNone failure = iota
	failClosed
	failCap
	failRange
	failOther
)

// NewSession returns a session on the attract screen. It does no I/O.
func NewSession(cfg Config, d Deps) *Session {
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Catalog == nil {
		if c, err := Messages(); err == nil {
			d.Catalog = c
		} else {
			d.Catalog = &ui.Catalog{} // shows ⟦key⟧, which tests catch
		}
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Session{cfg: cfg.withDefaults(), d: d, log: log.With("component", "session", "terminal", cfg.Terminal),
		screen: ScreenAttract, lang: ui.DefaultLang}
}

// LogValue describes the session without personal data.
func (s *Session) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("screen", s.screen), slog.String("lang", s.lang), slog.Bool("elderly", s.elderly)}
	if s.card != nil {
		attrs = append(attrs, slog.Any("card", s.card))
	}
	return slog.GroupValue(attrs...)
}

// Handle processes one input. A ticket to print is left for Continue, so the caller can
// show the progress screen first.
func (s *Session) Handle(ctx context.Context, in Input) {
	now := s.d.Clock.Now()
	switch ev := in.(type) {
	case Tick:
		s.tick(now)
	case UIEvent:
		s.uiEvent(ctx, now, ev.Event)
	case PersonNear:
		if s.screen == ScreenAttract {
			s.wake(now, ScreenHome)
		}
	case PersonLeft:
		// A sensor-only wake-up with nobody touching, or a finished transaction: nobody
		// is there to read it any more.
		if (s.screen == ScreenHome && !s.touched) || s.resultScreen() {
			s.end("person_left")
		}
	case CardPlaced:
		s.cardPlaced(ctx, now, ev)
	case CardFailed:
		if s.moreUntil.IsZero() && (s.screen == ScreenCard || s.screen == ScreenCategory) {
			s.lastInput, s.cardFailed = now, true
		}
	case CodeScanned:
		s.codeScanned(now, ev.Code)
	case CardRemoved:
		// Nothing to do: what the session needed from the card it already has.
	}
	s.speak()
}

// Pending reports whether Continue has work (a ticket to take and print).
func (s *Session) Pending() bool { return s.req != nil }

// Continue takes and prints the pending ticket, if any, and reports whether there was one.
// It blocks while the printer prints.
func (s *Session) Continue(ctx context.Context) bool {
	if s.req == nil {
		return false
	}
	s.take(ctx)
	s.lastInput = s.d.Clock.Now()
	s.speak()
	return true
}

// Run handles inputs until ctx ends or in is closed, sends itself Ticks for its timeouts,
// and calls show whenever the screen changed (at least once a minute for the clock). The
// progress screen is shown before a ticket prints. The session is wiped when Run returns.
func (s *Session) Run(ctx context.Context, in <-chan Input, show func(ui.Screen, ui.Mode)) {
	var last ui.Screen
	var lastMode ui.Mode
	shown := false
	emit := func() {
		sc, m := s.View()
		if shown && m == lastMode && reflect.DeepEqual(sc, last) {
			return
		}
		last, lastMode, shown = sc, m, true
		show(sc, m)
	}
	defer s.end("stopped")
	emit()
	for {
		wait := max(s.nextWake().Sub(s.d.Clock.Now()), 0)
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-in:
			if !ok {
				return
			}
			s.Handle(ctx, ev)
		case <-s.d.Clock.After(wait):
			s.Handle(ctx, Tick{})
		}
		emit()
		for s.Pending() {
			s.Continue(ctx)
			emit()
		}
	}
}

// nextWake is when the screen next changes by itself: a timeout, the prompt's countdown or
// the status bar's minute.
func (s *Session) nextWake() time.Time {
	now := s.d.Clock.Now()
	next := now.Truncate(time.Minute).Add(time.Minute)
	if s.screen == ScreenAttract {
		return next
	}
	if !s.moreUntil.IsZero() {
		return minTime(next, s.moreUntil, now.Truncate(time.Second).Add(time.Second))
	}
	if !s.helpAt.IsZero() && now.Before(s.helpAt.Add(helpInterval)) {
		next = minTime(next, s.helpAt.Add(helpInterval))
	}
	if s.resultScreen() {
		return minTime(next, s.lastInput.Add(s.doneTimeout()))
	}
	return minTime(next, s.lastInput.Add(s.idle()))
}

func minTime(t time.Time, ts ...time.Time) time.Time {
	for _, u := range ts {
		if u.Before(t) {
			t = u
		}
	}
	return t
}

func (s *Session) idle() time.Duration {
	if s.elderly {
		return s.cfg.ElderlyIdle
	}
	return s.cfg.Idle
}

func (s *Session) doneTimeout() time.Duration {
	if s.elderly {
		return 2 * s.cfg.Done
	}
	return s.cfg.Done
}

// resultScreen: the transaction is over; the screen ends the session by itself.
func (s *Session) resultScreen() bool {
	switch s.screen {
	case ScreenTicketDone, ScreenExisting, ScreenApptDone, ScreenApptUsed:
		return true
	}
	return false
}

func (s *Session) tick(now time.Time) {
	switch {
	case s.screen == ScreenAttract || s.req != nil:
	case !s.moreUntil.IsZero():
		if !now.Before(s.moreUntil) {
			s.end("idle")
		}
	case s.resultScreen():
		if now.Sub(s.lastInput) >= s.doneTimeout() {
			s.end("done")
		}
	case now.Sub(s.lastInput) >= s.idle():
		s.moreUntil = now.Add(s.moreTime())
	}
}

// moreTime is how long the "need more time?" prompt waits for an answer: twice as long in
// elderly mode, as the idle time is longer there.
func (s *Session) moreTime() time.Duration {
	if s.elderly {
		return 2 * s.cfg.MoreTime
	}
	return s.cfg.MoreTime
}

func (s *Session) wake(now time.Time, screen string) {
	s.screen, s.started, s.lastInput = screen, now, now
	s.log.Info("session started")
}

func (s *Session) uiEvent(ctx context.Context, now time.Time, ev ui.Event) {
	if s.screen == ScreenAttract {
		s.wake(now, ScreenHome)
	}
	if !s.moreUntil.IsZero() {
		// Only the prompt's buttons count while it is up, and the two buttons that stay
		// working beside it (ui.Button.Modeless): the language switch, to read the prompt
		// in, and the staff call, which also answers it (someone is there, waiting).
		switch {
		case ev.Kind == ui.Tap && ev.ID == "more.yes":
			s.moreUntil, s.lastInput = time.Time{}, now
			return
		case ev.Kind == ui.Tap && ev.ID == "more.no":
			s.end("declined")
			return
		case ev.Kind == ui.Tap && ev.ID == "help":
			s.moreUntil = time.Time{}
		case ev.Kind != ui.Tap || ev.ID != "lang":
			return
		}
	}
	s.lastInput, s.touched = now, true
	if ev.Kind != ui.Tap {
		return
	}
	s.cardFailed = false
	switch ev.ID {
	case "lang":
		if s.lang == "zh" {
			s.lang = "en"
		} else {
			s.lang = "zh"
		}
		return
	case "help":
		s.help(ctx, now)
		return
	case "home":
		s.wipeFlow()
		s.screen = ScreenHome
		return
	case "done":
		if s.resultScreen() || s.screen == ScreenPrintFailed {
			s.end("done")
		}
		return
	}
	switch s.screen {
	case ScreenHome:
		s.tapHome(ctx, ev.ID)
	case ScreenCategory, ScreenCard, ScreenTicketError:
		s.tapTicket(ctx, ev.ID)
	case ScreenApptEnter, ScreenApptEarly, ScreenApptLate, ScreenApptUnknown:
		s.tapAppointment(ctx, now, ev.ID)
	}
}

func (s *Session) tapHome(ctx context.Context, id string) {
	switch id {
	case "elderly":
		s.elderly = !s.elderly
		s.page = 0
	case "tile:ticket":
		if s.ticketOK() {
			s.enterCategories(ctx)
		}
	case "tile:appointment":
		if s.appointmentOK() {
			s.enterAppointment()
		}
	}
}

// help calls staff: the light blinks and the hall is alerted, at most once per 30 s.
func (s *Session) help(ctx context.Context, now time.Time) {
	if !s.helpAt.IsZero() && now.Sub(s.helpAt) < helpInterval {
		return
	}
	s.helpAt = now
	if s.d.Light != nil {
		s.d.Light.Help(true)
	}
	if s.d.Alerts != nil {
		if err := s.d.Alerts.HelpRequested(ctx, s.cfg.Terminal, s.screen); err != nil {
			s.log.Warn("help request not sent; the light still blinks", "err", err)
		}
	}
	s.log.Info("staff called", "screen", s.screen)
}

func (s *Session) printerOK() bool {
	st, ok := s.component(s.cfg.PrinterComponent)
	return !ok || st.State != health.Down && !isPaperOut(st.Code)
}

// readerOK: the ID-card reader can read a card now. A reader the health registry does not
// know (yet) counts as working, like the printer; NoReader means there is none.
func (s *Session) readerOK() bool {
	if s.cfg.NoReader {
		return false
	}
	st, ok := s.component(s.cfg.ReaderComponent)
	return !ok || st.State != health.Down
}

// component is the health of one device component; false when it is not reported.
func (s *Session) component(name string) (health.Status, bool) {
	if s.d.Health == nil {
		return health.Status{}, false
	}
	for _, st := range s.d.Health() {
		if st.Component == name {
			return st, true
		}
	}
	return health.Status{}, false
}

func isPaperOut(code string) bool {
	return code == "paper_out" || len(code) > len(".paper_out") && code[len(code)-len(".paper_out"):] == ".paper_out"
}

func (s *Session) ticketOK() bool      { return s.d.Tickets != nil && s.d.Hall != nil && s.printerOK() }
func (s *Session) appointmentOK() bool { return s.d.Appointments != nil && s.ticketOK() }

// speak gives the voice prompt of a new screen in elderly mode.
func (s *Session) speak() {
	if !s.elderly || s.d.Voice == nil {
		s.spoken = ""
		return
	}
	key := fmt.Sprintf("%s/%s/%t/%d/%t/%t", s.screen, s.lang, !s.moreUntil.IsZero(), s.page, s.helping(s.d.Clock.Now()), s.cardFailed)
	if key == s.spoken {
		return
	}
	s.spoken = key
	s.d.Voice.Prompt(s.lang, s.instruction())
}

// end closes the session by any path and wipes everything it held.
func (s *Session) end(reason string) {
	if s.screen == ScreenAttract && s.started.IsZero() {
		return
	}
	if !s.helpAt.IsZero() && s.d.Light != nil {
		s.d.Light.Help(false)
	}
	s.log.Info("session ended", "reason", reason, "session", s, "took", s.d.Clock.Now().Sub(s.started).Round(time.Second))
	s.wipeFlow()
	s.screen, s.lang, s.elderly = ScreenAttract, ui.DefaultLang, false
	s.started, s.lastInput, s.moreUntil, s.helpAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	s.touched, s.spoken = false, ""
}

// wipeFlow drops the data of the current flow (card, codes, tickets), keeping language
// and mode.
func (s *Session) wipeFlow() {
	clear(s.code)
	s.code = nil
	if s.card != nil {
		*s.card = card{}
		s.card = nil
	}
	if s.appt != nil {
		*s.appt = Appointment{}
		s.appt = nil
	}
	s.cats, s.category, s.req, s.maskedName, s.taken = nil, "", nil, "", nil
	s.failure, s.apptTicket, s.page, s.cardFailed = failNone, "", 0, false
}

// held lists what the session still holds, for tests: empty after the end.
func (s *Session) held() []string {
	var out []string
	add := func(cond bool, what string) {
		if cond {
			out = append(out, what)
		}
	}
	add(s.code != nil, "code")
	add(s.card != nil, "card")
	add(s.appt != nil, "appointment")
	add(s.cats != nil, "categories")
	add(s.category != "", "category")
	add(s.req != nil, "request")
	add(s.maskedName != "", "name")
	add(s.taken != nil, "ticket")
	add(s.apptTicket != "", "appointment ticket")
	add(s.failure != failNone, "failure")
	add(s.lang != ui.DefaultLang, "language")
	add(s.elderly, "elderly")
	add(!s.helpAt.IsZero(), "help")
	add(!s.moreUntil.IsZero(), "prompt")
	add(s.screen != ScreenAttract, "screen")
	return out
}
