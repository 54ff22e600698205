package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

type simStats struct {
	Streams map[string]struct {
		Accepted, Duplicate, Rejected int
		OutOfOrder                    int `json:"out_of_order"`
	} `json:"streams"`
}

func platformStats(t *testing.T, base, node string) simStats {
	t.Helper()
	var s simStats
	resp, err := http.Get(base + "/control/stats?node=" + node)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&s)
	return s
}

// waitQueueAccepted waits up to 20 s until the platform has accepted n queue events of
// e2e-node, none of them duplicate or out of order.
func waitQueueAccepted(t *testing.T, pbase string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := platformStats(t, pbase, "e2e-node").Streams["queue"]
		if st.Accepted == n {
			if st.Duplicate != 0 || st.OutOfOrder != 0 {
				t.Errorf("queue stream at the platform: %+v; want %d accepted, nothing duplicate or out of order", st, n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("platform has %+v of the %d queue events after 20 s", st, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startPlatform runs platformsim on its own for hall e2e-hall, with a one-time enrolment
// code in codeFile, and waits until it answers.
func startPlatform(t *testing.T, dir string) (p *proc, pbase, codeFile string) {
	t.Helper()
	paddr := freePort(t)
	pbase = "http://" + paddr
	codeFile = filepath.Join(dir, "code")
	p = start(t, "platformsim", "-listen", paddr, "-db", filepath.Join(dir, "platform.db"), "-enrol-code-file", codeFile, "-hall", "e2e-hall")
	get(t, pbase+"/control/faults", 10*time.Second)
	return p, pbase, codeFile
}

// TestKioskdEnrolAndDrain: a node that is not enrolled keeps its events in the outbox;
// `kioskctl enrol` against a separately started platformsim enrols it, and the backlog
// reaches the platform exactly once, in order.
func TestKioskdEnrolAndDrain(t *testing.T) {
	dir := t.TempDir()
	p, pbase, codeFile := startPlatform(t, dir)

	admin := freePort(t)
	cfg := writeConfig(t, dir, admin, "")
	b, _ := os.ReadFile(cfg)
	hallAddr := hallListen(t, cfg, admin)
	// No embedded platform: this node starts unenrolled.
	os.WriteFile(cfg, regexp.MustCompile(`(?m)^platform = .*$`).ReplaceAll(b, []byte(`platform = "off"`)), 0o644)
	withTables(t, cfg, "[uplink]\npull_interval = \"1s\"\n")
	k := start(t, "kioskd", "-sim", "-config", cfg)
	waitComponent(t, "http://"+admin, "uplink", "degraded", "uplink.not_enrolled", 10*time.Second)
	flags := []string{"--hall", "http://" + hallAddr, "--tokens", filepath.Join(dir, "hall-tokens.json")}
	for range 5 {
		if _, errOut, code := run(t, "kioskctl", append([]string{"queue", "issue", "--category", "A"}, flags...)...); code != 0 {
			t.Fatalf("kioskctl queue issue: %s", errOut)
		}
	}
	code, err := os.ReadFile(codeFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, errOut, c := run(t, "kioskctl", "enrol", "--admin", "http://"+admin, "--platform", pbase, "--code", "wrong-code"); c == 0 || !strings.Contains(errOut, "unknown or already used") {
		t.Errorf("enrol with a wrong code: exit %d, %q; want a clear refusal", c, errOut)
	}
	if out, errOut, c := run(t, "kioskctl", "enrol", "--admin", "http://"+admin, "--platform", pbase, "--code", strings.TrimSpace(string(code))); c != 0 {
		t.Fatalf("kioskctl enrol: exit %d: %s %s", c, out, errOut)
	}
	waitQueueAccepted(t, pbase, 5)
	up, _, c := run(t, "kioskctl", "uplink", "--admin", "http://"+admin)
	if c != 0 || !strings.Contains(up, pbase) {
		t.Errorf("kioskctl uplink: exit %d: %q", c, up)
	}
	if strings.Contains(k.out.String(), readToken(t, filepath.Join(dir, "enrolment.json"))) {
		t.Error("the node token appears in kioskd's log")
	}

	// The platform now sends a hall config of its own. A new category in the middle of the
	// day would leave the day's tickets and windows half in the old one, so it waits for the
	// next start: after midnight by itself, or now with kioskctl restart.
	nc := `{"hall": "e2e-hall", "hall_name": "平台配置大厅", "timezone": "Asia/Shanghai",
		"categories": [{"code": "Z", "prefix": "Z", "name_zh": "平台业务", "name_en": "Platform", "windows": [7], "avg_service_s": 300, "open": "", "close": ""}],
		"windows": [{"id": 7, "categories": ["Z"]}], "screen_texts": {}, "profiles": {}}`
	req, _ := http.NewRequest(http.MethodPut, pbase+"/control/nodes/e2e-node/config", strings.NewReader(nc))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode >= 300 {
		t.Fatalf("pushing a node config: %v %v", err, resp)
	}
	k.waitOutput(t, "it applies at the next start", 15*time.Second)
	if up, _, c := run(t, "kioskctl", "uplink", "--admin", "http://"+admin); c != 0 || !strings.Contains(up, "kioskctl restart") {
		t.Errorf("kioskctl uplink does not say a node config waits: exit %d: %q", c, up)
	}
	if _, errOut, c := run(t, "kioskctl", append([]string{"queue", "issue", "--category", "Z"}, flags...)...); c == 0 {
		t.Error("category Z issued before the restart")
	} else if !strings.Contains(errOut, "Z") {
		t.Errorf("issuing Z before the restart: %s", errOut)
	}
	if out, errOut, c := run(t, "kioskctl", "restart", "--admin", "http://"+admin); c != 0 || !strings.Contains(out, "restarted") {
		t.Fatalf("kioskctl restart: exit %d: %s %s", c, out, errOut)
	}
	k.waitOutput(t, "hall configuration from the platform", 15*time.Second)
	select {
	case err := <-k.done:
		t.Fatalf("kioskd exited instead of starting again in place: %v", err)
	default:
	}
	out, errOut, c := run(t, "kioskctl", append([]string{"queue", "issue", "--category", "Z"}, flags...)...)
	if c != 0 || !strings.Contains(out, "Z001") {
		t.Errorf("kioskctl queue issue --category Z after the platform's config: exit %d: %s %s", c, out, errOut)
	}
	k.stop(t)
	p.stop(t)
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("enrolment file %s: %v, mode %v; want mode 0600", path, err, fi)
	}
	var e struct{ Token string }
	b, _ := os.ReadFile(path)
	json.Unmarshal(b, &e)
	if len(e.Token) < 16 {
		t.Fatalf("enrolment file holds no token: %s", b)
	}
	return e.Token
}

// TestKioskctlUplinkResume: the platform refuses the node's token for a while; the uplink
// stops and keeps the tickets, `kioskctl uplink` says how it comes back, and once the
// platform takes the token again `kioskctl uplink resume` sends them at once (the next pull,
// five minutes away here, would have resumed by itself).
func TestKioskctlUplinkResume(t *testing.T) {
	dir := t.TempDir()
	p, pbase, codeFile := startPlatform(t, dir)
	faults := func(body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, pbase+"/control/faults", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("PUT /control/faults %s: %v %v", body, err, resp)
		}
		resp.Body.Close()
	}

	admin := freePort(t)
	cfg := writeConfig(t, dir, admin, "")
	hallAddr := hallListen(t, cfg, admin)
	noPlatform(t, cfg)
	k := start(t, "kioskd", "-sim", "-config", cfg)
	waitComponent(t, "http://"+admin, "uplink", "degraded", "uplink.not_enrolled", 10*time.Second)
	code, err := os.ReadFile(codeFile)
	if err != nil {
		t.Fatal(err)
	}
	if out, errOut, c := run(t, "kioskctl", "enrol", "--admin", "http://"+admin, "--platform", pbase, "--code", strings.TrimSpace(string(code))); c != 0 {
		t.Fatalf("kioskctl enrol: exit %d: %s %s", c, out, errOut)
	}

	faults(`{"unauthorized": true}`)
	flags := []string{"--hall", "http://" + hallAddr, "--tokens", filepath.Join(dir, "hall-tokens.json")}
	for range 3 {
		if _, errOut, c := run(t, "kioskctl", append([]string{"queue", "issue", "--category", "A"}, flags...)...); c != 0 {
			t.Fatalf("kioskctl queue issue: %s", errOut)
		}
	}
	waitComponent(t, "http://"+admin, "uplink", "down", "uplink.unauthorized", 10*time.Second)
	if up, _, c := run(t, "kioskctl", "uplink", "--admin", "http://"+admin); c != 0 || !strings.Contains(up, "kioskctl uplink resume") {
		t.Errorf("kioskctl uplink while the token is refused: exit %d: %q; want it to name kioskctl uplink resume", c, up)
	}
	if n := platformStats(t, pbase, "e2e-node").Streams["queue"].Accepted; n != 0 {
		t.Fatalf("%d queue events accepted while the token is refused", n)
	}

	faults(`{}`)
	if out, errOut, c := run(t, "kioskctl", "uplink", "resume", "--admin", "http://"+admin); c != 0 || !strings.Contains(out, "sending resumed") {
		t.Fatalf("kioskctl uplink resume: exit %d: %q %q", c, out, errOut)
	}
	waitQueueAccepted(t, pbase, 3)
	for deadline := time.Now().Add(10 * time.Second); ; { // health is reported every 15 s; /api/uplink is now
		var up struct {
			State struct {
				Code         string `json:"code"`
				Unauthorized bool   `json:"unauthorized"`
			} `json:"state"`
		}
		json.Unmarshal([]byte(get(t, "http://"+admin+"/api/uplink", 5*time.Second)), &up)
		if up.State.Code == "uplink.ok" && !up.State.Unauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/api/uplink after the resume: %+v; want uplink.ok, not unauthorized", up.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, errOut, c := run(t, "kioskctl", "uplink", "resume", "--admin", "http://"+admin); c != 0 || !strings.Contains(out, "had not stopped") {
		t.Errorf("kioskctl uplink resume while sending: exit %d: %q %q; want it to say sending had not stopped", c, out, errOut)
	}
	if _, errOut, c := run(t, "kioskctl", "uplink", "resume", "now"); c == 0 || !strings.Contains(errOut, "no arguments") {
		t.Errorf("kioskctl uplink resume now: exit %d: %q; want a usage error", c, errOut)
	}
	k.stop(t)
	p.stop(t)
}

// TestDeviceHealthReachesThePlatform: a device that goes down is told to the platform as
// device.health on the telemetry stream.
func TestDeviceHealthReachesThePlatform(t *testing.T) {
	dir := t.TempDir()
	admin := freePort(t)
	cfg := writeConfig(t, dir, admin, "")
	b, _ := os.ReadFile(cfg)
	m := regexp.MustCompile(`(?m)^platform = "(.*)"$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no embedded platform in %s", cfg)
	}
	pbase, base := "http://"+string(m[1]), "http://"+admin
	start(t, "kioskd", "-sim", "-config", cfg)
	waitComponent(t, base, "idcard", "ok", "idcard.ready", 20*time.Second)
	simCmd(t, base, "idcard", "unplug")
	waitComponent(t, base, "idcard", "down", "idcard.no_reader", 20*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got struct {
			Events []struct {
				Type string `json:"type"`
				Data struct {
					Device, State, Code string
				} `json:"data"`
			} `json:"events"`
		}
		resp, err := http.Get(pbase + "/control/events?node=e2e-node&stream=telemetry")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		for _, e := range got.Events {
			if e.Type == "device.health" && e.Data.Device == "idcard" && e.Data.State == "down" && e.Data.Code == "idcard.no_reader" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no device.health for the unplugged reader at the platform after 20 s: %+v", got.Events)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
