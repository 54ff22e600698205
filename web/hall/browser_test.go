package hall

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/cdp"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/store"
	"github.com/hallkiosk/hallkiosk/internal/voice"
	"github.com/hallkiosk/hallkiosk/queue"
)

// TestConsoleCallReachesDisplay runs the window console and the hall display in headless
// Chromium: staff sign in and press "call next"; the display shows the call within 1 s
// and asks for its announcement.
func TestConsoleCallReachesDisplay(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "hall.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := queue.New(db, queue.Config{
		Categories: []queue.Category{{Code: "A", Prefix: "A", NameZH: "社保", NameEN: "Social insurance", Windows: []int{1}}},
		Windows:    []queue.Window{{ID: 1}}, Location: shanghai,
	}, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	api := &API{Queue: q, Hub: &Hub{}, HallName: "测试大厅", Speaker: &voice.Speaker{},
		Tokens: Tokens{Terminal: []string{"term"}, Windows: map[int]string{1: "w1-secret"}}}
	var mu sync.Mutex
	var announced []string
	h := api.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hall/v1/announcement" {
			mu.Lock()
			announced = append(announced, r.URL.RawQuery)
			mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	if _, _, err := api.Issue(context.Background(), queue.IssueRequest{Category: "A", Source: queue.SourceWalkIn}); err != nil {
		t.Fatal(err)
	}

	b, err := cdp.Launch(context.Background())
	if err != nil {
		t.Fatal(err) // scripts/deps.sh test installs chromium
	}
	defer b.Close()
	display, err := b.Open(srv.URL + "/hall/display")
	if err != nil {
		t.Fatal(err)
	}
	defer display.Close()
	if err := display.Wait(`document.getElementById('cats').children.length === 1 && es.readyState === 1`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	console, err := b.Open(srv.URL + "/hall/console")
	if err != nil {
		t.Fatal(err)
	}
	defer console.Close()
	if err := console.Wait(`!document.getElementById('login').hidden`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Staff sign in with the window's token, as on a new console.
	if err := console.Eval(`document.getElementById('w').value='1'; document.getElementById('t').value='w1-secret';
		document.getElementById('save').click(); true`, nil); err != nil {
		t.Fatal(err)
	}
	if err := console.Wait(`!document.getElementById('main').hidden`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := console.Eval(`document.getElementById('callnext').click(); true`, nil); err != nil {
		t.Fatal(err)
	}
	if err := display.Wait(`document.querySelector('.call.new .tk') && document.querySelector('.call.new .tk').textContent === 'A001'`, time.Second); err != nil {
		t.Fatalf("the display did not show A001 within 1 s of the click: %v", err)
	}
	t.Logf("display showed the call %s after the click", time.Since(start).Round(time.Millisecond))
	if err := console.Wait(`document.getElementById('cur').textContent === 'A001'`, 5*time.Second); err != nil {
		t.Error(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := append([]string(nil), announced...)
		mu.Unlock()
		if len(got) > 0 {
			if got[0] != "ticket=A001&window=1" {
				t.Errorf("display asked for announcement %q; want ticket=A001&window=1", got[0])
			}
			break
		}
		if time.Now().After(deadline) {
			var dbg any
			display.Eval(`JSON.stringify({last: window.lastAnnouncement, announced: window.announced, say: say.textContent, q: queue.length, playing})`, &dbg)
			t.Fatalf("the display did not request the call's announcement: %v", dbg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// liveHall is a hall on the real clock in zone loc, served over loopback as the LAN serves
// it, for pages in Chromium: category A at window 1, B at window 2. extra serves paths the
// API does not (a test's own page), when not nil.
func liveHall(t *testing.T, loc *time.Location, extra map[string]string) (*API, *httptest.Server) {
	t.Helper()
	q := openQueue(t, queue.Config{
		Categories: []queue.Category{
			{Code: "A", Prefix: "A", NameZH: "社保", NameEN: "Social insurance", Windows: []int{1}},
			{Code: "B", Prefix: "B", NameZH: "不动产", NameEN: "Real estate", Windows: []int{2}},
		},
		Windows: []queue.Window{{ID: 1}, {ID: 2}}, Location: loc,
	}, clock.Real{})
	api := &API{Queue: q, Hub: &Hub{}, HallName: "测试大厅", Speaker: &voice.Speaker{Command: "-"},
		Tokens: Tokens{Terminal: []string{"term"}, Windows: map[int]string{1: "w1-secret", 2: "w2-secret"}}}
	h := api.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if page, ok := extra[r.URL.Path]; ok {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(page))
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		// Pages hold event streams open: end them, or Close waits for them forever.
		srv.CloseClientConnections()
		srv.Close()
	})
	return api, srv
}

func launch(t *testing.T) *cdp.Browser {
	t.Helper()
	b, err := cdp.Launch(context.Background())
	if err != nil {
		t.Fatal(err) // scripts/deps.sh test installs chromium
	}
	t.Cleanup(b.Close)
	return b
}

func openTab(t *testing.T, b *cdp.Browser, url string) *cdp.Tab {
	t.Helper()
	tab, err := b.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tab.Close)
	return tab
}

// The display's clock shows the hall's time whatever the configured zone is called: a
// config's "Local", a fixed zone named "CST" that browsers do not know, or a zone half an
// hour off the hour. (It used to hand the zone's Go name to the browser, which threw on
// "Local" and stopped the page's script.)
func TestDisplayClockInHallZone(t *testing.T) {
	zones := []*time.Location{time.Local, time.FixedZone("CST", 8*3600)}
	if nf, err := time.LoadLocation("America/St_Johns"); err == nil {
		zones = append(zones, nf)
	}
	b := launch(t)
	for _, loc := range zones {
		_, srv := liveHall(t, loc, nil)
		display := openTab(t, b, srv.URL+"/hall/display")
		if err := display.Wait(`/\d\d:\d\d:\d\d$/.test(document.getElementById('clock').textContent)`, 5*time.Second); err != nil {
			t.Errorf("zone %q: the clock does not run: %v", loc, err)
			continue
		}
		var got string
		if err := display.Eval(`document.getElementById('clock').textContent`, &got); err != nil {
			t.Fatal(err)
		}
		now := time.Now().In(loc)
		var want []string
		for _, d := range []time.Duration{-time.Minute, 0, time.Minute} {
			at := now.Add(d)
			want = append(want, fmt.Sprintf("%d年%d月%d日 星期%s %02d:%02d", at.Year(), at.Month(), at.Day(),
				[]string{"日", "一", "二", "三", "四", "五", "六"}[at.Weekday()], at.Hour(), at.Minute()))
		}
		if len(got) < 3 || !slices.Contains(want, got[:len(got)-3]) {
			t.Errorf("zone %q: clock %q; want the hall's time, one of %q", loc, got, want)
		}
	}
}
