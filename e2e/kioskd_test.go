package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

type healthDoc struct {
	Overall    string `json:"overall"`
	Components []struct {
		Component, State, Code, Message string
	} `json:"components"`
	Devices struct {
		Loaded, Skipped, Failed []struct{ Name, Kind, Reason string }
	} `json:"devices"`
}

func writeConfig(t *testing.T, dir, admin string, extra string) string {
	t.Helper()
	cfg := `version = 1
[node]
id = "e2e-node"
hall_name = "测试大厅"
[store]
path = "` + filepath.Join(dir, "kioskd.db") + `"
[admin]
listen = "` + admin + `"
[hall]
listen = "` + freePort(t) + `"
[log]
level = "debug"
format = "json"
[[device]]
name = "idcard"
profile = "sim-idcard"
port = "` + filepath.Join(dir, "sim", "idcard") + `"
[ui]
display = "headless"
[sim]
dir = "` + filepath.Join(dir, "sim") + `"
baud = 115200
platform = "` + freePort(t) + `"
` + extra
	path := filepath.Join(dir, "kioskd.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// hallListen is the hall API's address in a config written by writeConfig (the listen
// address that is not the admin's).
func hallListen(t *testing.T, cfg, admin string) string {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "listen = ") && !strings.Contains(line, admin) {
			return strings.Trim(strings.TrimPrefix(line, "listen = "), `"`)
		}
	}
	t.Fatalf("no hall listen address in %s", cfg)
	return ""
}

// withTables adds TOML tables (devices, [queue], a [ui] of the test's own) to a config
// written by writeConfig, before its [sim] table; a [ui] among them replaces the default
// headless one.
func withTables(t *testing.T, cfg, tables string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Contains(tables, "[ui]\n") {
		s = strings.Replace(s, "[ui]\ndisplay = \"headless\"\n", "", 1)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(s, "[sim]", tables+"[sim]", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// noPlatform turns off the embedded platform of a config written by writeConfig, for tests
// that read events in the outbox: with a platform, the uplink would deliver (and delete) them.
func noPlatform(t *testing.T, cfg string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`(?m)^platform = .*$`).ReplaceAll(b, []byte(`platform = "off"`))
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitComponent polls /api/health until component has state and code.
func waitComponent(t *testing.T, base, component, state, code string, within time.Duration) healthDoc {
	t.Helper()
	deadline := time.Now().Add(within)
	var doc healthDoc
	for {
		body := get(t, base+"/api/health", within)
		doc = healthDoc{}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("/api/health is not JSON: %v\n%s", err, body)
		}
		for _, c := range doc.Components {
			if c.Component == component && c.State == state && c.Code == code {
				return doc
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach %s/%s within %s: %s", component, state, code, within, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestKioskdSimulatorMode(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	base := "http://" + addr
	k := start(t, "kioskd", "-sim", "-config", writeConfig(t, dir, addr, ""))

	if got := get(t, base+"/healthz", 10*time.Second); strings.TrimSpace(got) != "ok" {
		t.Errorf("/healthz = %q; want ok", got)
	}
	doc := waitComponent(t, base, "idcard", "ok", "idcard.ready", 10*time.Second)
	waitComponent(t, base, "store", "ok", "store.ok", time.Second)
	if len(doc.Devices.Loaded) != 1 || doc.Devices.Loaded[0].Name != "idcard" {
		t.Errorf("start-up report loaded = %+v; want the idcard", doc.Devices.Loaded)
	}
	metrics := get(t, base+"/metrics", time.Second)
	for _, want := range []string{
		`hallkiosk_component_state{component="idcard",state="ok",code="idcard.ready"} 1`,
		`hallkiosk_component_state{component="idcard",state="down",code="idcard.ready"} 0`,
		`# TYPE hallkiosk_idcard_reads_total counter`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	if page := get(t, base+"/", time.Second); !strings.Contains(page, "idcard") || !strings.Contains(page, "idcard.ready") {
		t.Errorf("status page does not show the reader:\n%s", page)
	}

	// A card placed through the simulator's control socket is read and logged masked.
	ctl := filepath.Join(dir, "sim", "idcard.ctl")
	if out, errOut, code := run(t, "devsim", "ctl", "--control", ctl, "place", "0"); code != 0 {
		t.Fatalf("devsim ctl place: %s %s", out, errOut)
	}
	k.waitOutput(t, `"msg":"card presented"`, 5*time.Second)
	k.waitOutput(t, `110105********0019`, time.Second)
	get(t, base+"/metrics", time.Second)
	if m := get(t, base+"/metrics", time.Second); !strings.Contains(m, `hallkiosk_idcard_reads_total{device="idcard"} 1`) {
		t.Errorf("reads counter did not count the card:\n%s", m)
	}

	// Unplug and replug through the admin page's simulator control.
	post := func(cmd string) {
		resp, err := http.PostForm(base+"/api/sim/idcard", url.Values{"cmd": {cmd}})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST sim %s: %v %v", cmd, err, resp)
		}
		resp.Body.Close()
	}
	post("unplug")
	waitComponent(t, base, "idcard", "down", "idcard.no_reader", 5*time.Second)
	post("replug")
	waitComponent(t, base, "idcard", "ok", "idcard.ready", 3*time.Second)

	k.stop(t)
	if _, err := os.Lstat(filepath.Join(dir, "sim", "idcard")); !os.IsNotExist(err) {
		t.Errorf("simulator pty link still there after stop: %v", err)
	}
	// Health transitions were recorded in the store.
	if !strings.Contains(k.out.String(), `"code":"idcard.no_reader"`) {
		t.Errorf("health transition to no_reader not logged")
	}
}

func TestKioskdCorruptStoreIsMovedAside(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "kioskd.db")
	garbage := []byte("this is not an SQLite database, it is a power cut's leftovers\x00\x01\x02")
	if err := os.WriteFile(db, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	k := start(t, "kioskd", "-sim", "-config", writeConfig(t, dir, addr, ""))
	waitComponent(t, "http://"+addr, "store", "degraded", "store.corrupt", 10*time.Second)
	k.waitOutput(t, "integrity", time.Second)
	k.stop(t)
	moved, _ := filepath.Glob(db + ".corrupt-*")
	if len(moved) != 1 {
		t.Fatalf("corrupt file not moved aside: %v", moved)
	}
	if b, _ := os.ReadFile(moved[0]); string(b) != string(garbage) {
		t.Errorf("moved-aside file changed: %q", b)
	}
}

func TestKioskdRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ extra, want string }{
		{"[node.extra]\nfoo = 1\n", "unknown key"},
		{"", ""}, // the base config is valid
	}
	for _, c := range cases {
		path := writeConfig(t, dir, "127.0.0.1:1", c.extra)
		_, stderr, code := run(t, "kioskd", "-check", "-config", path)
		if c.want == "" {
			if code != 0 {
				t.Errorf("valid config rejected: %s", stderr)
			}
			continue
		}
		if code == 0 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 3 {
			t.Errorf("kioskd -check with %q: code %d, stderr %q; want a short error containing %q", c.extra, code, stderr, c.want)
		}
	}
	// A bad value is named with its fix.
	_, stderr, code := run(t, "kioskd", "-check", "-config", writeConfig(t, dir, "0.0.0.0:8080", ""))
	if code == 0 || !strings.Contains(stderr, "admin.listen") || !strings.Contains(stderr, "allow_remote") {
		t.Errorf("non-loopback admin.listen: code %d, stderr %q; want it named with its fix", code, stderr)
	}
}
