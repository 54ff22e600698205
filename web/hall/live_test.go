package hall

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/voice"
)

// A call reaches a display's event stream within a second.
func TestCallReachesEventStreamWithin1s(t *testing.T) {
	srv := newServer(t)
	resp, err := http.Get(srv.URL + "/hall/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events Content-Type = %q", ct)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	do(t, srv, "POST", "/hall/v1/tickets", "term-secret", `{"category":"A"}`)
	start := time.Now()
	do(t, srv, "POST", "/hall/v1/windows/2/call-next", "w2-secret", "")
	deadline := time.After(time.Second)
	for {
		select {
		case l := <-lines:
			data, ok := strings.CutPrefix(l, "data: ")
			if !ok {
				continue
			}
			var e Event
			json.Unmarshal([]byte(data), &e)
			if e.Type == "called" {
				if e.Ticket != "A001" || e.Window != 2 {
					t.Errorf("called event = %+v; want A001 at window 2", e)
				}
				t.Logf("call reached the stream after %s", time.Since(start))
				// The board remembers it for a display that loads later.
				_, m := do(t, srv, "GET", "/hall/v1/board", "", "")
				if calls, _ := m["calls"].([]any); len(calls) != 1 {
					t.Errorf("board calls = %v; want the one call", m["calls"])
				}
				return
			}
		case <-deadline:
			t.Fatal("no called event within 1 s of the call")
		}
	}
}

func TestAnnouncementIsSpokenAndOnlyForTickets(t *testing.T) {
	srv := newServer(t)
	resp, err := http.Get(srv.URL + "/hall/v1/announcement?ticket=A023&window=3")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" || string(b[:4]) != "RIFF" {
		t.Fatalf("announcement = %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
	if got := resp.Header.Get("X-Announcement"); got != "chime" && got != "speech" {
		t.Errorf("X-Announcement = %q", got)
	}
	for _, q := range []string{"ticket=" + url.QueryEscape("张三") + "&window=3", "ticket=A023", "ticket=A023&window=0",
		"ticket=" + url.QueryEscape("A023 and more") + "&window=3"} {
		resp, err := http.Get(srv.URL + "/hall/v1/announcement?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("announcement?%s = %d; want 400", q, resp.StatusCode)
		}
	}
}

func TestPagesRender(t *testing.T) {
	srv := newServer(t)
	for _, p := range []string{"/hall/display", "/hall/console?window=1"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "EventSource('/hall/v1/events')") {
			t.Errorf("%s = %d; want the page with its live updates", p, resp.StatusCode)
		}
	}
}

// A chime may stand in for speech that failed once, so browsers must not keep it; speech is
// the same for the same call and may be cached.
func TestAnnouncementCaching(t *testing.T) {
	get := func(sp *voice.Speaker) *http.Response {
		t.Helper()
		api := &API{Queue: newQueue(t), Hub: &Hub{}, Speaker: sp}
		srv := httptest.NewServer(api.Handler())
		defer srv.Close()
		resp, err := http.Get(srv.URL + "/hall/v1/announcement?ticket=A023&window=3")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// espeak-ng that fails: "false" runs and exits 1.
	falseCmd, err := exec.LookPath("false")
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range []*voice.Speaker{nil, {Command: "/nonexistent/espeak-ng"}, {Command: falseCmd}} {
		resp := get(sp)
		if resp.Header.Get("X-Announcement") != "chime" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("chime (speaker %+v): X-Announcement %q, Cache-Control %q; want chime, no-store", sp,
				resp.Header.Get("X-Announcement"), resp.Header.Get("Cache-Control"))
		}
	}
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed: speech not checked")
	}
	resp := get(&voice.Speaker{})
	if resp.Header.Get("X-Announcement") != "speech" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=86400") {
		t.Errorf("speech: X-Announcement %q, Cache-Control %q; want speech, cached for a day",
			resp.Header.Get("X-Announcement"), resp.Header.Get("Cache-Control"))
	}
}
