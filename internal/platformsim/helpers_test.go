package platformsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
)

// t0 is a Monday morning in the hall's zone.
var t0 = time.Date(2026, 11, 23, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

type fixture struct {
	sim   *Sim
	srv   *httptest.Server
	clk   *clock.Fake
	token string // of node "n1"
}

const testNode = "n1"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := clock.NewFake(t0)
	sim, err := Open(context.Background(), Config{DBPath: filepath.Join(t.TempDir(), "p.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		sim.Close()
	})
	return &fixture{sim: sim, srv: srv, clk: clk, token: sim.AddNode(testNode, "sim-hall")}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.status, a.body) }

// do sends one request with a fresh client (no reused connections between faults).
func (f *fixture) do(t *testing.T, method, path, token string, body any, hdr ...string) (answer, error) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{resp.StatusCode, resp.Header, b}, nil
}

func (f *fixture) must(t *testing.T, method, path, token string, body any, hdr ...string) answer {
	t.Helper()
	a, err := f.do(t, method, path, token, body, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return a
}

var uuidCounter atomic.Uint64

func newID() string {
	return fmt.Sprintf("0192f1c2-0000-7000-8000-%012x", uuidCounter.Add(1))
}

func ev(id, stream string, seq int64, typ string) map[string]any {
	return map[string]any{"id": id, "stream": stream, "seq": seq, "type": typ,
		"occurred_at": "2026-11-22T09:15:02.113+08:00", "data": map[string]any{"ticket": "A023"}}
}

func batch(events ...map[string]any) map[string]any { return map[string]any{"events": events} }

type results struct {
	Results []eventResult `json:"results"`
}

func decodeResults(t *testing.T, a answer) []eventResult {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("events: %v; want 200", a)
	}
	var r results
	if err := json.Unmarshal(a.body, &r); err != nil {
		t.Fatalf("events answer %s: %v", a.body, err)
	}
	return r.Results
}

// errorCode checks the body is UPLINK.md's error shape and returns its code.
func errorCode(t *testing.T, a answer) string {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body %q is not {\"error\": {\"code\", \"message\"}}", a.body)
	}
	return e.Error.Code
}

func httptestServer(t *testing.T, s *Sim) string {
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func httpPostJSON(t *testing.T, url, token, body string) []byte {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}
