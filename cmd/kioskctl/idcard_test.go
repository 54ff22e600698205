package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallkiosk/hallkiosk/devices/idcard/idcardsim"
)

// startSim runs the reader simulator on a pty, paced at baud.
func startSim(t *testing.T, baud int) *idcardsim.Sim {
	t.Helper()
	cards, err := idcardsim.DefaultCards()
	if err != nil {
		t.Fatal(err)
	}
	sim := idcardsim.New(idcardsim.Config{Link: filepath.Join(t.TempDir(), "reader"), Baud: baud, Cards: cards})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// At 9600 baud a read answer takes 1.35 s on the wire; the command timeout must allow it.
func TestIDCardReadAt9600Baud(t *testing.T) {
	sim := startSim(t, 9600)
	sim.Place(0)
	var out, errOut bytes.Buffer
	err := idcardRun([]string{"read", "--port", sim.Link(), "--baud", "9600", "--timeout", "10s", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("idcard read at 9600 baud = %v; stderr %q", err, errOut.String())
	}
	var got cardView
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not a card: %v\n%s", err, out.String())
	}
	if got.IDNumber != "110105********0019" || got.PhotoBytes != 1024 {
		t.Errorf("read %+v; want card 0 with its masked number and photo", got)
	}
	if errOut.Len() != 0 {
		t.Errorf("--json wrote to stderr: %q", errOut.String())
	}
}

// A card that keeps failing gives one reason, in the returned error, not a line per retry.
func TestIDCardReadFailureIsOneReason(t *testing.T) {
	sim := startSim(t, 115200)
	if err := sim.Inject(idcardsim.FaultReadFail, -1); err != nil {
		t.Fatal(err)
	}
	sim.Place(0)
	var out, errOut bytes.Buffer
	err := idcardRun([]string{"read", "--port", sim.Link(), "--timeout", "2s", "--json"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "card read failed") || strings.Contains(err.Error(), "\n") {
		t.Errorf("idcard read of a failing card = %v; want one line naming the read failure", err)
	}
	if out.Len() != 0 || errOut.Len() != 0 {
		t.Errorf("--json printed stdout %q, stderr %q; want nothing besides the error", out.String(), errOut.String())
	}

	// Without --json the person at the reader is told once per reason, not once per poll.
	errOut.Reset()
	idcardRun([]string{"read", "--port", sim.Link(), "--timeout", "2s"}, &out, &errOut)
	if n := strings.Count(errOut.String(), "card could not be read"); n != 1 {
		t.Errorf("stderr told %d times to place the card again; want once:\n%s", n, errOut.String())
	}
}
