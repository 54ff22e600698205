package hall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hallkiosk/hallkiosk/queue"
)

// apiError is the error body, the same shape as the platform contract's. Code is stable and
// meant for programs (the console maps it to bilingual text for staff); Message is English
// detail for logs and technicians.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, msg
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// errorCodes maps the queue's sentinel errors to HTTP statuses and stable codes; Client
// maps them back.
var errorCodes = []struct {
	err    error
	status int
	code   string
}{
	{queue.ErrNoTicket, http.StatusNotFound, "no_ticket"},
	{queue.ErrUnknownWindow, http.StatusNotFound, "unknown_window"},
	{queue.ErrUnknownCategory, http.StatusBadRequest, "unknown_category"},
	{queue.ErrBadRequest, http.StatusBadRequest, "bad_request"},
	{queue.ErrNotServed, http.StatusForbidden, "not_served"},
	{queue.ErrWrongState, http.StatusConflict, "wrong_state"},
	{queue.ErrWindowBusy, http.StatusConflict, "window_busy"},
	{queue.ErrRangeExhausted, http.StatusConflict, "range_exhausted"},
	{queue.ErrDailyCap, http.StatusConflict, "daily_cap"},
	{queue.ErrClosed, http.StatusConflict, "closed"},
}

// queueError answers an error of the queue with its status and code.
func queueError(w http.ResponseWriter, err error) {
	for _, m := range errorCodes {
		if errors.Is(err, m.err) {
			writeError(w, m.status, m.code, err.Error())
			return
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		writeError(w, http.StatusServiceUnavailable, "timeout", "the operation did not finish in time; try again")
		return
	}
	writeError(w, http.StatusInternalServerError, "internal", "the hall node could not do this: "+err.Error())
}

// noRoute answers what no route matched under /hall/v1/ in the API's error shape rather
// than the mux's plain text: 405 when the path exists for another method, else 404.
func noRoute(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := mux.Handler(probe); p != "" && p != catchAll {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
				fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))
			return
		}
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no endpoint %s %s: see API.md", r.Method, r.URL.Path))
	}
}

const catchAll = "/hall/v1/"
