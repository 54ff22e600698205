package hall

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/store"
	"github.com/hallkiosk/hallkiosk/queue"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// openQueue opens a queue over a fresh database.
func openQueue(t *testing.T, cfg queue.Config, clk clock.Clock) *queue.Queue {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "hall.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	q, err := queue.New(db, cfg, clk)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// testCategories are A (windows 1 and 2) and B (window 3).
var testCategories = []queue.Category{
	{Code: "A", Prefix: "A", NameZH: "社保", NameEN: "Social insurance", Windows: []int{1, 2}},
	{Code: "B", Prefix: "B", NameZH: "不动产", NameEN: "Real estate", Windows: []int{3}},
}

// newQueue is the hall of the API tests, on a fake clock at 09:00 in Shanghai.
func newQueue(t *testing.T) *queue.Queue {
	return openQueue(t, queue.Config{Categories: testCategories, Windows: []queue.Window{{ID: 1}, {ID: 2}, {ID: 3}},
		Location: shanghai}, clock.NewFake(time.Date(2026, 11, 23, 9, 0, 0, 0, shanghai)))
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	q := newQueue(t)
	api := &API{Queue: q, Hub: &Hub{}, HallName: "测试大厅", Tokens: Tokens{Terminal: []string{"term-secret"}, Manager: []string{"mgr-secret"},
		// Window 9 has a token but is not in the queue's configuration: unknown_window.
		Windows: map[int]string{1: "w1-secret", 2: "w2-secret", 3: "w3-secret", 9: "w9-secret"}}}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	var buf bytes.Buffer
	if resp.StatusCode == 200 && resp.Header.Get("Content-Type") == "audio/wav" {
		return resp.StatusCode, nil
	}
	buf.ReadFrom(resp.Body)
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %q", method, path, buf.String())
	}
	return resp.StatusCode, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestTakeCallServe(t *testing.T) {
	srv := newServer(t)
	code, m := do(t, srv, "POST", "/hall/v1/tickets", "term-secret", `{"category":"A"}`)
	if code != 201 || m["ticket"] != "A001" || m["ahead"] != 0.0 {
		t.Fatalf("issue = %d %v; want 201 A001 with nobody ahead", code, m)
	}
	do(t, srv, "POST", "/hall/v1/tickets", "term-secret", `{"category":"A"}`)
	code, m = do(t, srv, "POST", "/hall/v1/windows/1/call-next", "w1-secret", "")
	if code != 200 || m["ticket"] != "A001" || m["state"] != "called" || m["window"] != 1.0 {
		t.Fatalf("call-next = %d %v; want A001 called to window 1", code, m)
	}
	for _, op := range []string{"recall", "start"} {
		if code, m = do(t, srv, "POST", "/hall/v1/windows/1/"+op, "w1-secret", ""); code != 200 {
			t.Fatalf("%s = %d %v", op, code, m)
		}
	}
	code, m = do(t, srv, "POST", "/hall/v1/windows/1/finish", "w1-secret", `{"outcome":"served"}`)
	if code != 200 || m["state"] != "finished" || m["outcome"] != "served" {
		t.Fatalf("finish = %d %v; want served", code, m)
	}
	code, m = do(t, srv, "GET", "/hall/v1/status", "term-secret", "")
	if code != 200 || m["served"] != 1.0 {
		t.Errorf("status = %d %v; want 1 served", code, m)
	}
}

func TestAuthorisation(t *testing.T) {
	srv := newServer(t)
	cases := []struct {
		method, path, token, body string
		want                      int
	}{
		{"POST", "/hall/v1/tickets", "", `{"category":"A"}`, 401},
		{"POST", "/hall/v1/tickets", "w1-secret", `{"category":"A"}`, 401}, // a window cannot issue
		{"POST", "/hall/v1/windows/1/call-next", "w2-secret", "", 401},     // another window's token
		{"POST", "/hall/v1/windows/1/call-next", "term-secret", "", 401},   // a terminal cannot call
		{"POST", "/hall/v1/reset", "w1-secret", "", 401},
		{"GET", "/hall/v1/status", "nonsense", "", 401},
		{"POST", "/hall/v1/reset", "mgr-secret", "", 200},
	}
	for _, c := range cases {
		if code, m := do(t, srv, c.method, c.path, c.token, c.body); code != c.want {
			t.Errorf("%s %s with %q = %d %v; want %d", c.method, c.path, c.token, code, m, c.want)
		}
	}
}

func TestBadRequestsAreClearAndHarmless(t *testing.T) {
	srv := newServer(t)
	cases := []struct {
		path, token, body string
		want              int
		code              string
	}{
		{"/hall/v1/tickets", "term-secret", `{"category":"Z"}`, 400, "unknown_category"},
		{"/hall/v1/tickets", "term-secret", `{"category":"A","colour":"red"}`, 400, "bad_json"},
		{"/hall/v1/tickets", "term-secret", `{"category":`, 400, "bad_json"},
		{"/hall/v1/tickets", "term-secret", `{"category":"A"}{"category":"A"}`, 400, "bad_json"},
		{"/hall/v1/tickets", "term-secret", `{"category":"A","source":"id_card"}`, 400, "bad_request"},
		{"/hall/v1/tickets", "term-secret", strings.Repeat(" ", 20000) + `{"category":"A"}`, 400, "bad_json"},
		{"/hall/v1/windows/1/finish", "w1-secret", `{"outcome":"served"}`, 404, "no_ticket"},
		{"/hall/v1/windows/3/call-next", "w3-secret", ``, 404, "no_ticket"},
		{"/hall/v1/windows/3/call", "w3-secret", `{"ticket":"A999"}`, 404, "no_ticket"},
		{"/hall/v1/windows/1/dance", "w1-secret", ``, 404, "unknown_operation"},
		{"/hall/v1/windows/x/call-next", "w1-secret", ``, 400, "bad_request"},
		{"/hall/v1/tickets/A001/cancel", "term-secret", `{}`, 400, "bad_request"},
		{"/hall/v1/windows/9/call-next", "w9-secret", ``, 404, "unknown_window"},
		{"/hall/v1/windows/1/transfer", "w1-secret", `{"category":"B","position":"sideways"}`, 400, "bad_request"},
		{"/hall/v1/windows/1/finish", "w1-secret", `{"outcome":"no_show","next":"B"}`, 400, "bad_request"},
		{"/hall/v1/nothing", "w1-secret", ``, 404, "not_found"},
		{"/hall/v1/status", "w1-secret", ``, 405, "method_not_allowed"},
	}
	for _, c := range cases {
		code, m := do(t, srv, "POST", c.path, c.token, c.body)
		if code != c.want || errCode(m) != c.code {
			t.Errorf("POST %s %.40q = %d %v; want %d %s", c.path, c.body, code, m, c.want, c.code)
		}
	}
	// After all that, the queue still numbers from A001 and nothing is waiting.
	if code, m := do(t, srv, "POST", "/hall/v1/tickets", "term-secret", `{"category":"A"}`); code != 201 || m["ticket"] != "A001" {
		t.Errorf("issue after bad requests = %d %v; want A001", code, m)
	}
}

func TestPrintFailedCancel(t *testing.T) {
	srv := newServer(t)
	do(t, srv, "POST", "/hall/v1/tickets", "term-secret", `{"category":"B"}`)
	code, m := do(t, srv, "POST", "/hall/v1/tickets/B001/cancel", "term-secret", `{"reason":"print_failed"}`)
	if code != 200 || m["outcome"] != "cancelled" || m["reason"] != "print_failed" {
		t.Fatalf("cancel = %d %v; want cancelled print_failed", code, m)
	}
	if code, m := do(t, srv, "POST", "/hall/v1/windows/3/call-next", "w3-secret", ""); code == 200 {
		t.Errorf("a cancelled ticket was called: %v", m)
	}
}

// Two windows calling at the same moment never get the same ticket.
func TestConcurrentCallsNeverShareATicket(t *testing.T) {
	srv := newServer(t)
	for i := 0; i < 40; i++ {
		do(t, srv, "POST", "/hall/v1/tickets", "term-secret", `{"category":"A"}`)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, w := range []string{"1", "2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				code, m := do(t, srv, "POST", "/hall/v1/windows/"+w+"/call-next", "w"+w+"-secret", "")
				if code != 200 {
					t.Errorf("window %s call-next = %d %v", w, code, m)
					return
				}
				mu.Lock()
				seen[m["ticket"].(string)]++
				mu.Unlock()
				do(t, srv, "POST", "/hall/v1/windows/"+w+"/finish", "w"+w+"-secret", `{"outcome":"no_show"}`)
			}
		}()
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Errorf("40 calls reached %d distinct tickets", len(seen))
	}
	for n, c := range seen {
		if c != 1 {
			t.Errorf("ticket %s called %d times", n, c)
		}
	}
}

// The status speaks the API's snake_case throughout, windows and print failures included,
// whatever the queue's Go types are called.
func TestStatusShape(t *testing.T) {
	srv := newServer(t)
	do(t, srv, "POST", "/hall/v1/tickets", "term-secret", `{"category":"A"}`)
	do(t, srv, "POST", "/hall/v1/tickets", "term-secret", `{"category":"B"}`)
	do(t, srv, "POST", "/hall/v1/tickets/B001/cancel", "term-secret", `{"reason":"print_failed"}`)
	do(t, srv, "POST", "/hall/v1/windows/2/call-next", "w2-secret", "")
	code, m := do(t, srv, "GET", "/hall/v1/status", "w1-secret", "")
	if code != 200 {
		t.Fatalf("status = %d %v", code, m)
	}
	want := []string{"business_date", "longest_wait_s", "no_shows", "parked", "print_failures", "served", "waiting", "windows"}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, want) {
		t.Errorf("status keys = %v; want %v", keys, want)
	}
	ws, _ := m["windows"].([]any)
	if len(ws) != 3 {
		t.Fatalf("status windows = %v; want windows 1, 2 and 3", m["windows"])
	}
	w1, _ := ws[0].(map[string]any)
	if !reflect.DeepEqual(w1, map[string]any{"id": 1.0, "state": "idle"}) {
		t.Errorf("idle window 1 = %v; want {id: 1, state: idle}", w1)
	}
	w2, _ := ws[1].(map[string]any)
	since, _ := w2["since"].(string)
	if w2["id"] != 2.0 || w2["state"] != "called" || w2["ticket"] != "A001" || len(w2) != 4 || !strings.HasSuffix(since, "+08:00") {
		t.Errorf("window 2 = %v; want id 2, state called, ticket A001, since in the hall's zone", w2)
	}
	pf, ok := m["print_failures"].([]any)
	if !ok || len(pf) != 1 {
		t.Fatalf("print_failures = %#v; want a list of B001", m["print_failures"])
	}
	f, _ := pf[0].(map[string]any)
	at, _ := f["at"].(string)
	if f["ticket"] != "B001" || f["category"] != "B" || !strings.HasSuffix(at, "+08:00") || len(f) != 3 {
		t.Errorf("print failure = %v; want ticket B001, category B, at in the hall's zone", f)
	}
	// None is an empty list, not null.
	if _, m := do(t, newServer(t), "GET", "/hall/v1/status", "w1-secret", ""); m["print_failures"] == nil {
		t.Errorf("print_failures with none = %#v; want []", m["print_failures"])
	}
}

// A ticket's wait_s counts the wait so far while it still waits, not only once it is called.
func TestTicketShowsWaitSoFar(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 23, 9, 0, 0, 0, shanghai))
	q := openQueue(t, queue.Config{Categories: testCategories, Windows: []queue.Window{{ID: 1}, {ID: 2}, {ID: 3}},
		Location: shanghai}, clk)
	srv := httptest.NewServer((&API{Queue: q, Hub: &Hub{}, Tokens: Tokens{Terminal: []string{"term-secret"}}}).Handler())
	t.Cleanup(srv.Close)
	if code, m := do(t, srv, "POST", "/hall/v1/tickets", "term-secret", `{"category":"A","source":"walk_in"}`); code != 201 || m["wait_s"] != float64(0) {
		t.Fatalf("issue = %d %v; want 201 with wait_s 0", code, m)
	}
	clk.Advance(5 * time.Minute)
	if code, m := do(t, srv, "GET", "/hall/v1/tickets/A001", "term-secret", ""); code != 200 || m["state"] != "waiting" || m["wait_s"] != float64(300) {
		t.Errorf("ticket after 5 min = %d %v; want waiting with wait_s 300", code, m)
	}
}
