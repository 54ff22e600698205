package sdnotify

import (
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestNotifyReachesSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	sent, err := Notify("READY=1")
	if err != nil || !sent {
		t.Fatalf("Notify = %v, %v; want true, nil", sent, err)
	}
	buf := make([]byte, 64)
	ln.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := ln.Read(buf)
	if err != nil || string(buf[:n]) != "READY=1" {
		t.Fatalf("socket got %q, %v; want READY=1", buf[:n], err)
	}
}

func TestNotifyWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if sent, err := Notify("READY=1"); sent || err != nil {
		t.Fatalf("Notify = %v, %v; want false, nil", sent, err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "20000000")
	t.Setenv("WATCHDOG_PID", "")
	if got := WatchdogInterval(); got != 10*time.Second {
		t.Errorf("WatchdogInterval() = %v; want 10s", got)
	}
	t.Setenv("WATCHDOG_PID", strconv.Itoa(1))
	if got := WatchdogInterval(); got != 0 {
		t.Errorf("WatchdogInterval() for another pid = %v; want 0", got)
	}
}
