package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// The streams of UPLINK.md.
const (
	StreamQueue     = "queue"
	StreamBusiness  = "business"
	StreamTelemetry = "telemetry"
)

// Contract limits of one POST /v1/nodes/{node}/events.
const (
	MaxBatchEvents = 500
	MaxBatchBytes  = 1 << 20
	// sendEnvelope is the body's bytes around the events: {"events":[ and ]}.
	sendEnvelope = len(`{"events":[]}`)
)

// SenderConfig configures a Sender. Zero fields take the documented defaults.
type SenderConfig struct {
	Client *Client         // the platform; its Token is used until SetToken is called
	DB     *store.DB       // holds the outbox
	Clock  clock.Clock     // backoff, pacing, polling and ages; default the wall clock
	Health health.Reporter // components "uplink" and "uplink.disk"; may be nil
	Log    *slog.Logger    // default: discard
	// HealthList feeds the health list of node.heartbeat; may be nil.
	HealthList func() []health.Status

	BatchMax   int // events per batch, default and maximum 500 (the contract's)
	BatchBytes int // bytes of the encoded events per batch, default and maximum 1 MiB minus the envelope

	BackoffBase time.Duration // default 1s
	BackoffCap  time.Duration // default 5m

	// DrainRate (events/s, default 200) and DrainBurst (events, default 500) pace sending
	// over all streams together, so that a hall reconnecting after a long outage drains its
	// backlog at a steady pace instead of flooding the platform. math.Inf(1): no pacing.
	DrainRate  float64
	DrainBurst int

	Streams []string // default queue, business, telemetry

	// PollEvery is how often an idle stream looks at the outbox again (default 1s); Notify
	// wakes the streams at once.
	PollEvery time.Duration
	// AttemptTimeout bounds one POST (default 30s). It is real time, not Clock: the network
	// cannot be driven by a fake clock, and a hanging platform must not stop a stream.
	AttemptTimeout time.Duration

	OfflineAfter int           // consecutive failed attempts before a stream counts as offline, default 3
	StaleAfter   time.Duration // backlog age that makes the uplink degraded (uplink.backlog_stale), default 5m
	HealthEvery  time.Duration // how often State is reported to Health, default 15s
	TelemetryMax int           // telemetry rows kept unsent at most, default 10,000; the oldest are dropped

	// Hold, if set, is asked about each event before it is sent; true keeps it (and the rest
	// of its stream behind it) for a later round. kioskd holds an application.submitted
	// until its materials are uploaded (UPLINK.md: materials go up before their submission).
	// It may do I/O; it runs on the stream's goroutine.
	Hold func(ctx context.Context, typ string, data json.RawMessage) bool

	// Settled, if set, is called for each event the platform answered accepted or
	// duplicate, inside the transaction that takes it out of the outbox, so that what
	// follows from the platform having the event commits with its removal, or not at all.
	// An error undoes what the hook wrote (a savepoint) and is logged; the event settles
	// anyway, so an error that would recur cannot hold the stream. kioskd deletes a
	// printed pickup's document with it (Puller.Settled). It must not open a transaction
	// of its own.
	Settled func(tx *store.Tx, typ string, data json.RawMessage) error

	// Rand returns a value in [0, 1) for the backoff jitter; default math/rand/v2.
	Rand func() float64
}

func (c *SenderConfig) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 || *v > d {
			*v = d
		}
	}
	def(&c.BatchMax, MaxBatchEvents)
	def(&c.BatchBytes, MaxBatchBytes-sendEnvelope)
	if c.DrainRate <= 0 {
		c.DrainRate = 200
	}
	if c.DrainBurst <= 0 {
		c.DrainBurst = 500
	}
	c.BatchMax = min(c.BatchMax, c.DrainBurst)
	durs := []struct {
		v *time.Duration
		d time.Duration
	}{{&c.BackoffBase, time.Second}, {&c.BackoffCap, 5 * time.Minute}, {&c.PollEvery, time.Second},
		{&c.AttemptTimeout, 30 * time.Second}, {&c.StaleAfter, 5 * time.Minute}, {&c.HealthEvery, 15 * time.Second}}
	for _, x := range durs {
		if *x.v <= 0 {
			*x.v = x.d
		}
	}
	if c.OfflineAfter <= 0 {
		c.OfflineAfter = 3
	}
	if c.TelemetryMax <= 0 {
		c.TelemetryMax = 10_000
	}
	if len(c.Streams) == 0 {
		c.Streams = []string{StreamQueue, StreamBusiness, StreamTelemetry}
	}
	// One loop per stream, or two batches of a stream could be in flight at once.
	var streams []string
	for _, st := range c.Streams {
		if !slices.Contains(streams, st) {
			streams = append(streams, st)
		}
	}
	c.Streams = streams
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
}

// Sender drains the outbox to the platform: one loop per stream, each sending its stream's
// events in seq order, at most one batch in flight, and settling every answer in one store
// transaction (accepted and duplicate events deleted, rejected ones moved to the dead
// letters). It is safe for concurrent use.
type Sender struct {
	cfg    SenderConfig
	bucket *sendBucket
	wake   map[string]chan struct{}
	// running: one Run at a time, so a stream never has two batches in flight.
	running atomic.Bool

	mu       sync.Mutex
	token    string
	tokenSet bool
	authGen  int  // bumped by Resume and SetToken
	unauth   bool // a 401/403 stopped all streams
	refusals int  // 401/403s taken as stopping the streams, for TokenAccepted
	// autoResumed: sending resumed by itself (TokenAccepted) since the last manual resume;
	// autoOff: it was refused again after that, so it no longer resumes by itself.
	autoResumed, autoOff bool
	resume               chan struct{} // closed when unauth ends
	diskLow              bool
	diskSeen             bool
	streams              map[string]*sendStream
}

// sendStream is the in-memory state of one stream's loop, guarded by Sender.mu.
type sendStream struct {
	failStreak int // consecutive failed attempts
	lastError  string
	lastTry    time.Time
	nextTry    time.Time
}

// NewSender returns a Sender; it does nothing until Run.
func NewSender(cfg SenderConfig) *Sender {
	cfg.setDefaults()
	s := &Sender{cfg: cfg, wake: map[string]chan struct{}{}, streams: map[string]*sendStream{}, resume: make(chan struct{})}
	s.bucket = newSendBucket(cfg.Clock, cfg.DrainRate, cfg.DrainBurst)
	for _, st := range cfg.Streams {
		s.wake[st] = make(chan struct{}, 1)
		s.streams[st] = &sendStream{}
	}
	return s
}

// Run sends until ctx ends, then returns nil. Transient errors (network, platform, a busy
// store) never end it; they are retried with backoff and shown in State.
func (s *Sender) Run(ctx context.Context) error {
	if s.cfg.Client == nil || s.cfg.DB == nil {
		return errors.New("uplink: sender needs a Client and a DB")
	}
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("uplink: sender is already running")
	}
	defer s.running.Store(false)
	var wg sync.WaitGroup
	for _, st := range s.cfg.Streams {
		wg.Go(func() { s.sendLoop(ctx, st) })
	}
	wg.Go(func() { s.healthLoop(ctx) })
	wg.Go(func() {
		// Events committed by the queue and the flows go out at once, not at the next poll.
		for {
			select {
			case <-s.cfg.DB.OutboxAdded():
				s.Notify()
			case <-ctx.Done():
				return
			}
		}
	})
	wg.Wait()
	return nil
}

// Notify wakes idle streams, e.g. after an event was appended.
func (s *Sender) Notify() {
	for _, ch := range s.wake {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// settled runs the Settled hook for e under a savepoint. A hook that fails is undone and
// logged, and the event settles anyway: the platform has it, and an error that would come
// back on every resend must not hold the stream (a printed pickup's document then stays
// until it expires). Only an error of the savepoint itself fails the settle.
func (s *Sender) settled(tx *store.Tx, e sendEvent) error {
	if _, err := tx.Exec(`SAVEPOINT settled`); err != nil {
		return err
	}
	if err := s.cfg.Settled(tx, e.typ, e.data); err != nil {
		s.cfg.Log.Error("uplink: after the platform took an event", "component", "uplink", "type", e.typ, "id", e.id, "err", err)
		if _, err := tx.Exec(`ROLLBACK TO settled`); err != nil {
			return err
		}
	}
	_, err := tx.Exec(`RELEASE settled`)
	return err
}

// sendEvent is one outbox row and its wire encoding.
type sendEvent struct {
	id, stream, typ, occurredAt, createdAt string
	seq                                    int64
	data                                   []byte
	wire                                   []byte
}

type sendWire struct {
	ID         string          `json:"id"`
	Stream     string          `json:"stream"`
	Seq        int64           `json:"seq"`
	Type       string          `json:"type"`
	OccurredAt string          `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
}

type sendResult struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

func (s *Sender) sendLoop(ctx context.Context, stream string) {
	log := s.cfg.Log.With("component", "uplink", "stream", stream)
	var lastCompact time.Time
	for ctx.Err() == nil {
		if !s.sendWaitAuthorized(ctx) {
			return
		}
		if stream == StreamTelemetry && (s.cfg.Clock.Now().Sub(lastCompact) >= time.Second || s.failing(stream)) {
			if _, _, err := s.Compact(ctx); err != nil && ctx.Err() == nil {
				log.Warn("uplink: compacting telemetry", "err", err)
			}
			lastCompact = s.cfg.Clock.Now()
		}
		batch, poison, reason, err := s.sendLoad(ctx, stream)
		if err == nil && poison == nil {
			batch = s.sendHold(ctx, batch)
		}
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			log.Warn("uplink: reading the outbox", "err", err)
			if !sendSleep(ctx, s.cfg.Clock, s.failed(stream, err, 0)) {
				return
			}
			continue
		case poison != nil:
			// Unsendable at the head: dead-letter it alone so the stream can move on.
			log.Error("uplink: event cannot be sent; moved to dead letters", "id", poison.id, "seq", poison.seq, "reason", reason)
			if err := s.sendSettle(ctx, stream, []sendEvent{*poison}, []sendResult{{ID: poison.id, Status: "rejected", Error: reason}}, false); err != nil {
				log.Warn("uplink: dead-lettering", "err", err)
				sendSleep(ctx, s.cfg.Clock, s.failed(stream, err, 0))
			}
			continue
		case len(batch) == 0:
			poll, stop := clock.Timer(s.cfg.Clock, s.cfg.PollEvery)
			select {
			case <-s.wake[stream]:
			case <-poll:
			case <-ctx.Done():
			}
			stop()
			continue
		}
		if err := s.bucket.take(ctx, len(batch)); err != nil {
			return
		}
		results, gen, err := s.sendPost(ctx, batch)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, ErrUnauthorized) {
				s.failed(stream, err, 0)
				s.setUnauthorized(gen, log)
				continue
			}
			var after time.Duration
			if re := (*RetryError)(nil); errors.As(err, &re) {
				after = re.After
			}
			d := s.failed(stream, err, after)
			log.Warn("uplink: sending failed; retrying", "events", len(batch), "first_seq", batch[0].seq, "err", err, "retry_in", d)
			if !sendSleep(ctx, s.cfg.Clock, d) {
				return
			}
			continue
		}
		if err := s.sendSettle(ctx, stream, batch, results, true); err != nil {
			// The platform has them; they are sent again and come back "duplicate".
			log.Warn("uplink: settling an answered batch", "err", err)
			if !sendSleep(ctx, s.cfg.Clock, s.failed(stream, err, 0)) {
				return
			}
		}
	}
}

// sendHold ends the batch before the first event Hold says must wait, so it and everything
// after it on its stream wait (in order) for the next round.
func (s *Sender) sendHold(ctx context.Context, batch []sendEvent) []sendEvent {
	if s.cfg.Hold == nil {
		return batch
	}
	for i, e := range batch {
		if s.cfg.Hold(ctx, e.typ, e.data) {
			return batch[:i]
		}
	}
	return batch
}

// sendLoad reads the lowest-seq events of stream, up to BatchMax events and BatchBytes bytes.
// An event that can never be sent (over the byte limit on its own, data that is not JSON)
// comes back as poison when it is at the head, with the reason; behind other events it ends
// the batch.
func (s *Sender) sendLoad(ctx context.Context, stream string) (batch []sendEvent, poison *sendEvent, reason string, err error) {
	rows, err := s.cfg.DB.Read().QueryContext(ctx, `SELECT id, seq, type, occurred_at, data, created_at
		FROM outbox WHERE stream = ? ORDER BY seq LIMIT ?`, stream, s.cfg.BatchMax)
	if err != nil {
		return nil, nil, "", fmt.Errorf("uplink: reading the outbox: %w", err)
	}
	defer rows.Close()
	size := 0
	for rows.Next() {
		e := sendEvent{stream: stream}
		if err := rows.Scan(&e.id, &e.seq, &e.typ, &e.occurredAt, &e.data, &e.createdAt); err != nil {
			return nil, nil, "", fmt.Errorf("uplink: reading the outbox: %w", err)
		}
		why := ""
		if !json.Valid(e.data) {
			why = "uplink: stored data is not valid JSON"
		} else if e.wire, err = json.Marshal(sendWire{e.id, stream, e.seq, e.typ, e.occurredAt, e.data}); err != nil {
			why = "uplink: encoding the event: " + err.Error()
		} else if len(e.wire)+1 > s.cfg.BatchBytes {
			why = fmt.Sprintf("uplink: event is %d bytes encoded, over the %d bytes a batch may hold (UPLINK.md: 1 MiB)", len(e.wire), s.cfg.BatchBytes)
		}
		if why != "" {
			if len(batch) == 0 {
				return nil, &e, why, nil
			}
			break
		}
		if size+len(e.wire)+1 > s.cfg.BatchBytes {
			break
		}
		size += len(e.wire) + 1
		batch = append(batch, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, "", fmt.Errorf("uplink: reading the outbox: %w", err)
	}
	return batch, nil, "", nil
}

// sendPost sends one batch and checks the answer strictly: one result per event, in order,
// with the event's id and a known status. Anything else is a failed attempt, never an ack.
func (s *Sender) sendPost(ctx context.Context, batch []sendEvent) ([]sendResult, int, error) {
	n := sendEnvelope
	for _, e := range batch {
		n += len(e.wire) + 1
	}
	body := bytes.NewBuffer(make([]byte, 0, n))
	body.WriteString(`{"events":[`)
	for i, e := range batch {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(e.wire)
	}
	body.WriteString(`]}`)

	c, gen := s.client()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
	defer cancel()
	r, err := c.Do(ctx, "POST", "/v1/nodes/"+url.PathEscape(c.Node)+"/events", body, "application/json", nil)
	if err != nil {
		return nil, gen, err
	}
	var ans struct {
		Results *[]sendResult `json:"results"`
	}
	bad := func(format string, a ...any) error {
		return &RetryError{Status: r.Status, Err: fmt.Errorf("events answer: "+format, a...)}
	}
	if r.Status != 200 {
		return nil, gen, bad("HTTP %d where 200 was expected", r.Status)
	}
	if err := json.Unmarshal(r.Body, &ans); err != nil {
		return nil, gen, bad("not JSON of the contract's shape: %v", err)
	}
	if ans.Results == nil {
		return nil, gen, bad("no results")
	}
	res := *ans.Results
	if len(res) != len(batch) {
		return nil, gen, bad("%d results for %d events", len(res), len(batch))
	}
	for i, x := range res {
		if x.ID != batch[i].id {
			return nil, gen, bad("result %d is for %q, not for event %q", i, x.ID, batch[i].id)
		}
		switch x.Status {
		case "accepted", "duplicate", "rejected":
		default:
			return nil, gen, bad("result %d has status %q", i, x.Status)
		}
	}
	return res, gen, nil
}

// sendSettle applies an answer in one transaction: accepted and duplicate events leave the
// outbox (and go through Settled), rejected ones move to the dead letters. It runs to the
// end even when ctx is being cancelled (an answer received is worth recording); a crash
// before the commit only means the batch is sent again and answered "duplicate".
// fromPlatform marks a real answer, which also records the stream's last success.
func (s *Sender) sendSettle(ctx context.Context, stream string, batch []sendEvent, results []sendResult, fromPlatform bool) error {
	now := s.cfg.Clock.Now()
	err := s.cfg.DB.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		del, err := tx.Prepare(`DELETE FROM outbox WHERE stream = ? AND seq = ? AND id = ?`)
		if err != nil {
			return err
		}
		defer del.Close()
		for i, r := range results {
			e := batch[i]
			if r.Status == "rejected" {
				msg := r.Error
				if msg == "" {
					msg = "rejected by the platform (no reason given)"
				}
				if _, err := tx.Exec(`INSERT OR REPLACE INTO outbox_dead(id, stream, seq, type, occurred_at, data, created_at, error, dead_at)
					VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.id, e.stream, e.seq, e.typ, e.occurredAt, e.data, e.createdAt, msg, store.FormatTime(now)); err != nil {
					return err
				}
			}
			if _, err := del.Exec(e.stream, e.seq, e.id); err != nil {
				return err
			}
			if r.Status != "rejected" && fromPlatform && s.cfg.Settled != nil {
				if err := s.settled(tx, e); err != nil {
					return err
				}
			}
		}
		if !fromPlatform {
			return nil
		}
		_, err = tx.Exec(`INSERT INTO uplink_streams(stream, last_success_at) VALUES(?, ?)
			ON CONFLICT(stream) DO UPDATE SET last_success_at = excluded.last_success_at`, stream, store.FormatTime(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("uplink: settling %d events of %s: %w", len(batch), stream, err)
	}
	if fromPlatform {
		s.mu.Lock()
		st := s.streams[stream]
		st.failStreak, st.lastError, st.lastTry, st.nextTry = 0, "", now, time.Time{}
		s.mu.Unlock()
	}
	return nil
}

// failed records a failed attempt of stream and returns how long to wait before the next.
func (s *Sender) failed(stream string, err error, after time.Duration) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[stream]
	st.failStreak++
	st.lastError = err.Error()
	d := sendBackoff(st.failStreak, s.cfg.BackoffBase, s.cfg.BackoffCap, after, s.cfg.Rand)
	st.lastTry = s.cfg.Clock.Now()
	st.nextTry = st.lastTry.Add(d)
	return d
}

func (s *Sender) failing(stream string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[stream].failStreak > 0
}
