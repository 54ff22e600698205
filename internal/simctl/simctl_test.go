package simctl

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeAndCall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.ctl")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go Serve(ln, func(line string) string {
		if line == "boom" {
			return "err no such thing"
		}
		return "ok " + strings.ToUpper(line)
	})
	if got, err := Call(path, "place 1"); err != nil || got != "PLACE 1" {
		t.Errorf("Call(place 1) = %q, %v; want PLACE 1", got, err)
	}
	if _, err := Call(path, "boom"); err == nil || err.Error() != "no such thing" {
		t.Errorf("Call(boom) = %v; want the simulator's error", err)
	}
}
