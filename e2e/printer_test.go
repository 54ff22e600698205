package e2e

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// startPrinter runs `devsim printer` on a pty and TCP and returns its link, TCP address,
// control socket and output directory.
func startPrinter(t *testing.T) (link, addr, socket, out string) {
	t.Helper()
	dir := t.TempDir()
	link, out = filepath.Join(dir, "printer"), filepath.Join(dir, "out")
	addr = freePort(t)
	p := start(t, "devsim", "printer", "--link", link, "--listen", addr, "--out", out, "--baud", "115200")
	p.waitOutput(t, "printer simulator running", 10*time.Second)
	t.Cleanup(func() { p.stop(t) })
	return link, addr, link + ".ctl", out
}

func zbar(t *testing.T, png string) string {
	t.Helper()
	out, err := exec.Command("zbarimg", "-q", "--raw", "--nodbus", png).Output()
	if err != nil {
		t.Fatalf("zbarimg %s: %v (scripts/deps.sh test installs zbar-tools)", png, err)
	}
	return strings.TrimSpace(string(out))
}

func TestKioskctlPrinterTestAndStatus(t *testing.T) {
	link, addr, socket, out := startPrinter(t)
	for i, target := range [][]string{{"--port", link}, {"--tcp", addr}} {
		_, errOut, code := run(t, "kioskctl", append([]string{"printer", "test"}, target...)...)
		if code != 0 {
			t.Fatalf("kioskctl printer test %v: exit %d: %s", target, code, errOut)
		}
		png := filepath.Join(out, "00"+string(rune('1'+i))+".png")
		if got := zbar(t, png); got != "HALLKIOSK-TEST" {
			t.Errorf("QR on the test ticket = %q; want HALLKIOSK-TEST", got)
		}
		txt, _ := os.ReadFile(strings.TrimSuffix(png, ".png") + ".txt")
		if !strings.Contains(string(txt), "A001") || !strings.Contains(string(txt), "打印测试") {
			t.Errorf("test ticket text lacks A001 or Chinese text:\n%s", txt)
		}
	}
	stdout, _, code := run(t, "kioskctl", "printer", "status", "--tcp", addr, "--json")
	var st struct {
		OK   bool   `json:"ok"`
		Code string `json:"code"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &st) != nil || !st.OK || st.Code != "printer.ready" {
		t.Errorf("printer status = %s (exit %d); want ok printer.ready", stdout, code)
	}

	ctl(t, socket, "paper", "out")
	_, errOut, code := run(t, "kioskctl", "printer", "test", "--port", link)
	if code == 0 || !strings.Contains(errOut, "paper out") {
		t.Errorf("printer test with paper out: exit %d, %q; want a failure naming paper out", code, errOut)
	}
	stdout, _, code = run(t, "kioskctl", "printer", "status", "--port", link, "--json")
	if code == 0 || !strings.Contains(stdout, "printer.paper_out") {
		t.Errorf("printer status with paper out: exit %d, %s", code, stdout)
	}
	ctl(t, socket, "paper", "ok")
	ctl(t, socket, "failafter", "100")
	_, errOut, code = run(t, "kioskctl", "printer", "test", "--tcp", addr)
	if code == 0 || !strings.Contains(errOut, "during the job") {
		t.Errorf("printer test with paper running out mid-job: exit %d, %q; want a failure", code, errOut)
	}
}

func TestKioskctlScannerListen(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "scanner")
	sim := start(t, "devsim", "scanner", "--link", link)
	sim.waitOutput(t, "scanner simulator running", 10*time.Second)
	defer sim.stop(t)
	l := start(t, "kioskctl", "scanner", "listen", "--port", link, "--count", "2", "--json")
	l.waitOutput(t, "scan codes now", 10*time.Second)
	ctl(t, link+".ctl", "scan", "APT-20261122-0042")
	ctl(t, link+".ctl", "scanhex", "41000d") // a control character: rejected
	ctl(t, link+".ctl", "scan", "https://zwfw.example.gov.cn/q?c=甲")
	select {
	case err := <-l.done:
		if err != nil {
			t.Fatalf("scanner listen: %v\n%s", err, l.out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("scanner listen did not end after 2 codes:\n%s", l.out.String())
	}
	out := l.out.String()
	for _, want := range []string{`"text":"APT-20261122-0042"`, `"text":"https://zwfw.example.gov.cn/q?c=甲"`} {
		if !strings.Contains(out, want) {
			t.Errorf("scanner listen output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "A\x00") {
		t.Errorf("rejected payload printed: %q", out)
	}
}

func TestKioskdSimPrinterAndScanner(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	base := "http://" + addr
	extra := `[[device]]
name = "printer"
profile = "sim-printer"
port = "` + filepath.Join(dir, "sim", "printer") + `"
[[device]]
name = "scanner"
profile = "sim-scanner"
port = "` + filepath.Join(dir, "sim", "scanner") + `"
[gpio]
presence = "GPIO17"
tamper = "GPIO27"
light_green = "GPIO22"
light_amber = "GPIO23"
light_red = "GPIO24"
`
	cfg := writeConfig(t, dir, addr, "")
	withTables(t, cfg, extra)
	noPlatform(t, cfg) // the test reads the outbox
	k := start(t, "kioskd", "-sim", "-config", cfg)
	waitComponent(t, base, "printer", "ok", "printer.ready", 10*time.Second)
	waitComponent(t, base, "scanner", "ok", "scanner.ready", 10*time.Second)
	// The cabinet's GPIO lines are simulated too.
	waitComponent(t, base, "cabinet", "ok", "cabinet.closed", 5*time.Second)
	waitComponent(t, base, "presence", "ok", "gpio.ready", time.Second)

	resp, err := http.PostForm(base+"/api/devices/printer/test", url.Values{})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST printer test: %v %v", err, resp)
	}
	resp.Body.Close()
	if got := zbar(t, filepath.Join(dir, "sim", "printer-out", "001.png")); got != "HALLKIOSK-TEST" {
		t.Errorf("test ticket QR = %q", got)
	}

	post := func(dev, cmd string) {
		t.Helper()
		resp, err := http.PostForm(base+"/api/sim/"+dev, url.Values{"cmd": {cmd}})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST sim %s %s: %v %v", dev, cmd, err, resp)
		}
		resp.Body.Close()
	}
	// Paper out and unplug show within 5 s and recover by themselves.
	post("printer", "paper out")
	waitComponent(t, base, "printer", "down", "printer.paper_out", 5*time.Second)
	post("printer", "paper ok")
	waitComponent(t, base, "printer", "ok", "printer.ready", 5*time.Second)
	post("printer", "unplug")
	waitComponent(t, base, "printer", "down", "printer.no_device", 5*time.Second)
	post("printer", "replug")
	waitComponent(t, base, "printer", "ok", "printer.ready", 5*time.Second)
	post("scanner", "unplug")
	waitComponent(t, base, "scanner", "down", "scanner.no_device", 5*time.Second)
	post("scanner", "replug")
	waitComponent(t, base, "scanner", "ok", "scanner.ready", 5*time.Second)

	// Opening the cabinet door degrades the node, turns the light amber and queues a
	// tamper.alarm for the platform.
	post("gpio", "door open")
	waitComponent(t, base, "cabinet", "degraded", "cabinet.open", 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for ans := ""; !strings.Contains(ans, "amber=on"); {
		resp, err := http.PostForm(base+"/api/sim/gpio", url.Values{"cmd": {"lights"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ans = string(b)
		if time.Now().After(deadline) {
			t.Fatalf("status light with the door open: %s; want amber", ans)
		}
		time.Sleep(20 * time.Millisecond)
	}
	post("gpio", "door closed")
	waitComponent(t, base, "cabinet", "ok", "cabinet.closed", 5*time.Second)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "kioskd.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The event is written after the health change; wait for it with a deadline.
	var alarms []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		alarms = nil
		rows, err := db.Query(`SELECT json_extract(data, '$.state') FROM outbox WHERE type = 'tamper.alarm' ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var st string
			rows.Scan(&st)
			alarms = append(alarms, st)
		}
		rows.Close()
		if len(alarms) >= 2 {
			break
		}
	}
	if strings.Join(alarms, ",") != "open,closed" {
		t.Errorf("outbox tamper.alarm states = %v; want [open closed]", alarms)
	}

	// The dispenser path: a ticket taken prints; with the paper out, the ticket is cancelled
	// as print_failed (never waiting) and the citizen gets the number on screen instead.
	dispense := func() map[string]any {
		t.Helper()
		resp, err := http.PostForm(base+"/api/dispense", url.Values{"category": {"A"}})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST /api/dispense: %v %v", err, resp)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	if m := dispense(); m["printed"] != true || m["ticket"] != "A001" || m["state"] != "waiting" {
		t.Errorf("dispense = %v; want A001 printed and waiting", m)
	}
	txt, _ := os.ReadFile(filepath.Join(dir, "sim", "printer-out", "002.txt"))
	if !strings.Contains(string(txt), "A001") {
		t.Errorf("the printed ticket lacks its number:\n%s", txt)
	}
	post("printer", "paper out")
	if m := dispense(); m["printed"] != false || m["ticket"] != "A002" || m["state"] != "finished" || m["reason"] != "print_failed" {
		t.Errorf("dispense with paper out = %v; want A002 not printed, finished as print_failed", m)
	}
	post("printer", "paper ok")
	var outcome, reason string
	if err := db.QueryRow(`SELECT json_extract(data, '$.outcome'), coalesce(json_extract(data, '$.reason'), '') FROM outbox
		WHERE type = 'ticket.finished' AND json_extract(data, '$.ticket') = 'A002'`).Scan(&outcome, &reason); err != nil || outcome != "cancelled" || reason != "print_failed" {
		t.Errorf("outbox ticket.finished for A002 = %q %q, %v; want cancelled print_failed", outcome, reason, err)
	}

	post("scanner", "scan APT-20261122-0042")
	k.waitOutput(t, `"msg":"code scanned"`, 5*time.Second)
	if strings.Contains(k.out.String(), "APT-20261122-0042") {
		t.Errorf("kioskd logged a scanned code's content")
	}
	k.stop(t)
}

// TestKioskdWithoutGPIOSkipsIt runs a real (not simulated) node whose config names GPIO
// lines on a machine without GPIO chips: the lines are skipped, the node runs on.
func TestKioskdWithoutGPIOSkipsIt(t *testing.T) {
	if _, err := os.Stat("/dev/gpiochip0"); err == nil {
		t.Skip("this machine has GPIO chips")
	}
	dir := t.TempDir()
	addr := freePort(t)
	cfg := `version = 1
[node]
id = "e2e-gpio"
[store]
path = "` + filepath.Join(dir, "kioskd.db") + `"
[admin]
listen = "` + addr + `"
[hall]
listen = "` + freePort(t) + `"
[gpio]
presence = "GPIO17"
tamper = "GPIO27"
light_red = "GPIO24"
`
	path := filepath.Join(dir, "kioskd.toml")
	os.WriteFile(path, []byte(cfg), 0o644)
	k := start(t, "kioskd", "-config", path)
	for _, c := range []string{"presence", "cabinet", "light"} {
		waitComponent(t, "http://"+addr, c, "skipped", "gpio.skipped", 10*time.Second)
	}
	k.stop(t)
}
