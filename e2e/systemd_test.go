package e2e

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKioskdTalksToSystemd runs kioskd as systemd would with Type=notify and WatchdogSec:
// it must send READY=1 once up and WATCHDOG=1 at half the watchdog interval.
func TestKioskdTalksToSystemd(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify.sock")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := freePort(t)
	cfg := writeConfig(t, dir, addr, "")
	// log.format = "auto" must give JSON when stderr is not a terminal, as under systemd.
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), `format = "json"`, `format = "auto"`, 1)), 0o644)

	cmd := exec.Command(filepath.Join(bin, "kioskd"), "-sim", "-config", cfg)
	out := newSyncBuf()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=400000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	defer func() { logs.Write([]byte(out.String())) }()

	got := map[string]int{}
	buf := make([]byte, 256)
	ln.SetReadDeadline(time.Now().Add(15 * time.Second))
	for got["READY=1"] == 0 || got["WATCHDOG=1"] < 2 {
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("notify socket: %v (got %v)", err, got)
		}
		got[string(buf[:n])]++
	}
	// READY comes only after the admin API answers.
	get(t, "http://"+addr+"/healthz", time.Second)
	p.stop(t)
	ln.SetReadDeadline(time.Now().Add(2 * time.Second))
	for got["STOPPING=1"] == 0 {
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("no STOPPING=1 after SIGINT: %v", err)
		}
		got[string(buf[:n])]++
	}
	for i, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("log line %d is not JSON with format=auto off a terminal: %q", i, line)
		}
	}
}
