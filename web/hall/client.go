package hall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/queue"
)

// Client is a terminal's side of the hall LAN API, for a terminal whose queue runs on
// another node (the hall node). It satisfies the same Issue/Cancel contract as *API, so a
// dispenser does not care where the queue is; the queue's sentinel errors come back as the
// same errors (errors.Is(err, queue.ErrClosed) works across the LAN).
type Client struct {
	Base  string // e.g. http://10.0.0.2:8081
	Token string // a terminal token
	HTTP  *http.Client
}

// ErrUnreachable wraps every failure to get an answer of the API's shape from the hall node.
var ErrUnreachable = errors.New("hall: hall node unreachable")

// Issue implements the dispenser's Issuer over HTTP.
func (c *Client) Issue(ctx context.Context, req queue.IssueRequest) (queue.Ticket, queue.Estimate, error) {
	body := issueReq{Category: req.Category, Source: req.Source, IDHash: req.IDHash, Priority: req.Priority,
		AppointmentID: req.AppointmentID, MaskedName: req.MaskedName}
	var res IssueResponse
	if err := c.do(ctx, http.MethodPost, "/hall/v1/tickets", body, &res); err != nil {
		return queue.Ticket{}, queue.Estimate{}, err
	}
	t, err := res.TicketJSON.ticket()
	return t, queue.Estimate{Ahead: res.Ahead, Wait: time.Duration(res.EstimatedWaitS) * time.Second}, err
}

// Cancel implements the dispenser's Issuer over HTTP.
func (c *Client) Cancel(ctx context.Context, number, reason string) (queue.Ticket, error) {
	var res TicketJSON
	if err := c.do(ctx, http.MethodPost, "/hall/v1/tickets/"+url.PathEscape(number)+"/cancel", map[string]string{"reason": reason}, &res); err != nil {
		return queue.Ticket{}, err
	}
	return res.ticket()
}

// Estimate is the people ahead and expected wait of a new ticket in category.
func (c *Client) Estimate(ctx context.Context, category string) (queue.Estimate, error) {
	var res struct {
		Ahead          int   `json:"ahead"`
		EstimatedWaitS int64 `json:"estimated_wait_s"`
	}
	if err := c.do(ctx, http.MethodGet, "/hall/v1/estimate?category="+url.QueryEscape(category), nil, &res); err != nil {
		return queue.Estimate{}, err
	}
	return queue.Estimate{Ahead: res.Ahead, Wait: time.Duration(res.EstimatedWaitS) * time.Second}, nil
}

// Categories reads the hall's categories (code and names) from the board.
func (c *Client) Categories(ctx context.Context) ([]queue.Category, error) {
	var res struct {
		Categories []struct {
			Code   string `json:"code"`
			NameZH string `json:"name_zh"`
			NameEN string `json:"name_en"`
		} `json:"categories"`
	}
	if err := c.do(ctx, http.MethodGet, "/hall/v1/board", nil, &res); err != nil {
		return nil, err
	}
	out := make([]queue.Category, 0, len(res.Categories))
	for _, cat := range res.Categories {
		out = append(out, queue.Category{Code: cat.Code, Prefix: cat.Code, NameZH: cat.NameZH, NameEN: cat.NameEN})
	}
	return out, nil
}

// maxAnswer bounds what the client reads from the hall node.
const maxAnswer = 1 << 20

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("hall: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Base, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("hall: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%w: reading the answer: %v", ErrUnreachable, err)
	}
	if resp.StatusCode >= 300 {
		var e apiError
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			return fmt.Errorf("%w: %s %s: HTTP %d", ErrUnreachable, method, path, resp.StatusCode)
		}
		for _, m := range errorCodes {
			if m.code == e.Error.Code {
				return fmt.Errorf("%w (hall node: %s)", m.err, e.Error.Message)
			}
		}
		return fmt.Errorf("hall: %s %s: %s: %s", method, path, e.Error.Code, e.Error.Message)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %s %s: answer is not the API's JSON: %v", ErrUnreachable, method, path, err)
	}
	return nil
}

// ticket turns the API's view of a ticket back into the queue's; what the API does not
// carry (the ID hash, periods other than waiting and serving) stays zero.
func (j TicketJSON) ticket() (queue.Ticket, error) {
	if j.Ticket == "" || j.State == "" {
		return queue.Ticket{}, fmt.Errorf("%w: answer has no ticket", ErrUnreachable)
	}
	t := queue.Ticket{Number: j.Ticket, Category: j.Category, State: queue.State(j.State), Outcome: queue.Outcome(j.Outcome),
		Reason: j.Reason, Priority: j.Priority, Source: j.Source, Window: j.Window, CallCount: j.CallCount,
		Wait: time.Duration(j.WaitS) * time.Second, Serve: time.Duration(j.ServeS) * time.Second, Existing: j.Existing}
	if j.IssuedAt != "" {
		at, err := time.Parse(time.RFC3339, j.IssuedAt)
		if err != nil {
			return queue.Ticket{}, fmt.Errorf("%w: issued_at %q: %v", ErrUnreachable, j.IssuedAt, err)
		}
		t.IssuedAt = at
	}
	return t, nil
}
