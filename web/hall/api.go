// Package hall serves the hall LAN's JSON API over the queue: terminals take tickets,
// windows call and serve them. See API.md beside this file.
package hall

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/voice"
	"github.com/hallkiosk/hallkiosk/queue"
)

// Tokens are the bearer tokens the API accepts. Terminals (ticket dispensers) hold a
// terminal token; each window's staff console holds its window's token, which allows the
// operations of that window only; a manager token allows the hall reset.
type Tokens struct {
	Terminal []string
	Manager  []string
	Windows  map[int]string
}

// API is the hall LAN API's handler set.
type API struct {
	Queue  *queue.Queue
	Tokens Tokens
	// Hub carries live updates to the console and display pages (may be nil).
	Hub *Hub
	// HallName is shown on the display.
	HallName string
	// Speaker makes call announcements; nil means the chime only.
	Speaker *voice.Speaker
	// ShowNames puts the masked name (张*) of a ticket taken with an ID card next to its call
	// on the display ([hall] show_masked_name). Names are never announced.
	ShowNames bool
}

// maxBody bounds every request body: nothing a client sends can make the node buffer more.
const maxBody = 16 << 10

// Handler returns the routes under /hall/v1/.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hall/v1/tickets", a.terminal(a.issue))
	mux.HandleFunc("POST /hall/v1/tickets/{number}/cancel", a.terminal(a.cancel))
	mux.HandleFunc("GET /hall/v1/tickets/{number}", a.anyone(a.ticket))
	mux.HandleFunc("GET /hall/v1/estimate", a.anyone(a.estimate))
	mux.HandleFunc("GET /hall/v1/status", a.anyone(a.status))
	mux.HandleFunc("POST /hall/v1/windows/{window}/{op}", a.window)
	mux.HandleFunc("POST /hall/v1/reset", a.manager(a.reset))
	// Read-only and free of personal data (ticket numbers and windows only), for the hall's
	// big screen, which has no token.
	mux.HandleFunc("GET /hall/v1/events", a.hub().serveEvents)
	mux.HandleFunc("GET /hall/v1/announcement", a.announcement)
	mux.HandleFunc("GET /hall/v1/board", a.board)
	mux.HandleFunc("GET /hall/display", a.displayPage)
	mux.HandleFunc("GET /hall/console", a.consolePage)
	mux.HandleFunc(catchAll, noRoute(mux))
	return mux
}

// decode reads a JSON body strictly: unknown fields and trailing data are errors.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !(errors.Is(err, io.EOF) && r.ContentLength <= 0) {
		writeError(w, http.StatusBadRequest, "bad_json", "request body: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad_json", "request body: one JSON object expected")
		return false
	}
	return true
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// match compares in constant time, over hashes so the token length does not leak either.
func match(got, want string) bool {
	if got == "" || want == "" {
		return false
	}
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

func anyOf(got string, want []string) bool {
	ok := false
	for _, w := range want {
		ok = match(got, w) || ok
	}
	return ok
}

func unauthorized(w http.ResponseWriter, what string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="hall"`)
	writeError(w, http.StatusUnauthorized, "unauthorized", "a valid "+what+" token is required (Authorization: Bearer ...)")
}

func (a *API) terminal(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !anyOf(bearer(r), a.Tokens.Terminal) {
			unauthorized(w, "terminal")
			return
		}
		h(w, r)
	}
}

func (a *API) manager(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !anyOf(bearer(r), a.Tokens.Manager) {
			unauthorized(w, "manager")
			return
		}
		h(w, r)
	}
}

// anyone admits any valid token: terminal, manager or window.
func (a *API) anyone(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := bearer(r)
		ok := anyOf(t, a.Tokens.Terminal) || anyOf(t, a.Tokens.Manager)
		for _, wt := range a.Tokens.Windows {
			ok = match(t, wt) || ok
		}
		if !ok {
			unauthorized(w, "hall")
			return
		}
		h(w, r)
	}
}

// TicketJSON is a ticket as the API shows it. No personal data: the ID hash stays inside.
type TicketJSON struct {
	Ticket    string `json:"ticket"`
	Category  string `json:"category"`
	State     string `json:"state"`
	Outcome   string `json:"outcome,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Priority  string `json:"priority,omitempty"`
	Source    string `json:"source"`
	Window    int    `json:"window,omitempty"`
	CallCount int    `json:"call_count,omitempty"`
	IssuedAt  string `json:"issued_at"`
	WaitS     int64  `json:"wait_s"`
	ServeS    int64  `json:"serve_s"`
	Existing  bool   `json:"existing,omitempty"`
}

// ticketJSON shows t with its periods counted up to now (a waiting ticket's wait so far).
func (a *API) ticketJSON(t queue.Ticket) TicketJSON {
	t = a.Queue.Elapsed(t)
	return TicketJSON{Ticket: t.Number, Category: t.Category, State: string(t.State), Outcome: string(t.Outcome),
		Reason: t.Reason, Priority: t.Priority, Source: t.Source, Window: t.Window, CallCount: t.CallCount,
		IssuedAt: t.IssuedAt.Format(time.RFC3339), WaitS: int64(t.Wait.Seconds()), ServeS: int64(t.Serve.Seconds()),
		Existing: t.Existing}
}

// Issue takes a ticket through the queue and tells live pages, for callers in the same
// process (a standalone kiosk's dispenser).
func (a *API) Issue(ctx context.Context, req queue.IssueRequest) (queue.Ticket, queue.Estimate, error) {
	t, est, err := a.Queue.Issue(ctx, req)
	if err == nil && !t.Existing {
		a.publish("issued", t)
	}
	return t, est, err
}

// Cancel ends a ticket as cancelled with reason and tells live pages (staff see a
// print_failed ticket on their consoles).
func (a *API) Cancel(ctx context.Context, number, reason string) (queue.Ticket, error) {
	t, err := a.Queue.Cancel(ctx, number, reason)
	if err == nil {
		a.publish("finished", t)
	}
	return t, err
}

type issueReq struct {
	Category      string `json:"category"`
	Source        string `json:"source"`
	IDHash        string `json:"id_hash"`
	Priority      string `json:"priority"`
	AppointmentID string `json:"appointment_id"`
	MaskedName    string `json:"masked_name"`
}

// IssueResponse is the answer to POST /hall/v1/tickets.
type IssueResponse struct {
	TicketJSON
	Ahead          int   `json:"ahead"`
	EstimatedWaitS int64 `json:"estimated_wait_s"`
}

func (a *API) issue(w http.ResponseWriter, r *http.Request) {
	var req issueReq
	if !decode(w, r, &req) {
		return
	}
	if req.Source == "" {
		req.Source = queue.SourceWalkIn
	}
	t, est, err := a.Issue(r.Context(), queue.IssueRequest{Category: req.Category, Source: req.Source,
		IDHash: req.IDHash, Priority: req.Priority, AppointmentID: req.AppointmentID, MaskedName: req.MaskedName})
	if err != nil {
		queueError(w, err)
		return
	}
	status := http.StatusCreated
	if t.Existing {
		status = http.StatusOK
	}
	writeJSON(w, status, IssueResponse{TicketJSON: a.ticketJSON(t), Ahead: est.Ahead, EstimatedWaitS: int64(est.Wait.Seconds())})
}

func (a *API) cancel(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Reason == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "reason is required, e.g. \"print_failed\"")
		return
	}
	t, err := a.Cancel(r.Context(), r.PathValue("number"), req.Reason)
	if err != nil {
		queueError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a.ticketJSON(t))
}

func (a *API) ticket(w http.ResponseWriter, r *http.Request) {
	t, err := a.Queue.Ticket(r.Context(), r.PathValue("number"))
	if err != nil {
		queueError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a.ticketJSON(t))
}

func (a *API) estimate(w http.ResponseWriter, r *http.Request) {
	est, err := a.Queue.Estimate(r.Context(), r.URL.Query().Get("category"))
	if err != nil {
		queueError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"category": r.URL.Query().Get("category"), "ahead": est.Ahead,
		"estimated_wait_s": int64(est.Wait.Seconds())})
}

// WindowJSON is one window in /hall/v1/status. Ticket and Since are absent when it is idle.
type WindowJSON struct {
	ID     int    `json:"id"`
	State  string `json:"state"` // idle, called or serving
	Ticket string `json:"ticket,omitempty"`
	Since  string `json:"since,omitempty"` // RFC 3339, hall-local: when the state began
}

// PrintFailureJSON is a ticket of today that did not print and was cancelled.
type PrintFailureJSON struct {
	Ticket   string `json:"ticket"`
	Category string `json:"category"`
	At       string `json:"at"` // RFC 3339, hall-local
}

// StatusJSON is the answer to GET /hall/v1/status. The queue's Stats has no JSON names of
// its own, so the API's shape is spelled out here and does not change when Stats does.
type StatusJSON struct {
	BusinessDate  string             `json:"business_date"`
	Waiting       map[string]int     `json:"waiting"`
	LongestWaitS  map[string]int64   `json:"longest_wait_s"`
	Parked        int                `json:"parked"`
	Served        int                `json:"served"`
	NoShows       int                `json:"no_shows"`
	Windows       []WindowJSON       `json:"windows"`
	PrintFailures []PrintFailureJSON `json:"print_failures"`
}

func (a *API) statusJSON(st queue.Stats) StatusJSON {
	loc := a.location()
	s := StatusJSON{BusinessDate: st.BusinessDate, Waiting: st.Waiting, LongestWaitS: map[string]int64{},
		Parked: st.Parked, Served: st.Served, NoShows: st.NoShows,
		Windows: []WindowJSON{}, PrintFailures: []PrintFailureJSON{}}
	if s.Waiting == nil {
		s.Waiting = map[string]int{}
	}
	for c, d := range st.LongestWait {
		s.LongestWaitS[c] = int64(d.Seconds())
	}
	for _, w := range st.Windows {
		j := WindowJSON{ID: w.ID, State: w.State, Ticket: w.Ticket}
		if w.Ticket != "" && !w.Since.IsZero() {
			j.Since = w.Since.In(loc).Format(time.RFC3339)
		}
		s.Windows = append(s.Windows, j)
	}
	for _, f := range st.PrintFailures {
		s.PrintFailures = append(s.PrintFailures, PrintFailureJSON{Ticket: f.Number, Category: f.Category,
			At: f.At.In(loc).Format(time.RFC3339)})
	}
	return s
}

func (a *API) status(w http.ResponseWriter, r *http.Request) {
	st, err := a.Queue.Stats(r.Context())
	if err != nil {
		queueError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a.statusJSON(st))
}

// location is the hall's time zone.
func (a *API) location() *time.Location {
	if loc := a.Queue.Config().Location; loc != nil {
		return loc
	}
	return time.Local
}

func (a *API) reset(w http.ResponseWriter, r *http.Request) {
	n, err := a.Queue.HallReset(r.Context())
	if err != nil {
		queueError(w, err)
		return
	}
	a.hub().Publish(Event{Type: "reset"})
	writeJSON(w, http.StatusOK, map[string]int{"reset": n})
}

// window runs one window operation; the token must be that window's.
func (a *API) window(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("window"))
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("window %q is not a window number", r.PathValue("window")))
		return
	}
	if want, ok := a.Tokens.Windows[id]; !ok || !match(bearer(r), want) {
		unauthorized(w, fmt.Sprintf("window %d", id))
		return
	}
	var req struct {
		Number   string `json:"ticket"`
		Category string `json:"category"`
		Position string `json:"position"`
		Outcome  string `json:"outcome"`
		Next     string `json:"next"`
	}
	if !decode(w, r, &req) {
		return
	}
	ctx := r.Context()
	var t queue.Ticket
	op := r.PathValue("op")
	switch op {
	case "call-next":
		t, err = a.Queue.CallNext(ctx, id)
	case "call":
		t, err = a.Queue.CallTicket(ctx, id, req.Number)
	case "recall":
		t, err = a.Queue.Recall(ctx, id)
	case "start":
		t, err = a.Queue.Start(ctx, id)
	case "park":
		t, err = a.Queue.Park(ctx, id)
	case "return":
		t, err = a.Queue.Return(ctx, id, req.Number)
	case "transfer":
		t, err = a.Queue.Transfer(ctx, id, req.Category, req.Position)
	case "finish":
		t, err = a.Queue.Finish(ctx, id, queue.Outcome(req.Outcome), req.Next)
	default:
		writeError(w, http.StatusNotFound, "unknown_operation",
			fmt.Sprintf("no window operation %q: use call-next, call, recall, start, park, return, transfer or finish", op))
		return
	}
	if err != nil {
		queueError(w, err)
		return
	}
	a.publish(opEvents[op], t)
	writeJSON(w, http.StatusOK, a.ticketJSON(t))
}

var opEvents = map[string]string{"call-next": "called", "call": "called", "recall": "recalled", "start": "started",
	"park": "parked", "return": "returned", "transfer": "transferred", "finish": "finished"}

var nilHub Hub

func (a *API) hub() *Hub {
	if a.Hub == nil {
		return &nilHub
	}
	return a.Hub
}

func (a *API) publish(typ string, t queue.Ticket) {
	if t.State == queue.Finished {
		typ = "finished" // a recall past the maximum ends the ticket as no_show
	}
	e := Event{Type: typ, Ticket: t.Number, Category: t.Category, Window: t.Window,
		CallCount: t.CallCount, Outcome: string(t.Outcome), Reason: t.Reason}
	if a.ShowNames {
		e.Name = t.MaskedName
	}
	e.At = time.Now().Format(time.RFC3339Nano)
	// The board remembers calls before anyone hears of them: a display that reads the
	// board on the event must find the call there.
	if typ == "called" || typ == "recalled" {
		a.recent().add(e)
	}
	a.hub().Publish(e)
}
