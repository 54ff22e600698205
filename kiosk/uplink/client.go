// Package uplink is the node's side of the uplink contract (shared/docs/UPLINK.md): the
// outbox senders, the pulls with ETags, live calls, and enrolment.
package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client talks to the platform. It is safe for concurrent use. All methods classify what
// went wrong so callers never mistake a failure for an answer:
//   - ErrUnauthorized (401/403): stop, keep everything, raise uplink.unauthorized;
//   - *RetryError: 408, 429, 5xx, a network error, or an answer that is not the contract's
//     shape; retry later, after RetryError.After when the platform said so (Retry-After);
//   - *APIError: any other non-2xx answer with the contract's error body (e.g. 400, 404, 409).
type Client struct {
	Base  string // e.g. https://platform.example.gov.cn (no trailing slash needed)
	Node  string // node id
	Token string // bearer token from enrolment; "" only for Enrol
	HTTP  *http.Client
	// Accepted, if set, learns which requests the platform took the token of: it is called
	// as each request with a token starts, and the func it returns (nil: none) is called if
	// the answer is 2xx or 304. kioskd sets it to Sender.TokenAccepted so that a pull that
	// succeeds ends a refusal (401/403) that was only a blip.
	Accepted func(token string) (answered func())
}

// ErrUnauthorized is a 401 or 403 answer.
var ErrUnauthorized = errors.New("uplink: the platform refused this node's token (401/403)")

// RetryError is a failed attempt worth retrying.
type RetryError struct {
	Status int           // HTTP status, 0 for a network error or a bad answer
	After  time.Duration // from Retry-After; 0 when absent
	Err    error
}

func (e *RetryError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("uplink: HTTP %d: %v", e.Status, e.Err)
	}
	return "uplink: " + e.Err.Error()
}

func (e *RetryError) Unwrap() error { return e.Err }

// APIError is a non-retryable answer with the contract's error body.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("uplink: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// maxAnswer bounds what the client reads from one JSON answer.
const maxAnswer = 16 << 20

// Response is a raw answer for callers that need headers (ETag) or non-JSON bodies.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends one request. body is JSON-encoded unless it is an io.Reader (sent as is with the
// given contentType). A 2xx or 304 answer is returned; everything else is classified (see
// Client). The answer body is read in full, up to 16 MiB.
func (c *Client) Do(ctx context.Context, method, path string, body any, contentType string, header http.Header) (*Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("uplink: encoding %s %s: %w", method, path, err)
		}
		rd, contentType = bytes.NewReader(enc), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Base, "/")+path, rd)
	if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	accepted := c.accepted()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &RetryError{Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, &RetryError{Status: resp.StatusCode, Err: fmt.Errorf("reading the answer: %w", err)}
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300, s == http.StatusNotModified:
		accepted()
		return r, nil
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return r, ErrUnauthorized
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		return r, &RetryError{Status: s, After: retryAfter(resp.Header.Get("Retry-After"), time.Now()), Err: errorText(b)}
	default:
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			// Not the contract's error shape: a proxy or a broken platform. Try again later.
			return r, &RetryError{Status: s, Err: fmt.Errorf("answer is not the contract's error body: %.80q", b)}
		}
		return r, &APIError{Status: s, Code: e.Error.Code, Message: e.Error.Message}
	}
}

// JSON sends body as JSON and decodes a 2xx answer into out (unknown fields are allowed,
// as the contract lets the platform add fields; a body that is not a JSON object, or has
// a field of the wrong type, is a RetryError). Decoding cannot tell a missing field from
// a zero one: callers check the fields they need, e.g. with a pointer field.
func (c *Client) JSON(ctx context.Context, method, path string, body, out any) error {
	r, err := c.Do(ctx, method, path, body, "", nil)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	// Every answer of the contract is an object; null would decode as a zero answer.
	if b := bytes.TrimLeft(r.Body, " \t\r\n"); len(b) == 0 || b[0] != '{' {
		return &RetryError{Status: r.Status, Err: fmt.Errorf("%s %s: answer is not a JSON object: %.80q", method, path, r.Body)}
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		return &RetryError{Status: r.Status, Err: fmt.Errorf("%s %s: answer is not JSON of the contract's shape: %v", method, path, err)}
	}
	return nil
}

// withoutTimeout is c with an HTTP client that has no overall Timeout, for an exchange
// whose deadline the caller sets by context because it depends on the size of the body
// (a material upload on a slow link). The transport is shared.
func (c *Client) withoutTimeout() *Client {
	cc := *c
	if c.HTTP != nil && c.HTTP.Timeout != 0 {
		hc := *c.HTTP
		hc.Timeout = 0
		cc.HTTP = &hc
	}
	return &cc
}

// accepted starts the Accepted hook for one request; the func it returns is never nil.
// A 304 counts: the platform checks the token before it compares ETags.
func (c *Client) accepted() func() {
	if c.Accepted != nil && c.Token != "" {
		if f := c.Accepted(c.Token); f != nil {
			return f
		}
	}
	return func() {}
}

func errorText(b []byte) error {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
		return fmt.Errorf("%s: %s", e.Error.Code, e.Error.Message)
	}
	return fmt.Errorf("%.80q", b)
}

// retryAfter reads Retry-After as seconds or an HTTP date; 0 if absent or unreadable,
// capped at one hour so a wrong header cannot silence a hall for a day.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, time.Hour))
}
