// Package health holds component health as data and a registry that tracks it.
package health

import (
	"sort"
	"sync"
	"time"
)

// State is the coarse health of one component.
type State string

const (
	OK       State = "ok"
	Degraded State = "degraded"
	Down     State = "down"
	// Skipped marks a component that was configured off or cannot exist on this machine
	// (no GPIO chip, say). It is not a fault.
	Skipped State = "skipped"
)

// Status is one component's health. Since is when State and Code last changed, so a
// dashboard can tell a fresh fault from an old one.
type Status struct {
	Component string    `json:"component"`
	State     State     `json:"state"`
	Code      string    `json:"code"`
	Message   string    `json:"message"`
	Since     time.Time `json:"since"`
}

// Reporter is what a device or loop needs to publish its health.
type Reporter interface {
	Report(component string, state State, code, message string)
}

// Registry holds the latest Status of every component. It is safe for concurrent use.
type Registry struct {
	now func() time.Time

	mu      sync.Mutex
	byName  map[string]Status
	subs    map[int]func(Status)
	nextSub int
}

// NewRegistry returns an empty registry reading time from now (time.Now when nil).
func NewRegistry(now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{now: now, byName: map[string]Status{}, subs: map[int]func(Status){}}
}

// Report records a component's health. Since only moves when the state or code changes:
// a message that is refreshed every poll must not make an old fault look new.
func (r *Registry) Report(component string, state State, code, message string) {
	r.mu.Lock()
	prev, had := r.byName[component]
	st := Status{Component: component, State: state, Code: code, Message: message, Since: r.now()}
	changed := !had || prev.State != state || prev.Code != code
	if !changed {
		st.Since = prev.Since
	}
	r.byName[component] = st
	var subs []func(Status)
	if changed {
		for _, f := range r.subs {
			subs = append(subs, f)
		}
	}
	r.mu.Unlock()
	for _, f := range subs {
		f(st)
	}
}

// Remove forgets a component.
func (r *Registry) Remove(component string) {
	r.mu.Lock()
	delete(r.byName, component)
	r.mu.Unlock()
}

// Get returns the component's status.
func (r *Registry) Get(component string) (Status, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.byName[component]
	return st, ok
}

// All returns every status sorted by component name.
func (r *Registry) All() []Status {
	r.mu.Lock()
	out := make([]Status, 0, len(r.byName))
	for _, st := range r.byName {
		out = append(out, st)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Component < out[j].Component })
	return out
}

// Subscribe calls f (synchronously, outside the lock) on every change of state or code.
// It returns a function that ends the subscription. f must not block.
func (r *Registry) Subscribe(f func(Status)) (cancel func()) {
	r.mu.Lock()
	id := r.nextSub
	r.nextSub++
	r.subs[id] = f
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.subs, id)
		r.mu.Unlock()
	}
}

// Overall folds statuses into one: down if any is down, degraded if any is degraded.
func Overall(all []Status) State {
	s := OK
	for _, st := range all {
		switch st.State {
		case Down:
			return Down
		case Degraded:
			s = Degraded
		}
	}
	return s
}
