// Package cdp drives a headless Chromium over the Chrome DevTools Protocol, just enough for
// end-to-end tests of the hall's pages: open tabs, evaluate JavaScript, read results.
package cdp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/websocket"
)

// Browser is a running headless Chromium.
type Browser struct {
	cmd  *exec.Cmd
	dir  string
	base string // http://127.0.0.1:PORT
}

// Path finds Debian's Chromium.
func Path() (string, error) {
	for _, p := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", errors.New("cdp: chromium not installed (apt-get install chromium)")
}

// Launch starts Chromium with the flags that work on a closed, headless machine
// (TESTBED.md), a fresh profile, and autoplay allowed so pages may play announcements.
func Launch(ctx context.Context) (*Browser, error) {
	path, err := Path()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hallkiosk-cdp-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--autoplay-policy=no-user-gesture-required", "--remote-debugging-port=0",
		// The debugging port is loopback only, in a throwaway profile; its port is not known
		// before start, so no single origin can be listed.
		"--remote-allow-origins=*", "--user-data-dir="+dir, "about:blank")
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cdp: start chromium: %w", err)
	}
	b := &Browser{cmd: cmd, dir: dir}
	// Chromium writes the port it chose to DevToolsActivePort in the profile.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		f, err := os.Open(filepath.Join(dir, "DevToolsActivePort"))
		if err == nil {
			sc := bufio.NewScanner(f)
			sc.Scan()
			port := strings.TrimSpace(sc.Text())
			f.Close()
			if port != "" {
				b.base = "http://127.0.0.1:" + port
				return b, nil
			}
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Close()
	return nil, errors.New("cdp: chromium did not open its debugging port")
}

// Close stops Chromium and removes its profile.
func (b *Browser) Close() {
	b.cmd.Process.Kill()
	b.cmd.Wait()
	os.RemoveAll(b.dir)
}

// Tab is one page.
type Tab struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	next int
}

// Open opens url in a new tab.
func (b *Browser) Open(url string) (*Tab, error) {
	req, _ := http.NewRequest(http.MethodPut, b.base+"/json/new?"+url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cdp: new tab: %w", err)
	}
	defer resp.Body.Close()
	var target struct {
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&target); err != nil || target.WebSocketDebuggerURL == "" {
		return nil, fmt.Errorf("cdp: new tab: %s: %v", resp.Status, err)
	}
	ws, err := websocket.Dial(target.WebSocketDebuggerURL, "", b.base)
	if err != nil {
		return nil, fmt.Errorf("cdp: connect tab: %w", err)
	}
	return &Tab{ws: ws}, nil
}

// Close closes the tab's connection.
func (t *Tab) Close() { t.ws.Close() }

// Eval evaluates a JavaScript expression (promises are awaited) and decodes its value
// into out (which may be nil).
func (t *Tab) Eval(expr string, out any) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	id := t.next
	msg := map[string]any{"id": id, "method": "Runtime.evaluate", "params": map[string]any{
		"expression": expr, "awaitPromise": true, "returnByValue": true}}
	if err := websocket.JSON.Send(t.ws, msg); err != nil {
		return fmt.Errorf("cdp: send: %w", err)
	}
	t.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		var reply struct {
			ID     int `json:"id"`
			Result struct {
				Result struct {
					Value json.RawMessage `json:"value"`
				} `json:"result"`
				ExceptionDetails *struct {
					Text      string `json:"text"`
					Exception struct {
						Description string `json:"description"`
					} `json:"exception"`
				} `json:"exceptionDetails"`
			} `json:"result"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := websocket.JSON.Receive(t.ws, &reply); err != nil {
			return fmt.Errorf("cdp: receive: %w", err)
		}
		if reply.ID != id {
			continue // an event, or an older reply
		}
		if reply.Error != nil {
			return fmt.Errorf("cdp: %s", reply.Error.Message)
		}
		if ex := reply.Result.ExceptionDetails; ex != nil {
			return fmt.Errorf("cdp: %s %s", ex.Text, ex.Exception.Description)
		}
		if out == nil || len(reply.Result.Result.Value) == 0 {
			return nil
		}
		return json.Unmarshal(reply.Result.Result.Value, out)
	}
}

// Wait evaluates a boolean expression until it is true or the timeout passes.
func (t *Tab) Wait(expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := t.Eval("!!("+expr+")", &ok)
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cdp: %s not true within %s (last error: %v)", expr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
