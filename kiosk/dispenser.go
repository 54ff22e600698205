// Package kiosk is the terminal application: the citizen's flows over the devices and the
// hall queue.
package kiosk

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/queue"
)

// Issuer takes and cancels tickets: the hall's queue in this process, or the hall node.
type Issuer interface {
	Issue(ctx context.Context, req queue.IssueRequest) (queue.Ticket, queue.Estimate, error)
	Cancel(ctx context.Context, number, reason string) (queue.Ticket, error)
}

// TicketPrinter prints one job and returns nil only when the printer confirmed it.
type TicketPrinter interface {
	Print(ctx context.Context, job []byte) error
}

// ReasonPrintFailed is the cancel reason of a ticket whose print did not complete.
const ReasonPrintFailed = queue.ReasonPrintFailed

// Dispenser is the ticket dispenser (取号机) path: take a ticket, print it, and if the print
// of a new ticket fails, end the ticket so it never counts as waiting.
type Dispenser struct {
	Queue    Issuer
	Printer  TicketPrinter
	Layout   escpos.Layout
	HallName string
	// Names maps a category code to its printed name.
	Names map[string]string
	// Footer is printed at the bottom of every ticket.
	Footer string
	// QR makes the QR content of a ticket (e.g. a tracking URL); nil prints the number.
	QR       func(t queue.Ticket) string
	Location *time.Location
	Log      *slog.Logger
}

// Taken is the outcome of Take.
type Taken struct {
	Ticket   queue.Ticket
	Estimate queue.Estimate
	// Printed is false when the ticket could not be printed; the citizen must be told (the
	// screen shows the number and where to go).
	Printed  bool
	PrintErr error
	// Cancelled is true when a ticket that did not print was ended (print_failed), so it
	// will not be called. A ticket the citizen already held (a reprint) is never ended: the
	// paper they have is still good.
	Cancelled bool
}

// Take issues a ticket and prints it. A print failure is not an error but Taken.Printed
// false. An error means no ticket was issued (closed, cap, unknown category), or, with
// Taken.Ticket set, that a ticket did not print and could not be cancelled either.
func (d *Dispenser) Take(ctx context.Context, req queue.IssueRequest, maskedName string) (Taken, error) {
	if req.MaskedName == "" {
		req.MaskedName = maskedName // the hall display may show it (hall.show_masked_name)
	}
	t, est, err := d.Queue.Issue(ctx, req)
	if err != nil {
		return Taken{}, err
	}
	out := Taken{Ticket: t, Estimate: est}
	name := d.Names[t.Category]
	if name == "" {
		name = t.Category
	}
	qr := t.Number
	if d.QR != nil {
		qr = d.QR(t)
	}
	loc := d.Location
	if loc == nil {
		loc = time.Local
	}
	job, err := escpos.EncodeTicketFor(escpos.Ticket{HallName: d.HallName, CategoryName: name, Number: t.Number,
		Ahead: est.Ahead, EstimatedWait: est.Wait, IssuedAt: t.IssuedAt.In(loc), QR: qr, MaskedName: maskedName,
		Footer: d.Footer}, d.Layout)
	if err == nil {
		err = d.Printer.Print(ctx, job)
	}
	if err == nil {
		out.Printed = true
		return out, nil
	}
	out.PrintErr = err
	if t.Existing {
		// Only the reprint failed: the citizen already holds this ticket (or took it on
		// another terminal) and keeps their place.
		if d.Log != nil {
			d.Log.Warn("existing ticket did not print again; it stands", "ticket", t.Number, "err", err)
		}
		return out, nil
	}
	// The citizen holds no paper: the ticket must not wait for a call nobody will answer.
	// A fresh context, so a cancelled request still cancels the ticket.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ct, cerr := d.Queue.Cancel(cctx, t.Number, ReasonPrintFailed)
	if cerr != nil {
		return out, fmt.Errorf("kiosk: ticket %s did not print (%v) and could not be cancelled: %w", t.Number, err, cerr)
	}
	out.Ticket, out.Cancelled = ct, true
	if d.Log != nil {
		d.Log.Warn("ticket did not print; cancelled", "ticket", t.Number, "err", err)
	}
	return out, nil
}
