package kiosk

import (
	"context"
	"log/slog"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/queue"
	"github.com/hallkiosk/hallkiosk/ui"
)

// Taker takes a ticket and prints it; *Dispenser is the real one.
type Taker interface {
	Take(ctx context.Context, req queue.IssueRequest, maskedName string) (Taken, error)
}

var _ Taker = (*Dispenser)(nil)

// HallInfo is what the category screen shows: the hall's categories and their estimates.
type HallInfo interface {
	Categories() []queue.Category
	Estimate(ctx context.Context, category string) (queue.Estimate, error)
}

// Light is the terminal's status light. Help(true) makes it blink to draw staff, Help(false)
// returns it to normal. It must not block.
type Light interface{ Help(on bool) }

// Alerts raises a hall alert (cmd/kioskd writes the outbox event hall.help_requested).
// It is called on the session's goroutine and must return quickly.
type Alerts interface {
	HelpRequested(ctx context.Context, terminal, screen string) error
}

// Voice speaks a prompt in elderly mode. It must not block (queue and return), and it is only
// ever given fixed instructions from the catalogue, never names or ID numbers.
type Voice interface{ Prompt(lang, text string) }

// Deps are the session's collaborators. Light, Alerts, Voice, Online, Health, Appointments
// and Log may be nil.
type Deps struct {
	Clock        clock.Clock
	Catalog      *ui.Catalog // nil: the embedded kiosk/messages
	Tickets      Taker
	Hall         HallInfo
	Appointments *AppointmentBook
	Health       func() []health.Status
	Light        Light
	Alerts       Alerts
	Voice        Voice
	Online       func() bool
	IDKey        []byte // HMAC key for idnum.Hash
	Log          *slog.Logger
}

// Config is the terminal's session configuration; zero durations take the defaults.
type Config struct {
	Terminal   string // terminal id, sent with help requests
	HallName   string // shown in the status bar
	HallNameEN string // shown instead on English screens; empty: HallName
	// RequireID lists the categories that need an ID card; others may skip the card.
	RequireID map[string]bool
	// Idle is how long without input before the "need more time?" prompt (default 60 s);
	// ElderlyIdle the same in elderly mode (default 180 s); MoreTime how long that prompt
	// waits for an answer before ending the session (default 20 s, doubled in elderly mode).
	Idle, ElderlyIdle, MoreTime time.Duration
	// Done is how long a result screen (ticket taken, checked in) stays before the session
	// ends by itself (default 20 s, doubled in elderly mode).
	Done time.Duration
	// EarlyCheckIn is how long before its slot an appointment may check in (default 30 min),
	// LateGrace how long after the slot's end (default 15 min).
	EarlyCheckIn, LateGrace time.Duration
	// GreenAge: a card holder at least this old (from the birth date in the ID number) gets the
	// green channel (绿色通道), called before other walk-ins. Default 60 (老年人权益保障法);
	// negative turns it off.
	GreenAge int
	// TicketQR is the QR content of a ticket on screen: a fmt pattern with one %s for the
	// number (e.g. a progress URL); empty means the number itself.
	TicketQR string
	// PrinterComponent is the health component of the ticket printer, e.g. "printer".
	PrinterComponent string
	// ReaderComponent is the health component of the ID-card reader (default "idcard");
	// NoReader says this kiosk has none. While the reader is down or absent, categories
	// that need the card show as unavailable with the reason, the others skip the card
	// step, and no screen asks for a card.
	ReaderComponent string
	NoReader        bool
	// Location is the hall's time zone for the clock and check-in times (default
	// Asia/Shanghai).
	Location *time.Location
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Idle, 60*time.Second)
	def(&c.ElderlyIdle, 180*time.Second)
	def(&c.MoreTime, 20*time.Second)
	def(&c.Done, 20*time.Second)
	def(&c.EarlyCheckIn, 30*time.Minute)
	def(&c.LateGrace, 15*time.Minute)
	if c.GreenAge == 0 {
		c.GreenAge = 60
	}
	if c.PrinterComponent == "" {
		c.PrinterComponent = "printer"
	}
	if c.ReaderComponent == "" {
		c.ReaderComponent = "idcard"
	}
	if c.Location == nil {
		if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
			c.Location = loc
		} else {
			c.Location = time.FixedZone("CST", 8*3600)
		}
	}
	return c
}
