package uplink

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// Overall states of the uplink.
const (
	StateOK       = "ok"
	StateDegraded = "degraded"
	StateOffline  = "offline"
)

// Status is the uplink's state for the dashboard, metrics and health.
//
// Overall and Code follow these rules, first match wins:
//   - offline, uplink.unauthorized: the platform refused the token; nothing is sent until a
//     pull (or any request) with the same token succeeds, the token changes or a technician
//     resumes (health down);
//   - offline, uplink.offline: there is a backlog and every stream holding part of it is
//     down: its last OfflineAfter attempts failed, or it has never succeeded and its last
//     attempt failed (health down);
//   - degraded, uplink.backlog_stale: some unsent event is older than StaleAfter (health degraded);
//   - degraded, uplink.degraded: dead letters wait for a technician, or some (not all) streams
//     with a backlog are down (health degraded);
//   - ok, uplink.ok.
//
// The disk (uplink.disk_low) is its own health component, "uplink.disk", so that it is not
// hidden behind an offline platform.
type Status struct {
	Overall            string         `json:"overall"`
	Code               string         `json:"code"`
	Message            string         `json:"message"`
	Unauthorized       bool           `json:"unauthorized"`
	DiskLow            bool           `json:"disk_low"`
	Backlog            int            `json:"backlog"`
	DeadLetters        int            `json:"dead_letters"`
	TelemetryCompacted int64          `json:"telemetry_compacted"`
	TelemetryDropped   int64          `json:"telemetry_dropped"`
	Streams            []StreamStatus `json:"streams"`
	At                 time.Time      `json:"at"`
}

// StreamStatus is one stream's part of Status.
type StreamStatus struct {
	Stream      string        `json:"stream"`
	Backlog     int           `json:"backlog"`
	OldestAge   time.Duration `json:"oldest_age"` // age of the oldest unsent event (since it entered the outbox)
	LastSuccess time.Time     `json:"last_success"`
	DeadLetters int           `json:"dead_letters"`
	FailStreak  int           `json:"fail_streak"` // consecutive failed attempts
	LastError   string        `json:"last_error,omitempty"`
	NextAttempt time.Time     `json:"next_attempt,omitzero"`
}

// State reads the uplink's state from the store and the senders.
func (s *Sender) State(ctx context.Context) (Status, error) {
	now := s.cfg.Clock.Now()
	st := Status{At: now}
	by := map[string]*StreamStatus{}
	get := func(name string) *StreamStatus {
		if p := by[name]; p != nil {
			return p
		}
		p := &StreamStatus{Stream: name}
		by[name] = p
		return p
	}
	for _, name := range s.cfg.Streams {
		get(name)
	}
	db := s.cfg.DB.Read()
	err := sendRows(ctx, db, `SELECT stream, COUNT(*) FROM outbox GROUP BY stream`, func(r *sql.Rows) error {
		var name string
		var n int
		if err := r.Scan(&name, &n); err != nil {
			return err
		}
		get(name).Backlog = n
		return nil
	})
	if err == nil {
		err = sendRows(ctx, db, `SELECT stream, COUNT(*) FROM outbox_dead GROUP BY stream`, func(r *sql.Rows) error {
			var name string
			var n int
			if err := r.Scan(&name, &n); err != nil {
				return err
			}
			get(name).DeadLetters = n
			return nil
		})
	}
	if err == nil {
		err = sendRows(ctx, db, `SELECT stream, last_success_at, compacted, dropped FROM uplink_streams`, func(r *sql.Rows) error {
			var name, last string
			var c, d int64
			if err := r.Scan(&name, &last, &c, &d); err != nil {
				return err
			}
			p := get(name)
			if last != "" {
				p.LastSuccess, _ = store.ParseTime(last)
			}
			st.TelemetryCompacted += c
			st.TelemetryDropped += d
			return nil
		})
	}
	for _, p := range by {
		if err != nil {
			break
		}
		if p.Backlog == 0 {
			continue
		}
		var created string
		err = db.QueryRowContext(ctx, `SELECT created_at FROM outbox WHERE stream = ? ORDER BY seq LIMIT 1`, p.Stream).Scan(&created)
		if err == sql.ErrNoRows {
			err = nil // drained meanwhile
		} else if err == nil {
			if t, perr := store.ParseTime(created); perr == nil {
				p.OldestAge = max(0, now.Sub(t))
			}
		}
	}
	if err != nil {
		return Status{}, fmt.Errorf("uplink: reading state: %w", err)
	}

	s.mu.Lock()
	st.Unauthorized, st.DiskLow = s.unauth, s.diskLow
	for name, mem := range s.streams {
		p := get(name)
		p.FailStreak, p.LastError, p.NextAttempt = mem.failStreak, mem.lastError, mem.nextTry
	}
	s.mu.Unlock()

	for _, p := range by {
		st.Streams = append(st.Streams, *p)
	}
	order := func(name string) int {
		if i := slices.Index(s.cfg.Streams, name); i >= 0 {
			return i
		}
		return len(s.cfg.Streams)
	}
	slices.SortFunc(st.Streams, func(a, b StreamStatus) int {
		if d := order(a.Stream) - order(b.Stream); d != 0 {
			return d
		}
		return strings.Compare(a.Stream, b.Stream)
	})
	sendAssess(&st, s.cfg.OfflineAfter, s.cfg.StaleAfter)
	return st, nil
}

func sendRows(ctx context.Context, db *sql.DB, q string, scan func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// sendAssess sets Overall, Code and Message by the rules documented on Status.
func sendAssess(st *Status, offlineAfter int, staleAfter time.Duration) {
	var withBacklog, down int
	var oldest time.Duration
	var downNames []string
	st.Backlog, st.DeadLetters = 0, 0
	for _, p := range st.Streams {
		st.Backlog += p.Backlog
		st.DeadLetters += p.DeadLetters
		if p.Backlog == 0 {
			continue
		}
		withBacklog++
		oldest = max(oldest, p.OldestAge)
		if p.FailStreak >= offlineAfter || (p.LastSuccess.IsZero() && p.FailStreak > 0) {
			down++
			downNames = append(downNames, p.Stream)
		}
	}
	switch {
	case st.Unauthorized:
		st.Overall, st.Code = StateOffline, "uplink.unauthorized"
		st.Message = "the platform refused this node's token: sending stopped, nothing is lost; it resumes by itself once a pull with the token succeeds, or now with kioskctl uplink resume (re-enrol if the token was revoked)"
	case withBacklog > 0 && down == withBacklog:
		st.Overall, st.Code = StateOffline, "uplink.offline"
		st.Message = fmt.Sprintf("platform unreachable: %d events waiting, oldest %s", st.Backlog, oldest.Round(time.Second))
	case oldest > staleAfter:
		st.Overall, st.Code = StateDegraded, "uplink.backlog_stale"
		st.Message = fmt.Sprintf("%d events waiting, oldest %s", st.Backlog, oldest.Round(time.Second))
	case st.DeadLetters > 0 || down > 0:
		st.Overall, st.Code = StateDegraded, "uplink.degraded"
		var parts []string
		if st.DeadLetters > 0 {
			parts = append(parts, fmt.Sprintf("%d dead letters wait for a technician", st.DeadLetters))
		}
		if down > 0 {
			parts = append(parts, "failing: "+strings.Join(downNames, ", "))
		}
		st.Message = strings.Join(parts, "; ")
	default:
		st.Overall, st.Code = StateOK, "uplink.ok"
		st.Message = fmt.Sprintf("%d events waiting", st.Backlog)
	}
}

// healthLoop reports State to Health every HealthEvery.
func (s *Sender) healthLoop(ctx context.Context) {
	for {
		s.reportNow()
		if !sendSleep(ctx, s.cfg.Clock, s.cfg.HealthEvery) {
			return
		}
	}
}

func (s *Sender) reportNow() {
	if s.cfg.Health == nil {
		return
	}
	st, err := s.State(context.Background())
	if err != nil {
		s.cfg.Log.Warn("uplink: reading state", "component", "uplink", "err", err)
		return
	}
	state := health.OK
	switch {
	case st.Overall == StateOffline:
		state = health.Down
	case st.Overall == StateDegraded:
		state = health.Degraded
	}
	s.cfg.Health.Report("uplink", state, st.Code, st.Message)
}

// WriteMetrics writes st in the Prometheus text format.
func WriteMetrics(w io.Writer, st Status) error {
	var b strings.Builder
	head := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	perStream := func(name, help string, v func(StreamStatus) float64) {
		head(name, "gauge", help)
		for _, p := range st.Streams {
			fmt.Fprintf(&b, "%s{stream=%q} %g\n", name, p.Stream, v(p))
		}
	}
	perStream("hallkiosk_uplink_backlog", "Events waiting in the outbox.", func(p StreamStatus) float64 { return float64(p.Backlog) })
	perStream("hallkiosk_uplink_oldest_age_seconds", "Age of the oldest unsent event.", func(p StreamStatus) float64 { return p.OldestAge.Seconds() })
	perStream("hallkiosk_uplink_last_success_timestamp_seconds", "When the platform last settled a batch (0: never).", func(p StreamStatus) float64 {
		if p.LastSuccess.IsZero() {
			return 0
		}
		return float64(p.LastSuccess.UnixMilli()) / 1000
	})
	perStream("hallkiosk_uplink_failed_attempts", "Consecutive failed attempts.", func(p StreamStatus) float64 { return float64(p.FailStreak) })
	perStream("hallkiosk_uplink_dead_letters", "Events rejected and waiting for a technician.", func(p StreamStatus) float64 { return float64(p.DeadLetters) })
	head("hallkiosk_uplink_state", "gauge", "1 for the uplink's overall state.")
	for _, s := range []string{StateOK, StateDegraded, StateOffline} {
		fmt.Fprintf(&b, "hallkiosk_uplink_state{state=%q} %d\n", s, sendB2i(st.Overall == s))
	}
	head("hallkiosk_uplink_unauthorized", "gauge", "1 while the platform refuses the node's token.")
	fmt.Fprintf(&b, "hallkiosk_uplink_unauthorized %d\n", sendB2i(st.Unauthorized))
	head("hallkiosk_uplink_disk_low", "gauge", "1 while new telemetry is refused for lack of disk space.")
	fmt.Fprintf(&b, "hallkiosk_uplink_disk_low %d\n", sendB2i(st.DiskLow))
	head("hallkiosk_uplink_telemetry_compacted_total", "counter", "Telemetry events superseded by newer ones before sending.")
	fmt.Fprintf(&b, "hallkiosk_uplink_telemetry_compacted_total %d\n", st.TelemetryCompacted)
	head("hallkiosk_uplink_telemetry_dropped_total", "counter", "Telemetry events dropped by the backlog cap.")
	fmt.Fprintf(&b, "hallkiosk_uplink_telemetry_dropped_total %d\n", st.TelemetryDropped)
	_, err := io.WriteString(w, b.String())
	return err
}

func sendB2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// Authorization: a 401/403 stops every stream until the token changes, a request with the
// refused token succeeds (TokenAccepted), or a technician resumes (Resume).

// Resume lets the streams send again after the platform refused the token (a technician's
// POST /api/uplink/resume, kioskctl uplink resume). It reports whether sending had stopped.
// If the platform still refuses the token, the next batch stops sending again.
func (s *Sender) Resume() bool {
	s.mu.Lock()
	s.autoResumed, s.autoOff = false, false
	s.mu.Unlock()
	return s.resumeIf(nil, "resumed")
}

// TokenAccepted is the Client's Accepted hook: a request made with the token the platform
// refused, and answered 2xx or 304, ends the refusal, so that a 401 from a proxy or an auth
// blip does not stop every stream until a restart while the pulls go on with the same token.
// Only a request that started after the refusal counts: one already in flight when the 401
// came (or when another refusal came meanwhile) proves nothing about the token now.
func (s *Sender) TokenAccepted(token string) (answered func()) {
	s.mu.Lock()
	refusals := s.refusals
	s.mu.Unlock()
	return func() {
		s.resumeIf(func() bool {
			ok := !s.autoOff && s.refusals == refusals && token == s.tokenLocked()
			s.autoResumed = s.autoResumed || ok
			return ok
		}, "resumed: a request with the same token succeeded")
	}
}

// resumeIf ends the refusal, if there is one and ok says so (ok is called with s.mu held;
// nil: unconditionally, which also makes refusals still on their way stale). It reports
// whether sending had stopped and now resumes.
func (s *Sender) resumeIf(ok func() bool, why string) bool {
	s.mu.Lock()
	was := s.unauth
	if was && ok != nil && !ok() {
		s.mu.Unlock()
		return false
	}
	if ok == nil || was {
		s.authGen++ // a refusal of a request sent before now is stale
	}
	if was {
		s.unauth = false
		close(s.resume)
		s.resume = make(chan struct{})
	}
	s.mu.Unlock()
	if was {
		s.cfg.Log.Info("uplink: sending "+why, "component", "uplink")
		s.reportNow()
	}
	return was
}

// SetToken replaces the bearer token (after re-enrolment) and resumes sending.
func (s *Sender) SetToken(token string) {
	s.mu.Lock()
	s.token, s.tokenSet = token, true
	s.mu.Unlock()
	s.Resume()
}

// tokenLocked is the token in use (called with s.mu held).
func (s *Sender) tokenLocked() string {
	if s.tokenSet {
		return s.token
	}
	return s.cfg.Client.Token
}

// client is a copy of the configured client with the current token, so SetToken never races
// a request in flight.
func (s *Sender) client() (*Client, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *s.cfg.Client
	c.Token = s.tokenLocked()
	return &c, s.authGen
}

// setUnauthorized stops all streams, unless the token changed (or Resume was called) since
// the refused request was sent: then the refusal is about a token no longer in use.
func (s *Sender) setUnauthorized(gen int, log *slog.Logger) {
	s.mu.Lock()
	stale := gen != s.authGen
	was := s.unauth
	// Refused again after resuming by itself: the token works for pulls but not for events
	// (a proxy that refuses only the POST, say). Resuming by itself would flap at every
	// pull; from now on a technician decides.
	off := !stale && !was && s.autoResumed && !s.autoOff
	if !stale {
		s.unauth = true
		s.refusals++
		s.autoOff = s.autoOff || s.autoResumed
	}
	s.mu.Unlock()
	switch {
	case off:
		log.Error("uplink: the platform refused this node's token again after sending resumed by itself; sending stopped until the token changes or a technician resumes (kioskctl uplink resume)")
		s.reportNow()
	case !stale && !was:
		log.Error("uplink: the platform refused this node's token; sending stopped until a request with it succeeds, the token changes or a technician resumes (kioskctl uplink resume)")
		s.reportNow()
	}
}

func (s *Sender) sendWaitAuthorized(ctx context.Context) bool {
	s.mu.Lock()
	if !s.unauth {
		s.mu.Unlock()
		return true
	}
	ch := s.resume
	s.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}
