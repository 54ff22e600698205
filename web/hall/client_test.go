package hall

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hallkiosk/hallkiosk/queue"
)

// TestClient drives a real hall API over a loopback socket the way a terminal-only node does.
func TestClient(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	c := &Client{Base: srv.URL, Token: "term-secret"}

	tk, est, err := c.Issue(ctx, queue.IssueRequest{Category: "A", Source: queue.SourceIDCard, IDHash: strings.Repeat("ab12", 16), MaskedName: "张*"})
	if err != nil || tk.Number != "A001" || tk.State != queue.Waiting || est.Ahead != 0 {
		t.Fatalf("Issue = %+v, %+v, %v; want A001 waiting, 0 ahead", tk, est, err)
	}
	again, _, err := c.Issue(ctx, queue.IssueRequest{Category: "A", Source: queue.SourceIDCard, IDHash: strings.Repeat("ab12", 16)})
	if err != nil || again.Number != "A001" || !again.Existing {
		t.Errorf("second Issue for the same person = %+v, %v; want the existing A001", again, err)
	}
	if est, err := c.Estimate(ctx, "A"); err != nil || est.Ahead != 1 {
		t.Errorf("Estimate(A) = %+v, %v; want 1 ahead", est, err)
	}
	cats, err := c.Categories(ctx)
	if err != nil || len(cats) != 2 || cats[0].NameZH != "社保" || cats[1].NameEN != "Real estate" {
		t.Errorf("Categories = %+v, %v", cats, err)
	}
	ct, err := c.Cancel(ctx, "A001", "print_failed")
	if err != nil || ct.State != queue.Finished || ct.Outcome != queue.Cancelled || ct.Reason != "print_failed" {
		t.Errorf("Cancel = %+v, %v; want finished cancelled print_failed", ct, err)
	}

	for _, tc := range []struct {
		name string
		call func(c *Client) error
		want error
	}{
		{"unknown category", func(c *Client) error { _, _, err := c.Issue(ctx, queue.IssueRequest{Category: "Z"}); return err }, queue.ErrUnknownCategory},
		{"full name refused", func(c *Client) error {
			_, _, err := c.Issue(ctx, queue.IssueRequest{Category: "A", MaskedName: "张三"})
			return err
		}, queue.ErrBadRequest},
		{"cancel unknown", func(c *Client) error { _, err := c.Cancel(ctx, "A999", "x"); return err }, queue.ErrNoTicket},
		{"cancel twice", func(c *Client) error { _, err := c.Cancel(ctx, "A001", "x"); return err }, queue.ErrWrongState},
		{"bad token", func(*Client) error {
			_, _, err := (&Client{Base: srv.URL, Token: "nope"}).Issue(ctx, queue.IssueRequest{Category: "A"})
			return err
		}, nil},
	} {
		err := tc.call(c)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: err = %v; want %v", tc.name, err, tc.want)
		}
	}
}

// TestClientBadHall: a hall node that answers garbage, the wrong shape or nothing is
// unreachable, never a ticket.
func TestClientBadHall(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"garbage", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>proxy login</html>")) }},
		{"wrong shape", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"ok": true}`)) }},
		{"500 html", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }},
	} {
		srv := httptest.NewServer(tc.h)
		_, _, err := (&Client{Base: srv.URL, Token: "t"}).Issue(context.Background(), queue.IssueRequest{Category: "A"})
		srv.Close()
		if !errors.Is(err, ErrUnreachable) {
			t.Errorf("%s: Issue err = %v; want ErrUnreachable", tc.name, err)
		}
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens now
	if _, _, err := (&Client{Base: srv.URL}).Issue(context.Background(), queue.IssueRequest{Category: "A"}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("closed port: err = %v; want ErrUnreachable", err)
	}
}

func TestShowNames(t *testing.T) {
	for _, show := range []bool{false, true} {
		a := &API{Hub: &Hub{}, ShowNames: show}
		ch, cancel := a.Hub.Subscribe()
		a.publish("called", queue.Ticket{Number: "A001", Window: 1, MaskedName: "张*"})
		e := <-ch
		cancel()
		if want := map[bool]string{false: "", true: "张*"}[show]; e.Name != want {
			t.Errorf("ShowNames %v: event name %q; want %q", show, e.Name, want)
		}
	}
}
