package kiosk

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
	"github.com/hallkiosk/hallkiosk/queue"
)

// The ticket flow: category -> ID card (or skip) -> printing -> done, print failed,
// existing ticket or error.

func (s *Session) enterCategories(ctx context.Context) {
	s.screen, s.page, s.category, s.failure = ScreenCategory, 0, "", failNone
	s.loadCategories(ctx)
}

// loadCategories snapshots the categories and their estimates for the category screen.
func (s *Session) loadCategories(ctx context.Context) {
	s.cats = s.cats[:0]
	if s.d.Hall == nil {
		return
	}
	for _, c := range s.d.Hall.Categories() {
		est, err := s.d.Hall.Estimate(ctx, c.Code)
		if err != nil {
			s.log.Debug("no estimate", "category", c.Code, "err", err)
		}
		s.cats = append(s.cats, catInfo{cat: c, est: est, estErr: err != nil})
	}
}

// pageSize is 3x3 tiles, or 2x2 in elderly mode.
func (s *Session) pageSize() int {
	if s.elderly {
		return 4
	}
	return 9
}

func (s *Session) pages() int { return max(1, (len(s.cats)+s.pageSize()-1)/s.pageSize()) }

func (s *Session) tapTicket(ctx context.Context, id string) {
	switch {
	case s.screen == ScreenCategory && id == "page.next":
		s.page = min(s.page+1, s.pages()-1)
	case s.screen == ScreenCategory && id == "page.prev":
		s.page = max(s.page-1, 0)
	case s.screen == ScreenCategory && strings.HasPrefix(id, "cat:"):
		s.chooseCategory(strings.TrimPrefix(id, "cat:"))
	case s.screen == ScreenCard && id == "skip":
		// A category that needs the card has no skip button; a stray event changes nothing.
		if !s.cfg.RequireID[s.category] {
			s.request(queue.IssueRequest{Category: s.category, Source: queue.SourceWalkIn}, "")
		}
	case (s.screen == ScreenCard || s.screen == ScreenTicketError) && id == "back":
		s.enterCategories(ctx)
	}
}

func (s *Session) chooseCategory(code string) {
	for _, c := range s.cats {
		if c.cat.Code != code {
			continue
		}
		switch {
		case s.card != nil:
			s.category = code
			s.requestWithCard()
		case s.readerOK():
			s.category = code
			s.screen = ScreenCard
		case s.cfg.RequireID[code]:
			// The tile says why it cannot be taken here; a stray tap changes nothing.
		default:
			// No card can be read: asking for one would only hold the citizen up.
			s.category = code
			s.request(queue.IssueRequest{Category: code, Source: queue.SourceWalkIn}, "")
		}
		return
	}
}

func (s *Session) requestWithCard() {
	req := queue.IssueRequest{Category: s.category, Source: queue.SourceIDCard, IDHash: s.card.hash}
	if s.card.green {
		req.Priority = queue.PriorityGreen
	}
	s.request(req, s.card.maskedName)
}

// request queues a ticket for Continue and shows the printing screen meanwhile.
func (s *Session) request(req queue.IssueRequest, maskedName string) {
	s.req, s.maskedName, s.screen = &req, maskedName, ScreenPrinting
}

// cardPlaced takes an ID card: on the attract or home screen it starts the ticket flow, in
// the ticket flow it is the citizen's card; everywhere else it is ignored.
func (s *Session) cardPlaced(ctx context.Context, now time.Time, ev CardPlaced) {
	if !s.moreUntil.IsZero() {
		return
	}
	switch s.screen {
	case ScreenAttract, ScreenHome, ScreenCategory, ScreenCard:
	default:
		s.log.Debug("card ignored", "screen", s.screen)
		return
	}
	if s.screen == ScreenAttract {
		s.wake(now, ScreenHome)
	}
	s.lastInput, s.cardFailed = now, false
	id := idnum.Normalize(ev.IDNumber)
	if id == "" {
		s.cardFailed = s.screen != ScreenHome
		return
	}
	if s.screen == ScreenHome && !s.ticketOK() {
		return // home explains why there is no ticket
	}
	if s.card != nil {
		*s.card = card{}
	}
	age := ageOn(id, now.In(s.cfg.Location))
	s.card = &card{hash: idnum.Hash(s.d.IDKey, id), maskedID: idnum.MaskID(id), maskedName: idnum.MaskName(ev.Name),
		green: s.cfg.GreenAge > 0 && age >= s.cfg.GreenAge}
	s.log.Info("card read", "card", s.card)
	switch s.screen {
	case ScreenHome:
		s.enterCategories(ctx)
	case ScreenCard:
		s.requestWithCard()
	}
}

// take issues and prints the requested ticket (Continue).
func (s *Session) take(ctx context.Context) {
	req := *s.req
	name := s.maskedName
	s.req, s.maskedName = nil, ""
	if s.d.Tickets == nil {
		s.failure, s.screen = failOther, ScreenTicketError
		return
	}
	taken, err := s.d.Tickets.Take(ctx, req, name)
	appt := req.Source == queue.SourceAppointment
	switch {
	case taken.Ticket.Number != "" && !taken.Printed:
		// Not printed: a new ticket was cancelled by the dispenser (or, with err, not even
		// that: staff sort it out); one the citizen already held still stands.
		s.taken, s.screen = &taken, ScreenPrintFailed
		s.log.Warn("ticket did not print", "ticket", taken.Ticket.Number, "print_err", taken.PrintErr, "err", err)
	case err != nil:
		s.failure, s.screen = classify(err), ScreenTicketError
		s.log.Info("no ticket", "category", req.Category, "err", err)
	case appt && taken.Ticket.Existing:
		s.taken, s.apptTicket, s.screen = &taken, taken.Ticket.Number, ScreenApptUsed
		s.markUsed(req.AppointmentID, taken.Ticket.Number)
	case appt:
		s.taken, s.screen = &taken, ScreenApptDone
		s.markUsed(req.AppointmentID, taken.Ticket.Number)
		s.log.Info("appointment checked in", "ticket", taken.Ticket.Number, "category", req.Category)
	case taken.Ticket.Existing:
		s.taken, s.screen = &taken, ScreenExisting
		s.log.Info("existing ticket reprinted", "ticket", taken.Ticket.Number)
	default:
		s.taken, s.screen = &taken, ScreenTicketDone
		s.log.Info("ticket taken", "ticket", taken.Ticket.Number, "category", req.Category, "source", req.Source)
	}
}

func (s *Session) markUsed(id, ticket string) {
	if s.d.Appointments != nil {
		s.d.Appointments.MarkUsed(id, ticket)
	}
}

func classify(err error) failure {
	switch {
	case errors.Is(err, queue.ErrClosed):
		return failClosed
	case errors.Is(err, queue.ErrDailyCap):
		return failCap
	case errors.Is(err, queue.ErrRangeExhausted):
		return failRange
	}
	return failOther
}

// categoryName is the category's name in the session's language.
func (s *Session) categoryName(code string) string {
	var cats []queue.Category
	for _, c := range s.cats {
		cats = append(cats, c.cat)
	}
	if len(cats) == 0 && s.d.Hall != nil {
		cats = s.d.Hall.Categories()
	}
	for _, c := range cats {
		if c.Code == code {
			return s.catName(c)
		}
	}
	return code
}

func (s *Session) catName(c queue.Category) string {
	if s.lang == "en" && c.NameEN != "" {
		return c.NameEN
	}
	if c.NameZH != "" {
		return c.NameZH
	}
	return c.Code
}

func minutes(d time.Duration) int { return int((d + time.Minute - 1) / time.Minute) }
