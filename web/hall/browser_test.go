package hall

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
