package kiosk

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/store"
	"github.com/hallkiosk/hallkiosk/queue"
)

// fakePrinter records jobs and fails with err when set. (The real path, against the
// printer simulator, is in e2e.)
type fakePrinter struct {
	jobs [][]byte
	err  error
}

func (p *fakePrinter) Print(_ context.Context, job []byte) error {
	if p.err != nil {
		return p.err
	}
	p.jobs = append(p.jobs, job)
	return nil
}

func newQueue(t *testing.T) *queue.Queue {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	loc, _ := time.LoadLocation("Asia/Shanghai")
	q, err := queue.New(db, queue.Config{Categories: []queue.Category{{Code: "A", Prefix: "A", Windows: []int{1}}},
		Windows: []queue.Window{{ID: 1}}, Location: loc}, clock.NewFake(time.Date(2026, 11, 23, 9, 0, 0, 0, loc)))
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestTakePrintsTheTicket(t *testing.T) {
	p := &fakePrinter{}
	d := &Dispenser{Queue: newQueue(t), Printer: p, Layout: escpos.Layout{Paper: escpos.Paper80}, Names: map[string]string{"A": "社保"}}
	got, err := d.Take(context.Background(), queue.IssueRequest{Category: "A", Source: queue.SourceWalkIn}, "")
	if err != nil || !got.Printed || got.Ticket.Number != "A001" || got.Ticket.State != queue.Waiting {
		t.Fatalf("Take = %+v, %v; want A001 printed and waiting", got, err)
	}
	if len(p.jobs) != 1 {
		t.Fatalf("printer got %d jobs; want 1", len(p.jobs))
	}
}

func TestTakeCancelsWhatDidNotPrint(t *testing.T) {
	q := newQueue(t)
	d := &Dispenser{Queue: q, Printer: &fakePrinter{err: escpos.ErrPaperOut}, Layout: escpos.Layout{Paper: escpos.Paper58}}
	got, err := d.Take(context.Background(), queue.IssueRequest{Category: "A", Source: queue.SourceWalkIn}, "")
	if err != nil || got.Printed || !got.Cancelled || !errors.Is(got.PrintErr, escpos.ErrPaperOut) {
		t.Fatalf("Take = %+v, %v; want not printed with the printer's reason", got, err)
	}
	if got.Ticket.State != queue.Finished || got.Ticket.Outcome != queue.Cancelled || got.Ticket.Reason != ReasonPrintFailed {
		t.Errorf("ticket after a failed print = %s %s %q; want finished cancelled print_failed", got.Ticket.State, got.Ticket.Outcome, got.Ticket.Reason)
	}
	if st, _ := q.Stats(context.Background()); st.Waiting["A"] != 0 {
		t.Errorf("%d waiting after a failed print; want 0", st.Waiting["A"])
	}
}

func TestTakeRefusedIssuesNothing(t *testing.T) {
	p := &fakePrinter{}
	d := &Dispenser{Queue: newQueue(t), Printer: p, Layout: escpos.Layout{Paper: escpos.Paper80}}
	if _, err := d.Take(context.Background(), queue.IssueRequest{Category: "Z", Source: queue.SourceWalkIn}, ""); !errors.Is(err, queue.ErrUnknownCategory) {
		t.Errorf("Take(unknown category) = %v; want ErrUnknownCategory", err)
	}
	if len(p.jobs) != 0 {
		t.Error("something was printed for a refused ticket")
	}
}

// A reprint that fails leaves the ticket the citizen already holds as it was: their paper is
// still good, and cancelling it would cost them their place.
func TestTakeKeepsAHeldTicketWhoseReprintFailed(t *testing.T) {
	q := newQueue(t)
	p := &fakePrinter{}
	d := &Dispenser{Queue: q, Printer: p, Layout: escpos.Layout{Paper: escpos.Paper80}}
	req := queue.IssueRequest{Category: "A", Source: queue.SourceIDCard, IDHash: strings.Repeat("a1", 32)}
	if got, err := d.Take(context.Background(), req, ""); err != nil || !got.Printed {
		t.Fatalf("first Take = %+v, %v; want printed", got, err)
	}
	p.err = escpos.ErrPaperOut
	got, err := d.Take(context.Background(), req, "")
	if err != nil || got.Printed || got.Cancelled || !got.Ticket.Existing || got.Ticket.Number != "A001" || got.Ticket.State != queue.Waiting {
		t.Fatalf("Take again with paper out = %+v, %v; want A001 existing, still waiting, not printed, not cancelled", got, err)
	}
	if st, _ := q.Stats(context.Background()); st.Waiting["A"] != 1 {
		t.Errorf("%d waiting after a failed reprint; want 1", st.Waiting["A"])
	}
}

// cancelFails is an Issuer whose Cancel cannot reach the queue (a hall node gone).
type cancelFails struct{ Issuer }

func (cancelFails) Cancel(context.Context, string, string) (queue.Ticket, error) {
	return queue.Ticket{}, errors.New("hall node unreachable")
}

func TestTakeReportsATicketItCouldNotCancel(t *testing.T) {
	d := &Dispenser{Queue: cancelFails{newQueue(t)}, Printer: &fakePrinter{err: escpos.ErrPaperOut}, Layout: escpos.Layout{Paper: escpos.Paper80}}
	got, err := d.Take(context.Background(), queue.IssueRequest{Category: "A", Source: queue.SourceWalkIn}, "")
	if err == nil || got.Ticket.Number != "A001" || got.Printed || got.Cancelled {
		t.Fatalf("Take = %+v, %v; want an error, A001, neither printed nor cancelled", got, err)
	}
}
