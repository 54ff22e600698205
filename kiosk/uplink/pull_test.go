package uplink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/store"
	"github.com/hallkiosk/hallkiosk/internal/testlog"
)

var pullT0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

func pullKey() []byte { return []byte("0123456789abcdef0123456789abcdef") }

// pullFake is a small platform: fixed answers per path, ETags from the body, request counts.
type pullFake struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	bodies  map[string][]byte // path (without query) -> 200 body
	status  map[string]int    // path -> status other than 200
	hits    map[string]int
	got304  map[string]int
	queries map[string]string
	handler map[string]http.HandlerFunc
}

func newPullFake(t testing.TB) *pullFake {
	f := &pullFake{t: t, bodies: map[string][]byte{}, status: map[string]int{}, hits: map[string]int{},
		got304: map[string]int{}, queries: map[string]string{}, handler: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *pullFake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits[r.URL.Path]++
	f.queries[r.URL.Path] = r.URL.RawQuery
	h := f.handler[r.URL.Path]
	body, ok := f.bodies[r.URL.Path]
	status := f.status[r.URL.Path]
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer tok-test-0123456789" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if h != nil {
		h(w, r)
		return
	}
	if status != 0 {
		w.WriteHeader(status)
		w.Write([]byte(`{"error": {"code": "test", "message": "set by the test"}}`))
		return
	}
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error": {"code": "not_found", "message": "no such thing"}}`))
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		f.mu.Lock()
		f.got304[r.URL.Path]++
		f.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(body)
}

func (f *pullFake) set(path, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[path] = []byte(body)
	delete(f.status, path)
}

func (f *pullFake) setBytes(path string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[path] = body
}

func (f *pullFake) count(m map[string]int, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return m[path]
}

func pullOpenDB(t testing.TB, path string) *store.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "node.db")
	}
	db, err := store.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type pullRig struct {
	p    *Puller
	db   *store.DB
	clk  *clock.Fake
	reg  *health.Registry
	logs *testlog.Sink
	cfgs []NodeConfig // handed to OnConfig
	fail error        // OnConfig's answer
}

func newPullRig(t testing.TB, base string, db *store.DB) *pullRig {
	t.Helper()
	if db == nil {
		db = pullOpenDB(t, "")
	}
	r := &pullRig{db: db, clk: clock.NewFake(pullT0), logs: &testlog.Sink{}}
	r.reg = health.NewRegistry(r.clk.Now)
	p, err := NewPuller(PullerConfig{
		Client: &Client{Base: base, Node: "hall-0571-01-t03", Token: "tok-test-0123456789"},
		DB:     db, Clock: r.clk, Health: r.reg, Log: r.logs.Logger(), DocKey: pullKey(),
		OnConfig: func(c NodeConfig) error {
			if r.fail != nil {
				return r.fail
			}
			r.cfgs = append(r.cfgs, c)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.p = p
	return r
}

func (r *pullRig) health(t testing.TB, component string) health.Status {
	t.Helper()
	st, ok := r.reg.Get(component)
	if !ok {
		t.Fatalf("no health reported for %s", component)
	}
	return st
}

const pullGoodConfig = `{"hall_name": "西湖区政务服务中心", "timezone": "Asia/Shanghai",
 "categories": [
  {"code": "A", "prefix": "A", "name_zh": "综合受理", "name_en": "General", "windows": [1, 2], "avg_service_s": 300, "open": "08:30", "close": "17:00"},
  {"code": "B", "prefix": "B", "name_zh": "不动产登记", "name_en": "Real estate", "windows": [3], "avg_service_s": 600, "open": "", "close": ""}],
 "windows": [{"id": 1, "categories": ["A"]}, {"id": 2, "categories": ["A", "B"]}, {"id": 3, "categories": ["B"]}],
 "screen_texts": {"welcome_zh": "欢迎"},
 "profiles": {"printer": "ticket-80mm"}}`

const pullConfigPath = "/v1/nodes/hall-0571-01-t03/config"

func TestPullConfigETag(t *testing.T) {
	f := newPullFake(t)
	f.set(pullConfigPath, pullGoodConfig)
	r := newPullRig(t, f.srv.URL, nil)
	ctx := context.Background()

	if _, ok, _ := r.p.Config(ctx); ok {
		t.Fatal("Config before the first pull: ok")
	}
	changed, err := r.p.PullConfig(ctx)
	if err != nil || !changed {
		t.Fatalf("first PullConfig = %v, %v; want true, nil", changed, err)
	}
	if len(r.cfgs) != 1 || r.cfgs[0].HallName != "西湖区政务服务中心" || len(r.cfgs[0].Categories) != 2 {
		t.Fatalf("OnConfig got %+v", r.cfgs)
	}
	changed, err = r.p.PullConfig(ctx)
	if err != nil || changed {
		t.Fatalf("second PullConfig = %v, %v; want false, nil (304)", changed, err)
	}
	if n := f.count(f.got304, pullConfigPath); n != 1 {
		t.Fatalf("platform answered 304 %d times; want 1 (If-None-Match not sent?)", n)
	}
	if len(r.cfgs) != 1 {
		t.Fatalf("OnConfig called %d times; a 304 must not apply again", len(r.cfgs))
	}
	cfg, ok, err := r.p.Config(ctx)
	if err != nil || !ok || cfg.Windows[1].ID != 2 {
		t.Fatalf("Config() = %+v, %v, %v", cfg, ok, err)
	}
	if st := r.health(t, ComponentConfig); st.State != health.OK {
		t.Fatalf("health = %+v; want ok", st)
	}
}

func TestPullConfigRefused(t *testing.T) {
	f := newPullFake(t)
	f.set(pullConfigPath, pullGoodConfig)
	r := newPullRig(t, f.srv.URL, nil)
	ctx := context.Background()
	if _, err := r.p.PullConfig(ctx); err != nil {
		t.Fatal(err)
	}
	good := strings.NewReplacer("\n", "")
	bad := []struct{ name, body, want string }{
		{"not json", `{"hall_name": `, "not the contract's shape"},
		{"a list", `[]`, "not the contract's shape"},
		{"unknown field", strings.Replace(pullGoodConfig, `"timezone"`, `"colour": "red", "timezone"`, 1), "unknown field"},
		{"no hall name", strings.Replace(pullGoodConfig, "西湖区政务服务中心", " ", 1), "hall_name"},
		{"bad zone", strings.Replace(pullGoodConfig, "Asia/Shanghai", "Mars/Olympus", 1), "timezone"},
		{"unknown window", strings.Replace(pullGoodConfig, `"windows": [3]`, `"windows": [9]`, 1), "names window 9"},
		{"unknown category", strings.Replace(pullGoodConfig, `"categories": ["B"]}`, `"categories": ["Z"]}`, 1), `names category "Z"`},
		{"bad hours", strings.Replace(pullGoodConfig, `"08:30"`, `"8.30"`, 1), "HH:MM"},
		{"closes first", strings.Replace(pullGoodConfig, `"08:30"`, `"18:30"`, 1), "not before it closes"},
		{"same prefix", strings.Replace(pullGoodConfig, `"prefix": "B"`, `"prefix": "A"`, 1), "also the prefix"},
		{"no categories", `{"hall_name": "x", "timezone": "Asia/Shanghai", "categories": [], "windows": [{"id": 1, "categories": []}]}`, "categories: is empty"},
	}
	for _, tc := range bad {
		f.set(pullConfigPath, good.Replace(tc.body))
		changed, err := r.p.PullConfig(ctx)
		var ref *RefusedError
		if changed || !errors.As(err, &ref) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: PullConfig = %v, %v; want a RefusedError mentioning %q", tc.name, changed, err, tc.want)
		}
		st := r.health(t, ComponentConfig)
		if st.State != health.Degraded || st.Code != "uplink.config_refused" || !strings.Contains(st.Message, tc.want) {
			t.Errorf("%s: health = %+v; want degraded uplink.config_refused with the reason", tc.name, st)
		}
		if cfg, ok, _ := r.p.Config(ctx); !ok || cfg.HallName != "西湖区政务服务中心" {
			t.Errorf("%s: the old config is gone: %+v", tc.name, cfg)
		}
	}
	if len(r.cfgs) != 1 {
		t.Fatalf("OnConfig saw %d configs; want only the good one", len(r.cfgs))
	}

	// A config the node cannot apply is refused the same way.
	f.set(pullConfigPath, strings.Replace(pullGoodConfig, "欢迎", "欢迎光临", 1))
	r.fail = errors.New("queue: category A has open tickets")
	if _, err := r.p.PullConfig(ctx); err == nil || !strings.Contains(err.Error(), "open tickets") {
		t.Fatalf("PullConfig with a failing OnConfig = %v", err)
	}
	if cfg, _, _ := r.p.Config(ctx); cfg.ScreenTexts["welcome_zh"] != "欢迎" {
		t.Fatalf("stored config changed although OnConfig refused it")
	}
	r.fail = nil
	if changed, err := r.p.PullConfig(ctx); !changed || err != nil {
		t.Fatalf("PullConfig once OnConfig accepts = %v, %v", changed, err)
	}
	if st := r.health(t, ComponentConfig); st.State != health.OK {
		t.Fatalf("health after a good config = %+v", st)
	}
}

func TestPullConfigWindowNumber(t *testing.T) {
	c := strings.ReplaceAll(pullGoodConfig, `"id":`, `"number":`)
	cfg, err := ParseNodeConfig([]byte(c))
	if err != nil || cfg.Windows[2].ID != 3 {
		t.Fatalf("ParseNodeConfig with window numbers = %+v, %v", cfg.Windows, err)
	}
	c = strings.Replace(pullGoodConfig, `{"id": 1,`, `{"id": 1, "number": 2,`, 1)
	if _, err := ParseNodeConfig([]byte(c)); err == nil {
		t.Fatal("ParseNodeConfig accepted a window whose id and number differ")
	}
}

func TestPullFailureReported(t *testing.T) {
	f := newPullFake(t)
	f.mu.Lock()
	f.status[pullConfigPath] = http.StatusServiceUnavailable
	f.mu.Unlock()
	r := newPullRig(t, f.srv.URL, nil)
	_, err := r.p.PullConfig(context.Background())
	var re *RetryError
	if !errors.As(err, &re) {
		t.Fatalf("PullConfig on a 503 = %v; want a RetryError", err)
	}
	if st := r.health(t, ComponentConfig); st.Code != "uplink.pull_failed" {
		t.Fatalf("health = %+v", st)
	}
	r.p.c.Client.Token = "tok-wrong"
	if _, err := r.p.PullConfig(context.Background()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("PullConfig with a bad token = %v", err)
	}
	if st := r.health(t, ComponentConfig); st.Code != "uplink.unauthorized" || st.State != health.Down {
		t.Fatalf("health = %+v", st)
	}
}

func TestPullBackoff(t *testing.T) {
	for n := 1; n < 12; n++ {
		d := pullBackoff(time.Minute, n, nil)
		limit := min(time.Minute<<(n-1), 5*time.Minute)
		if d < limit/2 || d > limit {
			t.Errorf("pullBackoff(1m, %d) = %v; want within [%v, %v]", n, d, limit/2, limit)
		}
	}
	if d := pullBackoff(time.Second, 1, &RetryError{After: time.Hour}); d != time.Hour {
		t.Errorf("pullBackoff with Retry-After 1h = %v", d)
	}
	// PullAll joins one error per resource; the longest Retry-After wins wherever it is.
	busy := func(d time.Duration) error { return &RetryError{Status: 503, After: d, Err: errors.New("busy")} }
	for _, err := range []error{
		errors.Join(busy(time.Minute), busy(time.Hour), errors.New("x")),
		errors.Join(busy(time.Minute), errors.Join(errors.New("x"), fmt.Errorf("pull: %w", busy(time.Hour)))),
		fmt.Errorf("round: %w and %w", busy(2*time.Minute), busy(time.Hour)),
	} {
		if d := pullBackoff(time.Second, 1, err); d != time.Hour {
			t.Errorf("pullBackoff(1s, 1, %v) = %v; want the longest Retry-After, 1h", err, d)
		}
	}
}

func TestPullRunLoops(t *testing.T) {
	f := newPullFake(t)
	f.set(pullConfigPath, pullGoodConfig)
	r := newPullRig(t, f.srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.p.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for rounds := 0; rounds < 3; {
		if time.Now().After(deadline) {
			t.Fatal("Run did not loop")
		}
		if r.clk.Waiters() > 0 {
			r.clk.Advance(5 * time.Minute)
			rounds++
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if n := f.count(f.hits, pullConfigPath); n < 3 {
		t.Fatalf("config pulled %d times in 3 rounds", n)
	}
}

func TestPullConfigWithoutETag(t *testing.T) {
	f := newPullFake(t)
	f.handler[pullConfigPath] = func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			t.Errorf("If-None-Match %q sent although the platform gave no ETag", r.Header.Get("If-None-Match"))
		}
		w.Write([]byte(pullGoodConfig))
	}
	r := newPullRig(t, f.srv.URL, nil)
	for i, want := range []bool{true, false, false} {
		if changed, err := r.p.PullConfig(context.Background()); changed != want || err != nil {
			t.Fatalf("pull %d = %v, %v; want %v", i+1, changed, err, want)
		}
	}
	if len(r.cfgs) != 1 {
		t.Fatalf("the same config was applied %d times", len(r.cfgs))
	}
}
