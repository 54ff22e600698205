package uplink

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/store"
)

// PullerConfig configures a Puller. Client, DB and a 32-byte DocKey are required.
type PullerConfig struct {
	Client *Client
	DB     *store.DB
	Clock  clock.Clock     // nil: the wall clock
	Health health.Reporter // nil: health is not reported
	Log    *slog.Logger    // nil: discarded
	// DocKey is the AES-256 key for certificates and materials at rest (32 bytes).
	DocKey []byte
	// Interval between two rounds of pulls. Default 1 minute.
	Interval time.Duration
	// OnConfig applies a new, valid node config (the queue's categories, the screens'
	// texts...). An error refuses the config: the old one stays applied and stored. It is
	// called outside any store transaction, so it may write to the store.
	OnConfig func(NodeConfig) error
	// Location is the hall's time zone, for "today" in the appointments pull and the day
	// of an appointment. nil: Asia/Shanghai.
	Location *time.Location
	// AppointmentDays is how many days of appointments to keep from today. Default 2.
	AppointmentDays int
}

// Puller keeps the node's copies of what the platform publishes (node config, catalogue,
// pickups, appointments) with ETags, and makes the live calls (progress, materials). It
// is safe for concurrent use; pulls of the same resource never overlap.
type Puller struct {
	c      PullerConfig
	clk    clock.Clock
	log    *slog.Logger
	loc    *time.Location
	health health.Reporter

	pullMu [4]sync.Mutex // one per resource, see pullConfig...pullAppointments
	// matMu is a lock with a deadline (see matLock): FlushMaterials and UploadMaterial
	// upload one at a time, and a citizen's upload must not wait past its budget for it.
	matMu chan struct{}

	catMu   sync.Mutex
	catETag string // the ETag of cat, the parsed cache of the stored catalogue
	cat     Catalog
}

const (
	pullConfig = iota
	pullCatalog
	pullPickups
	pullAppointments
)

// Health components the Puller reports; codes are uplink.<what>_refused for refused data,
// uplink.pull_failed for a failed attempt and uplink.unauthorized for a 401/403.
const (
	ComponentConfig       = "uplink.config"
	ComponentCatalog      = "uplink.catalog"
	ComponentPickups      = "uplink.pickups"
	ComponentAppointments = "uplink.appointments"
	ComponentMaterials    = "uplink.materials"
)

// RefusedError is data from the platform that failed validation; the node keeps its last
// good copy and reports health code uplink.<What>_refused.
type RefusedError struct {
	What string // config, catalog, pickup, appointments
	Err  error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("uplink: refused the platform's %s (keeping the last good copy): %v", e.What, e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

type pullNoHealth struct{}

func (pullNoHealth) Report(string, health.State, string, string) {}

// NewPuller checks cfg and fills in defaults. It does no I/O.
func NewPuller(cfg PullerConfig) (*Puller, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("uplink: puller: Client is required")
	case cfg.DB == nil:
		return nil, errors.New("uplink: puller: DB is required")
	case len(cfg.DocKey) != 32:
		return nil, fmt.Errorf("uplink: puller: DocKey is %d bytes; documents at rest need a 32-byte AES-256 key", len(cfg.DocKey))
	case cfg.Client.Node == "":
		return nil, errors.New("uplink: puller: the client has no node id")
	}
	p := &Puller{c: cfg, clk: cfg.Clock, log: cfg.Log, loc: cfg.Location, health: cfg.Health, matMu: make(chan struct{}, 1)}
	if p.clk == nil {
		p.clk = clock.Real{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("component", "uplink.pull")
	if p.health == nil {
		p.health = pullNoHealth{}
	}
	if p.loc == nil {
		p.loc = pullShanghai()
	}
	if p.c.Interval <= 0 {
		p.c.Interval = time.Minute
	}
	if p.c.AppointmentDays <= 0 {
		p.c.AppointmentDays = 2
	}
	return p, nil
}

func pullShanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600) // no tzdata on this machine; China has no DST
}

// Run pulls everything every Interval until ctx ends, then returns ctx.Err(). After a
// failed attempt (network, 5xx, 401) it waits longer each time, with jitter, from
// Interval up to 5 minutes (or Interval when longer), and never less than the platform's
// Retry-After. Refused data is not a failure of the link: it waits the normal Interval.
func (p *Puller) Run(ctx context.Context) error {
	fails := 0
	for {
		err := p.PullAll(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := p.c.Interval
		if pullLinkFailed(err) {
			fails++
			wait = pullBackoff(p.c.Interval, fails, err)
			p.log.Warn("uplink: pull failed; retrying later", "err", err, "fails", fails, "retry_in", wait)
		} else {
			fails = 0
		}
		if !sendSleep(ctx, p.clk, wait) {
			return ctx.Err()
		}
	}
}

// PullAll runs one round: config, catalogue, appointments, pickups, then expires old
// pickups and uploads pending materials. It returns every failure joined.
func (p *Puller) PullAll(ctx context.Context) error {
	var errs []error
	for _, f := range []func(context.Context) (bool, error){p.PullConfig, p.PullCatalog, p.PullAppointments, p.PullPickups} {
		if _, err := f(ctx); err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if _, err := p.Expire(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := p.FlushMaterials(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// pullLinkFailed tells a failure of the link (worth backing off) from refused data.
func pullLinkFailed(err error) bool {
	var re *RetryError
	return errors.As(err, &re) || errors.Is(err, ErrUnauthorized)
}

// pullBackoff is the wait after the n-th failure in a row: between half and all of
// min(interval·2^(n-1), cap), at least the longest Retry-After in err.
func pullBackoff(interval time.Duration, n int, err error) time.Duration {
	limit := max(5*time.Minute, interval)
	d := interval
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	d = d/2 + rand.N(d/2+1)
	return max(d, longestRetryAfter(err))
}

// longestRetryAfter is the longest RetryError.After anywhere in err's tree. errors.As
// would stop at the first RetryError, and PullAll joins one error per resource, so a
// short Retry-After of the config could hide the catalogue's long one.
func longestRetryAfter(err error) time.Duration {
	var d time.Duration
	for err != nil {
		if re, ok := err.(*RetryError); ok {
			d = max(d, re.After)
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				d = max(d, longestRetryAfter(e))
			}
			return d
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return d
		}
	}
	return d
}

// matLock takes matMu, or gives up with ctx's error when ctx ends first.
func (p *Puller) matLock(ctx context.Context) error {
	select {
	case p.matMu <- struct{}{}: // a free lock is taken even if ctx has ended
		return nil
	default:
	}
	select {
	case p.matMu <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Puller) matUnlock() { <-p.matMu }

// pullStored is the stored copy of a pulled resource.
type pullStored struct {
	ETag             string
	Body             []byte
	Fetched, Checked time.Time
}

func (p *Puller) pullLoad(ctx context.Context, name string) (pullStored, bool, error) {
	var s pullStored
	var fetched, checked string
	err := p.c.DB.Read().QueryRowContext(ctx, `SELECT etag, body, fetched_at, checked_at FROM downlink_pulls WHERE name = ?`, name).
		Scan(&s.ETag, &s.Body, &fetched, &checked)
	if errors.Is(err, sql.ErrNoRows) {
		return pullStored{}, false, nil
	}
	if err != nil {
		return pullStored{}, false, fmt.Errorf("uplink: reading the stored %s: %w", name, err)
	}
	s.Fetched, _ = store.ParseTime(fetched)
	s.Checked, _ = store.ParseTime(checked)
	return s, true, nil
}

func pullSave(tx *store.Tx, name, etag string, body []byte, now time.Time) error {
	if body == nil {
		body = []byte{}
	}
	t := store.FormatTime(now)
	_, err := tx.Exec(`INSERT INTO downlink_pulls (name, etag, body, fetched_at, checked_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET etag = excluded.etag, body = excluded.body,
		fetched_at = excluded.fetched_at, checked_at = excluded.checked_at`, name, etag, body, t, t)
	return err
}

// pullTouch records that the platform confirmed the stored copy (a 304).
// pullFresh fetches path with the stored copy's ETag. It returns the answer only when it
// holds something new to parse and apply; a 304, or the same bytes under a new ETag (or
// none), just renews the stored copy and returns nil.
func (p *Puller) pullFresh(ctx context.Context, name, path string) (*Response, error) {
	old, _, err := p.pullLoad(ctx, name)
	if err != nil {
		return nil, err
	}
	r, notModified, err := p.pullGet(ctx, path, old.ETag)
	if err != nil {
		return nil, err
	}
	if notModified {
		return nil, p.pullTouch(ctx, name)
	}
	if len(old.Body) > 0 && bytes.Equal(r.Body, old.Body) {
		return nil, p.c.DB.Write(ctx, func(tx *store.Tx) error {
			return pullSave(tx, name, r.Header.Get("ETag"), r.Body, p.clk.Now())
		})
	}
	return r, nil
}

func (p *Puller) pullTouch(ctx context.Context, name string) error {
	return p.c.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE downlink_pulls SET checked_at = ? WHERE name = ?`, store.FormatTime(p.clk.Now()), name)
		return err
	})
}

// pullGet GETs path, sending etag as If-None-Match when there is one. notModified is a 304.
func (p *Puller) pullGet(ctx context.Context, path, etag string) (r *Response, notModified bool, err error) {
	h := http.Header{}
	if etag != "" {
		h.Set("If-None-Match", etag)
	}
	r, err = p.c.Client.Do(ctx, http.MethodGet, path, nil, "", h)
	if err != nil {
		return nil, false, err
	}
	if r.Status == http.StatusNotModified {
		if etag == "" {
			return nil, false, &RetryError{Status: r.Status, Err: fmt.Errorf("GET %s: 304 to a request without If-None-Match", path)}
		}
		return r, true, nil
	}
	if r.Status != http.StatusOK {
		return nil, false, &RetryError{Status: r.Status, Err: fmt.Errorf("GET %s: HTTP %d where 200 or 304 was expected", path, r.Status)}
	}
	return r, false, nil
}

// pullReport publishes the outcome of one pull.
func (p *Puller) pullReport(component string, err error) {
	var ref *RefusedError
	switch {
	case err == nil:
		p.health.Report(component, health.OK, "", "")
	case errors.As(err, &ref):
		p.health.Report(component, health.Degraded, "uplink."+ref.What+"_refused", err.Error())
		p.log.Error("uplink: refused data from the platform", "what", ref.What, "err", err)
	case errors.Is(err, ErrUnauthorized):
		p.health.Report(component, health.Down, "uplink.unauthorized", err.Error())
	case errors.Is(err, context.Canceled):
	default:
		p.health.Report(component, health.Degraded, "uplink.pull_failed", err.Error())
	}
}
