package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// At 9600 baud a read answer takes 1.35 s on the wire: kioskctl must wait for it.
func TestKioskctlIDCardReadAt9600Baud(t *testing.T) {
	link, socket := startReaderAt(t, "9600")
	ctl(t, socket, "place", "0")
	out, errOut, code := run(t, "kioskctl", "idcard", "read", "--port", link, "--baud", "9600", "--timeout", "10s", "--json")
	if code != 0 {
		t.Fatalf("kioskctl idcard read at 9600 baud: exit %d: %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || got["id_number"] != "110105********0019" {
		t.Errorf("output = %q (%v); want card 0 masked", out, err)
	}
}

// A card that keeps failing to read gives one stderr line with the reason, not one per retry.
func TestKioskctlIDCardReadFailureOneLine(t *testing.T) {
	link, socket := startReader(t)
	ctl(t, socket, "fault", "readfail", "on")
	ctl(t, socket, "place", "0")
	_, stderr, code := run(t, "kioskctl", "idcard", "read", "--port", link, "--timeout", "2s", "--json")
	if code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "card read failed") {
		t.Errorf("exit %d, stderr %q; want non-zero and one line naming the read failure", code, stderr)
	}
}

// A SAM that fails its self-test keeps kioskd's reader at sam_fault, logged once, rather
// than flipping to no_reader at every reconnect; it recovers when the SAM does.
func TestKioskdSAMFaultStays(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	base := "http://" + addr
	k := start(t, "kioskd", "-sim", "-config", writeConfig(t, dir, addr, ""))
	waitComponent(t, base, "idcard", "ok", "idcard.ready", 10*time.Second)
	socket := filepath.Join(dir, "sim", "idcard.ctl")
	ctl(t, socket, "fault", "sam", "on")
	waitComponent(t, base, "idcard", "down", "idcard.sam_fault", 5*time.Second)
	// Several reconnects (the sim profile's retry cap is about a second).
	for end := time.Now().Add(3500 * time.Millisecond); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		waitComponent(t, base, "idcard", "down", "idcard.sam_fault", 0)
	}
	logs := k.out.String()
	if n := strings.Count(logs, `"code":"idcard.sam_fault"`); n != 1 {
		t.Errorf("health transition to sam_fault logged %d times; want once", n)
	}
	if strings.Contains(logs, `"code":"idcard.no_reader"`) {
		t.Errorf("the SAM fault flipped the reader to no_reader")
	}
	ctl(t, socket, "clear")
	waitComponent(t, base, "idcard", "ok", "idcard.ready", 5*time.Second)
	k.stop(t)
}
