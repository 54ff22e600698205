package kiosk

import (
	"fmt"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/queue"
	"github.com/hallkiosk/hallkiosk/ui"
)

// tr is the session's one way to citizen-visible text: a catalogue key in its language.
func (s *Session) tr(key string, args ...any) string { return s.d.Catalog.T(s.lang, key, args...) }

// View returns the current screen and how to draw it.
func (s *Session) View() (ui.Screen, ui.Mode) {
	now := s.d.Clock.Now()
	hall := s.cfg.HallName
	if s.lang == "en" && s.cfg.HallNameEN != "" {
		hall = s.cfg.HallNameEN
	}
	sc := ui.Screen{Name: s.screen, Status: ui.StatusBar{Hall: hall, Clock: now.In(s.cfg.Location).Truncate(time.Minute)}}
	if s.d.Online != nil && !s.d.Online() {
		sc.Status.Offline, sc.Status.OfflineText = true, s.tr("status.offline")
	}
	if s.helping(now) {
		// In the status bar, beside the clock: on every screen and in every mode, without
		// pushing the screen's content away (and the voice says it).
		sc.Status.StaffCalled = s.tr("help.coming")
	}
	if s.cardFailed {
		sc.Body = append(sc.Body, ui.Notice{Kind: ui.NoticeWarning, Text: s.tr("card.failed")})
	}
	switch s.screen {
	case ScreenAttract:
		s.attract(&sc)
	case ScreenHome:
		s.home(&sc)
	case ScreenCategory:
		s.categories(&sc)
	case ScreenCard:
		s.cardScreen(&sc)
	case ScreenPrinting:
		sc.Title, sc.Subtitle = s.tr("printing.title"), s.tr("printing.subtitle")
		sc.Body = append(sc.Body, ui.Spacer{MM: 20}, ui.Progress{Label: s.tr("printing.label"), Fraction: -1})
	case ScreenTicketDone, ScreenExisting, ScreenApptDone:
		s.ticketScreen(&sc)
	case ScreenPrintFailed:
		s.printFailed(&sc)
	case ScreenTicketError:
		s.ticketError(&sc)
	case ScreenApptEnter:
		sc.Title, sc.Subtitle = s.tr("appt.title"), s.tr("appt.subtitle")
		sc.Body = append(sc.Body, ui.Keypad{ID: "appt", Value: string(s.code), MaxLen: maxAppointmentNo, OK: s.tr("appt.ok")})
	case ScreenApptEarly, ScreenApptLate, ScreenApptUnknown, ScreenApptUsed:
		s.apptProblem(&sc)
	}
	sc.Actions = s.actions()
	if !s.moreUntil.IsZero() {
		left := max(0, int((s.moreUntil.Sub(now)+time.Second-1)/time.Second))
		sc.Modal = &ui.Modal{Title: s.tr("more.title"), Text: s.tr("more.text", left), Buttons: []ui.Button{
			{ID: "more.yes", Label: s.tr("more.yes"), Kind: ui.ButtonPrimary},
			{ID: "more.no", Label: s.tr("more.no"), Kind: ui.ButtonSecondary},
		}}
	}
	return sc, ui.Mode{Lang: s.lang, Elderly: s.elderly}
}

// instruction is what the voice says in elderly mode: the prompt's title; or the staff
// call's confirmation, the first warning or error, then the subtitle (or the first notice,
// or the title). None of them ever holds a name or an ID number.
func (s *Session) instruction() string {
	sc, _ := s.View()
	if sc.Modal != nil {
		return sc.Modal.Title
	}
	// A staff call's confirmation is said first: the citizen just asked for it, and it is in
	// the status bar, not the body. Then a warning or an error (a card that did not read, a
	// ticket that did not print): errors come as voice as well as text. Then what to do.
	var said []string
	if sc.Status.StaffCalled != "" {
		said = append(said, sc.Status.StaffCalled)
	}
	for _, w := range sc.Body {
		if n, ok := w.(ui.Notice); ok && (n.Kind == ui.NoticeWarning || n.Kind == ui.NoticeError) {
			said = append(said, n.Text)
			break
		}
	}
	switch {
	case sc.Subtitle != "":
		said = append(said, sc.Subtitle)
	case len(said) == 0:
		for _, w := range sc.Body {
			if n, ok := w.(ui.Notice); ok {
				said = append(said, n.Text)
				break
			}
		}
	}
	if len(said) == 0 {
		said = append(said, sc.Title)
	}
	return strings.Join(said, " ")
}

func (s *Session) helping(now time.Time) bool {
	return !s.helpAt.IsZero() && now.Sub(s.helpAt) < helpInterval
}

// actions is the bottom bar, always visible: back, paging and home inside a flow, done on a
// result, the elderly mode switch on home, and on every screen the language switch and the
// staff call.
func (s *Session) actions() []ui.Button {
	var out []ui.Button
	switch s.screen {
	case ScreenCard, ScreenApptEnter:
		out = append(out, ui.Button{ID: "back", Label: s.tr("action.back"), Kind: ui.ButtonSecondary})
	case ScreenCategory:
		page := min(s.page, s.pages()-1)
		if page > 0 {
			out = append(out, ui.Button{ID: "page.prev", Label: s.tr("page.prev"), Kind: ui.ButtonSecondary})
		}
		if page < s.pages()-1 {
			out = append(out, ui.Button{ID: "page.next", Label: s.tr("page.next"), Kind: ui.ButtonPrimary})
		}
	}
	switch s.screen {
	case ScreenAttract, ScreenPrinting:
	case ScreenTicketDone, ScreenExisting, ScreenApptDone, ScreenApptUsed, ScreenPrintFailed:
		out = append(out, ui.Button{ID: "done", Label: s.tr("action.done"), Kind: ui.ButtonPrimary})
	case ScreenHome:
		label := s.tr("action.elderly.on")
		if s.elderly {
			label = s.tr("action.elderly.off")
		}
		out = append(out, ui.Button{ID: "elderly", Label: label, Kind: ui.ButtonPrimary})
	default:
		out = append(out, ui.Button{ID: "home", Label: s.tr("action.home"), Kind: ui.ButtonSecondary})
	}
	// Both stay working over the "need more time?" prompt: a citizen stuck at it can read it
	// in the other language, and can always call staff. The staff call's own button says
	// that it worked, where the citizen is looking (the status bar says so too).
	help := s.tr("action.help")
	if s.helping(s.d.Clock.Now()) {
		help = s.tr("action.help.called")
	}
	return append(out,
		ui.Button{ID: "lang", Label: s.tr("action.lang"), Kind: ui.ButtonSecondary, Modeless: true},
		ui.Button{ID: "help", Label: help, Kind: ui.ButtonDanger, Modeless: true})
}

func (s *Session) attract(sc *ui.Screen) {
	sc.Title, sc.Subtitle = s.tr("attract.title"), s.tr("attract.subtitle")
	sc.Body = append(sc.Body,
		ui.Spacer{MM: 30},
		ui.Text{Text: s.tr("attract.what"), Size: ui.TextLarge, Align: ui.AlignCenter})
	if s.ticketOK() && s.readerOK() {
		sc.Body = append(sc.Body, ui.Spacer{MM: 6}, ui.Text{Text: s.tr("attract.card"), Align: ui.AlignCenter})
	}
	// The attract loop is always in the default language; the other one says, in its own
	// words, that a touch starts (every screen after it has the language switch).
	other := "en"
	if s.lang == "en" {
		other = "zh"
	}
	sc.Body = append(sc.Body, ui.Spacer{MM: 10},
		ui.Text{Text: s.d.Catalog.T(other, "attract.subtitle") + " · " + s.d.Catalog.T(other, "attract.lang"), Align: ui.AlignCenter})
}

func (s *Session) home(sc *ui.Screen) {
	sc.Title = s.tr("home.title")
	// Only flows that exist and can run get a tile; one whose device is out says why and
	// where to go instead.
	var tiles []ui.Tile
	var out []ui.Widget
	if s.d.Tickets != nil && s.d.Hall != nil {
		if s.ticketOK() {
			tiles = append(tiles, ui.Tile{ID: "tile:ticket", Title: s.tr("home.ticket"), Detail: s.tr("home.ticket.detail")})
		} else {
			out = append(out, ui.Notice{Kind: ui.NoticeWarning, Text: s.tr("home.ticket.unavailable")})
		}
	}
	if s.d.Appointments != nil && s.d.Tickets != nil {
		if s.appointmentOK() {
			tiles = append(tiles, ui.Tile{ID: "tile:appointment", Title: s.tr("home.appointment"), Detail: s.tr("home.appointment.detail")})
		} else {
			out = append(out, ui.Notice{Kind: ui.NoticeWarning, Text: s.tr("home.appointment.unavailable")})
		}
	}
	sc.Body = append(sc.Body, out...)
	if len(tiles) == 0 {
		if len(out) == 0 {
			sc.Body = append(sc.Body, ui.Notice{Kind: ui.NoticeWarning, Text: s.tr("home.nothing")})
		}
		return
	}
	sc.Body = append(sc.Body, ui.Tiles{Columns: 2, Items: tiles})
	if s.ticketOK() && s.readerOK() {
		sc.Body = append(sc.Body, ui.Text{Text: s.tr("home.card_hint"), Align: ui.AlignCenter})
	}
}

func (s *Session) categories(sc *ui.Screen) {
	sc.Title, sc.Subtitle = s.tr("category.title"), s.tr("category.subtitle")
	if s.card != nil {
		sc.Body = append(sc.Body, ui.Notice{Kind: ui.NoticeInfo, Text: s.tr("category.card", s.card.maskedName)})
	}
	if len(s.cats) == 0 {
		sc.Body = append(sc.Body, ui.Notice{Kind: ui.NoticeWarning, Text: s.tr("category.none")})
		return
	}
	n := s.pageSize()
	page := min(s.page, s.pages()-1)
	cols := 3
	if s.elderly {
		cols = 2
	}
	tiles := ui.Tiles{Columns: cols}
	for _, c := range s.cats[page*n : min(len(s.cats), (page+1)*n)] {
		t := ui.Tile{ID: "cat:" + c.cat.Code, Title: s.catName(c.cat)}
		switch {
		case s.card == nil && s.cfg.RequireID[c.cat.Code] && !s.readerOK():
			t.Disabled, t.Reason = true, s.tr("category.no_reader")
		case c.estErr:
		case c.est.Ahead == 0:
			t.Detail = s.tr("category.nowait")
		default:
			t.Detail = s.tr("category.wait", c.est.Ahead, minutes(c.est.Wait))
		}
		tiles.Items = append(tiles.Items, t)
	}
	sc.Body = append(sc.Body, tiles)
	if s.pages() > 1 {
		// The page buttons are in the bottom bar, where the body's length cannot push
		// them off screen.
		sc.Body = append(sc.Body, ui.Text{Text: s.tr("page.of", page+1, s.pages()), Align: ui.AlignCenter})
	}
}

func (s *Session) cardScreen(sc *ui.Screen) {
	sc.Title, sc.Subtitle = s.categoryName(s.category), s.tr("card.subtitle")
	sc.Body = append(sc.Body, ui.Spacer{MM: 8})
	if s.cfg.RequireID[s.category] {
		sc.Body = append(sc.Body, ui.Text{Text: s.tr("card.required"), Size: ui.TextLarge, Align: ui.AlignCenter})
		return
	}
	sc.Body = append(sc.Body, ui.Text{Text: s.tr("card.optional"), Size: ui.TextLarge, Align: ui.AlignCenter}, ui.Spacer{MM: 4},
		ui.Buttons{Items: []ui.Button{{ID: "skip", Label: s.tr("card.skip"), Kind: ui.ButtonSecondary}}})
}

// number is the big ticket number under its label, with its category.
func (s *Session) number(label string) []ui.Widget {
	t := s.taken.Ticket
	return []ui.Widget{
		ui.Text{Text: label, Align: ui.AlignCenter},
		ui.Text{Text: t.Number, Size: ui.TextHuge, Align: ui.AlignCenter, Bold: true},
		ui.Text{Text: s.categoryName(t.Category), Size: ui.TextLarge, Align: ui.AlignCenter}}
}

func (s *Session) ahead() ui.Widget {
	est := s.taken.Estimate
	text := s.tr("done.ahead.none")
	if est.Ahead > 0 {
		text = s.tr("done.ahead", est.Ahead, minutes(est.Wait))
	}
	return ui.Text{Text: text, Align: ui.AlignCenter}
}

func (s *Session) qr() ui.Widget {
	content := s.taken.Ticket.Number
	if s.cfg.TicketQR != "" {
		content = fmt.Sprintf(s.cfg.TicketQR, content)
	}
	return ui.QR{Content: content, Caption: s.tr("done.qr"), MinMM: 25}
}

// ticketScreen is a ticket that printed: new, already held, or an appointment's. It stands
// in the middle of the body.
func (s *Session) ticketScreen(sc *ui.Screen) {
	sc.Body = append(sc.Body, ui.Spacer{Flex: true})
	defer func() { sc.Body = append(sc.Body, ui.Spacer{Flex: true}) }()
	switch s.screen {
	case ScreenTicketDone:
		sc.Title, sc.Subtitle = s.tr("done.title"), s.tr("done.subtitle")
	case ScreenExisting:
		sc.Title, sc.Subtitle = s.tr("existing.title"), s.tr("existing.subtitle")
		if s.elderly {
			// The note says again what the title says: in the elderly type it goes on the
			// subtitle's second line rather than in a box the number would not fit under.
			sc.Subtitle = s.tr("existing.subtitle.elderly")
		} else {
			sc.Body = append(sc.Body, ui.Notice{Kind: ui.NoticeInfo, Text: s.tr("existing.note")})
		}
	case ScreenApptDone:
		sc.Title, sc.Subtitle = s.tr("apptdone.title"), s.tr("apptdone.subtitle")
		if s.appt != nil && s.appt.NameMasked != "" {
			sc.Body = append(sc.Body, ui.Text{Text: s.tr("apptdone.name", s.appt.NameMasked), Align: ui.AlignCenter})
		}
	}
	if s.taken == nil {
		return
	}
	// The number beside the place in the queue and the QR code: stacked in one column they
	// would not fit the elderly type.
	place := []ui.Widget{s.ahead(), s.qr()}
	sc.Body = append(sc.Body, ui.Columns{Cols: [][]ui.Widget{s.number(s.tr("done.your_number")), place}})
	if s.taken.Ticket.Priority == queue.PriorityGreen {
		sc.Body = append(sc.Body, ui.Notice{Kind: ui.NoticeSuccess, Text: s.tr("done.green")})
	}
}

// printFailed is a ticket that did not print: a new one, ended so it is never called; one
// the citizen already held, which stands; or one the kiosk could not end either.
// The number stands beside what to do with it, in the middle of the body.
func (s *Session) printFailed(sc *ui.Screen) {
	sc.Body = append(sc.Body, ui.Spacer{Flex: true})
	defer func() { sc.Body = append(sc.Body, ui.Spacer{Flex: true}) }()
	if s.taken != nil && s.taken.Ticket.Existing && !s.taken.Cancelled {
		sc.Title, sc.Subtitle = s.tr("failed.reprint.title"), s.tr("failed.reprint.subtitle")
		sc.Body = append(sc.Body, ui.Notice{Kind: ui.NoticeInfo, Text: s.tr("failed.reprint.note")},
			ui.Columns{Cols: [][]ui.Widget{s.number(s.tr("failed.number")), {s.ahead(), s.qr()}}})
		return
	}
	sc.Title, sc.Subtitle = s.tr("failed.title"), s.tr("failed.subtitle")
	note := s.tr("failed.note")
	if s.taken != nil && !s.taken.Cancelled {
		note = s.tr("failed.open.note")
	}
	sc.Body = append(sc.Body, ui.Notice{Kind: ui.NoticeError, Text: note})
	desk := ui.Text{Text: s.tr("failed.desk"), Align: ui.AlignCenter}
	if s.taken == nil {
		sc.Body = append(sc.Body, desk)
		return
	}
	sc.Body = append(sc.Body, ui.Columns{Cols: [][]ui.Widget{s.number(s.tr("failed.number")), {desk}}})
}

func (s *Session) ticketError(sc *ui.Screen) {
	sc.Title = s.tr("error.title")
	var reason string
	switch s.failure {
	case failClosed:
		reason = s.tr("error.closed")
	case failCap:
		reason = s.tr("error.cap")
	case failRange:
		reason = s.tr("error.range")
	default:
		reason = s.tr("error.other")
	}
	sc.Body = append(sc.Body, ui.Notice{Kind: ui.NoticeWarning, Text: reason},
		ui.Text{Text: s.tr("error.hint"), Align: ui.AlignCenter},
		ui.Buttons{Items: []ui.Button{{ID: "back", Label: s.tr("error.back"), Kind: ui.ButtonPrimary}}})
}

// apptProblem is an appointment that cannot check in now, with the way forward.
func (s *Session) apptProblem(sc *ui.Screen) {
	var slot ui.Widget = ui.Spacer{}
	if s.appt != nil {
		a := s.appt
		slot = ui.Text{Text: s.tr("appt.slot", s.categoryName(a.Category), s.clock(a.Start), s.clock(a.End)), Size: ui.TextLarge, Align: ui.AlignCenter}
	}
	normal := ui.Buttons{Items: []ui.Button{{ID: "normal", Label: s.tr("appt.normal"), Kind: ui.ButtonPrimary}}}
	switch s.screen {
	case ScreenApptEarly:
		from := ""
		if s.appt != nil {
			from = s.clock(s.appt.Start.Add(-s.cfg.EarlyCheckIn))
		}
		sc.Title, sc.Subtitle = s.tr("early.title"), s.tr("early.subtitle", from)
		sc.Body = append(sc.Body, slot, ui.Text{Text: s.tr("early.normal"), Align: ui.AlignCenter}, normal)
	case ScreenApptLate:
		sc.Title, sc.Subtitle = s.tr("late.title"), s.tr("late.subtitle")
		sc.Body = append(sc.Body, slot, ui.Text{Text: s.tr("late.normal"), Align: ui.AlignCenter}, normal)
	case ScreenApptUnknown:
		sc.Title, sc.Subtitle = s.tr("unknown.title"), s.tr("unknown.subtitle")
		sc.Body = append(sc.Body, ui.Text{Text: s.tr("unknown.desk"), Align: ui.AlignCenter},
			ui.Buttons{Items: []ui.Button{{ID: "retype", Label: s.tr("unknown.retype"), Kind: ui.ButtonPrimary}}})
	case ScreenApptUsed:
		sc.Title, sc.Subtitle = s.tr("used.title"), s.tr("used.subtitle")
		sc.Body = append(sc.Body, slot)
		if s.apptTicket != "" {
			sc.Body = append(sc.Body, ui.Text{Text: s.tr("used.ticket"), Align: ui.AlignCenter},
				ui.Text{Text: s.apptTicket, Size: ui.TextHuge, Align: ui.AlignCenter, Bold: true})
		}
		if s.taken != nil && s.taken.Printed {
			sc.Body = append(sc.Body, ui.Notice{Kind: ui.NoticeInfo, Text: s.tr("used.reprinted")})
		}
		sc.Body = append(sc.Body, ui.Text{Text: s.tr("used.desk"), Align: ui.AlignCenter})
	}
}

func (s *Session) clock(t time.Time) string { return t.In(s.cfg.Location).Format("15:04") }
