package hall

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Event is a live update for consoles and displays. It is lossy: a slow page misses events
// and catches up from /hall/v1/status; nothing that must arrive goes through here (that is
// the outbox's job).
type Event struct {
	Type      string `json:"type"` // issued, called, recalled, started, parked, returned, transferred, finished, reset
	Ticket    string `json:"ticket,omitempty"`
	Category  string `json:"category,omitempty"`
	Window    int    `json:"window,omitempty"`
	CallCount int    `json:"call_count,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Reason    string `json:"reason,omitempty"` // e.g. print_failed
	Name      string `json:"name,omitempty"`   // masked (张*), only when the hall shows names
	At        string `json:"at"`
}

// Hub fans events out to subscribers.
type Hub struct {
	mu   sync.Mutex
	subs map[chan Event]bool
}

// Publish sends e to every subscriber that has room; a full subscriber misses it.
func (h *Hub) Publish(e Event) {
	if e.At == "" {
		e.At = time.Now().Format(time.RFC3339Nano)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// Subscribe returns a channel of events and a function that ends the subscription.
func (h *Hub) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 64)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan Event]bool{}
	}
	h.subs[ch] = true
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

// serveEvents streams events as server-sent events, with a comment every 15 s so proxies
// and the browser keep the connection.
func (h *Hub) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "internal", "events: this server cannot stream")
		return
	}
	ch, cancel := h.Subscribe()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprint(w, "retry: 1000\n: hello\n\n")
	fl.Flush()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": ping\n\n")
		case e := <-ch:
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "data: %s\n\n", b)
		}
		fl.Flush()
	}
}
