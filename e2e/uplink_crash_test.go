package e2e

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKioskdKilledWhileDraining: the platform (a separate platformsim) hangs while the hall
// issues tickets, and the node stays responsive; then kioskd is SIGKILLed again and again
// while it drains the backlog. Every event arrives; the only repeats are answered
// "duplicate"; nothing is out of order.
func TestKioskdKilledWhileDraining(t *testing.T) {
	dir := t.TempDir()
	paddr := freePort(t)
	pbase := "http://" + paddr
	codeFile := filepath.Join(dir, "code")
	start(t, "platformsim", "-listen", paddr, "-db", filepath.Join(dir, "platform.db"), "-enrol-code-file", codeFile, "-hall", "e2e-hall")
	get(t, pbase+"/control/faults", 10*time.Second)
	faults := func(body string) {
		req, _ := http.NewRequest(http.MethodPut, pbase+"/control/faults", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	admin, hallAddr := freePort(t), freePort(t)
	cfg := filepath.Join(dir, "kioskd.toml")
	os.WriteFile(cfg, []byte(`version = 1
[node]
id = "e2e-node"
roles = ["hall"]
[store]
path = "`+filepath.Join(dir, "kioskd.db")+`"
[admin]
listen = "`+admin+`"
[hall]
listen = "`+hallAddr+`"
[log]
format = "json"
[uplink]
drain_rate = 40
`), 0o644)
	k := start(t, "kioskd", "-config", cfg)
	k.waitOutput(t, "hall LAN API", 10*time.Second)
	code, _ := os.ReadFile(codeFile)
	if _, errOut, c := run(t, "kioskctl", "enrol", "--admin", "http://"+admin, "--platform", pbase, "--code", strings.TrimSpace(string(code))); c != 0 {
		t.Fatalf("kioskctl enrol: %s", errOut)
	}

	// A backlog: 300 tickets while the platform takes requests and never answers; the node
	// answers every one of them at once all the same.
	faults(`{"hang": true}`)
	var tok struct{ Terminal []string }
	b, _ := os.ReadFile(filepath.Join(dir, "hall-tokens.json"))
	json.Unmarshal(b, &tok)
	for i := range 300 {
		req, _ := http.NewRequest(http.MethodPost, "http://"+hallAddr+"/hall/v1/tickets", bytes.NewReader([]byte(`{"category":"A"}`)))
		req.Header.Set("Authorization", "Bearer "+tok.Terminal[0])
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("ticket %d: %v %v", i, err, resp)
		}
		resp.Body.Close()
		if d := time.Since(t0); d > time.Second {
			t.Errorf("ticket %d took %v while the platform hangs; want the node responsive", i, d)
		}
	}
	faults(`{"latency": "20ms"}`)

	// Drain at 40 events/s (about 8 s), killed at random moments on the way.
	kills := 0
	var progress []int // accepted at each kill: the kills must fall inside the drain
	for kills < 8 {
		time.Sleep(time.Duration(200+rand.IntN(600)) * time.Millisecond)
		k.cmd.Process.Signal(syscall.SIGKILL)
		<-k.done
		kills++
		progress = append(progress, platformStats(t, pbase, "e2e-node").Streams["queue"].Accepted)
		k = start(t, "kioskd", "-config", cfg)
		k.waitOutput(t, `"msg":"uplink"`, 10*time.Second)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := platformStats(t, pbase, "e2e-node").Streams["queue"]
		if st.Accepted >= 300 {
			if st.Accepted != 300 || st.OutOfOrder != 0 || st.Rejected != 0 {
				t.Errorf("queue stream at the platform after %d kills: %+v; want 300 accepted, none out of order or rejected", kills, st)
			}
			t.Logf("%d kills while draining (accepted at each kill: %v): %d accepted, %d answered duplicate", kills, progress, st.Accepted, st.Duplicate)
			if progress[0] >= 300 {
				t.Errorf("the backlog was delivered before the first kill: the test killed nothing that was draining")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d kills the platform has %+v of 300 ticket.issued", kills, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	k.stop(t)
}
