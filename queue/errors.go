package queue

import "errors"

// Sentinel errors. Operations wrap them with the ticket, window or category concerned, so
// callers match with errors.Is and show the message to staff as is.
var (
	ErrNoTicket        = errors.New("queue: no such ticket")
	ErrWrongState      = errors.New("queue: wrong ticket state")
	ErrNotServed       = errors.New("queue: category not served by this window")
	ErrWindowBusy      = errors.New("queue: window already has a ticket")
	ErrUnknownWindow   = errors.New("queue: unknown window")
	ErrUnknownCategory = errors.New("queue: unknown category")
	ErrBadRequest      = errors.New("queue: bad request")
	ErrRangeExhausted  = errors.New("queue: number range exhausted")
	ErrDailyCap        = errors.New("queue: daily cap reached")
	ErrClosed          = errors.New("queue: category closed")
)
