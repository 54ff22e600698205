package platformsim

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Faults are the failures the simulator injects into /v1/ answers. The zero value is a
// healthy platform. Checks run in this order: Partition, DropRate, Hang, Latency,
// Unauthorized, RateLimit, ErrorRate, then Garbage and WrongShape shape the answer and
// Reject acts inside the events endpoint.
type Faults struct {
	Latency      time.Duration // added before answering (real time, even with a fake clock)
	ErrorRate    float64       // fraction of requests answered 503
	DropRate     float64       // fraction of connections closed without an answer
	Hang         bool          // accept and never answer, until the client gives up or the faults change
	Garbage      bool          // 200 with a body that is not JSON
	WrongShape   bool          // 200 with JSON of the wrong shape
	Unauthorized bool          // 401 to everything
	RateLimit    time.Duration // >0: 429 with Retry-After: whole seconds of RateLimit (at least 1)
	Reject       []string      // event types answered "rejected"
	Partition    bool          // as if unreachable: every connection closed at once
}

// faultsJSON is Faults on the wire of /control/faults: durations as Go duration strings.
type faultsJSON struct {
	Latency      string   `json:"latency"`
	ErrorRate    float64  `json:"error_rate"`
	DropRate     float64  `json:"drop_rate"`
	Hang         bool     `json:"hang"`
	Garbage      bool     `json:"garbage"`
	WrongShape   bool     `json:"wrong_shape"`
	Unauthorized bool     `json:"unauthorized"`
	RateLimit    string   `json:"rate_limit"`
	Reject       []string `json:"reject"`
	Partition    bool     `json:"partition"`
}

// MarshalJSON writes durations as Go duration strings ("1.5s").
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{Latency: f.Latency.String(), ErrorRate: f.ErrorRate, DropRate: f.DropRate,
		Hang: f.Hang, Garbage: f.Garbage, WrongShape: f.WrongShape, Unauthorized: f.Unauthorized,
		RateLimit: f.RateLimit.String(), Reject: f.Reject, Partition: f.Partition})
}

// UnmarshalJSON reads what MarshalJSON writes; empty durations are zero, unknown keys an error.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	var out Faults
	var err error
	if out.Latency, err = parseDur(j.Latency); err != nil {
		return err
	}
	if out.RateLimit, err = parseDur(j.RateLimit); err != nil {
		return err
	}
	out.ErrorRate, out.DropRate, out.Hang, out.Garbage = j.ErrorRate, j.DropRate, j.Hang, j.Garbage
	out.WrongShape, out.Unauthorized, out.Reject, out.Partition = j.WrongShape, j.Unauthorized, j.Reject, j.Partition
	*f = out
	return nil
}

func parseDur(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// SetFaults replaces the injected faults; requests hanging under the old ones re-evaluate.
func (s *Sim) SetFaults(f Faults) {
	f.Reject = slices.Clone(f.Reject)
	s.mu.Lock()
	s.faults = f
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.log.Info("faults set", "faults", f)
}

// Faults returns the faults in force.
func (s *Sim) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	f.Reject = slices.Clone(f.Reject)
	return f
}

func (s *Sim) faultsAndChange() (Faults, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults, s.changed
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // HTTP/2 and others: the server resets the stream
}

// faulty wraps the /v1/ endpoints with the fault injector and counts requests per node.
func (s *Sim) faulty(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if node := s.requestNode(r); node != "" {
			s.mu.Lock()
			s.requests[node]++
			s.mu.Unlock()
		}
		var f Faults
		for {
			var changed <-chan struct{}
			f, changed = s.faultsAndChange()
			if f.Partition || f.DropRate > 0 && rand.Float64() < f.DropRate {
				drop(w)
				return
			}
			if !f.Hang {
				break
			}
			select {
			case <-changed: // look again
			case <-r.Context().Done():
				return
			case <-s.done:
				drop(w)
				return
			}
		}
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-s.done:
				t.Stop()
			}
		}
		switch {
		case f.Unauthorized:
			writeError(w, http.StatusUnauthorized, "unauthorized", "injected fault: token refused")
			return
		case f.RateLimit > 0:
			secs := int((f.RateLimit + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			writeError(w, http.StatusTooManyRequests, "rate_limited", "injected fault: too many requests")
			return
		case f.ErrorRate > 0 && rand.Float64() < f.ErrorRate:
			writeError(w, http.StatusServiceUnavailable, "unavailable", "injected fault: service unavailable")
			return
		case f.Garbage:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte("<html><body>502 Bad Gateway (injected garbage)</body></html>\x00\xff"))
			return
		case f.WrongShape && !strings.HasSuffix(r.URL.Path, "/events"):
			writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requestNode attributes a request to a node: from the path, else from the token.
func (s *Sim) requestNode(r *http.Request) string {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/v1/nodes/"); ok {
		if node, _, ok := strings.Cut(rest, "/"); ok {
			return node
		}
	}
	if r.Header.Get("Authorization") == "" {
		return ""
	}
	return s.nodeOfToken(r)
}
