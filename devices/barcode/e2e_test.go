package barcode_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/barcode"
	"github.com/hallkiosk/hallkiosk/devices/barcode/barcodesim"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/testlog"
)

var logs testlog.Sink

func TestMain(m *testing.M) { testlog.Main(m, &logs, "devices-barcode") }

// rig is a scanner driven against the simulator over a real pty.
type rig struct {
	sim     *barcodesim.Sim
	scanner *barcode.Scanner
	reg     *health.Registry
	states  chan health.Status
}

func newRig(t *testing.T, cfg barcode.Config) *rig {
	t.Helper()
	log := logs.Logger().With("test", t.Name())
	link := filepath.Join(t.TempDir(), "scanner")
	sim := barcodesim.New(barcodesim.Config{Link: link, Log: log})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	reg := health.NewRegistry(nil)
	states := make(chan health.Status, 256)
	reg.Subscribe(func(s health.Status) {
		select {
		case states <- s:
		default:
		}
	})
	cfg.Name, cfg.Port, cfg.RetryCap = "scanner", link, 500*time.Millisecond
	s := barcode.NewScanner(cfg, nil, reg, log, clock.Real{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		sim.Close()
	})
	rg := &rig{sim: sim, scanner: s, reg: reg, states: states}
	rg.waitHealth(t, health.OK, barcode.CodeReady, 5*time.Second)
	return rg
}

func (rg *rig) waitHealth(t *testing.T, state health.State, code string, within time.Duration) {
	t.Helper()
	if st, ok := rg.reg.Get("scanner"); ok && st.State == state && st.Code == code {
		return
	}
	deadline := time.After(within)
	for {
		select {
		case st := <-rg.states:
			if st.State == state && st.Code == code {
				return
			}
		case <-deadline:
			st, _ := rg.reg.Get("scanner")
			t.Fatalf("health did not reach %s/%s within %s; it is %s/%s: %s", state, code, within, st.State, st.Code, st.Message)
		}
	}
}

func (rg *rig) waitCode(t *testing.T, within time.Duration) barcode.CodeScanned {
	t.Helper()
	select {
	case ev := <-rg.scanner.Events():
		return ev.(barcode.CodeScanned)
	case <-time.After(within):
		t.Fatalf("no code within %s (stats %+v)", within, rg.scanner.Stats())
	}
	return barcode.CodeScanned{}
}

// eventually polls cond until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(within)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: not within %s", what, within)
		}
	}
}

func TestCodesWithEverySuffix(t *testing.T) {
	rg := newRig(t, barcode.Config{})
	for _, suf := range []barcodesim.Suffix{barcodesim.SuffixCR, barcodesim.SuffixLF, barcodesim.SuffixCRLF, barcodesim.SuffixNone} {
		if err := rg.sim.SetSuffix(suf); err != nil {
			t.Fatal(err)
		}
		want := "https://zwfw.example.gov.cn/q?t=" + string(suf) + "&n=预约取号"
		if err := rg.sim.Scan(want); err != nil {
			t.Fatal(err)
		}
		if got := rg.waitCode(t, 3*time.Second); got.Text != want {
			t.Errorf("suffix %s: scanned %q; want %q", suf, got.Text, want)
		}
	}
	if st := rg.scanner.Stats(); st.Codes != 4 || st.Rejected() != 0 {
		t.Errorf("Stats() = %+v; want 4 codes, none rejected", st)
	}
}

func TestAIMSymbology(t *testing.T) {
	rg := newRig(t, barcode.Config{StripAIM: true})
	rg.sim.Scan("]E06901234567892")
	if got := rg.waitCode(t, 3*time.Second); got.Text != "6901234567892" || got.Symbology != "ean13" {
		t.Errorf("scanned %+v; want 6901234567892 as ean13", got)
	}
}

func TestBadCodesRejectedAndCounted(t *testing.T) {
	logStart := len(logs.Bytes()) // -count=N reruns log under the same test name
	rg := newRig(t, barcode.Config{MaxLen: 64})
	secret := "110105194912310021" // a valid ID number: must never reach the logs
	bad := [][]byte{
		[]byte(secret + "\xc3\x28\r"),              // invalid UTF-8
		[]byte(secret + "\x07\r"),                  // control character
		[]byte(strings.Repeat(secret, 5) + "\r\n"), // too long
		append([]byte(secret+"\xff"), '\r'),        // invalid UTF-8 again
		[]byte("A\x1bB\r"),                         // escape
	}
	for _, b := range bad {
		if err := rg.sim.Send(b); err != nil {
			t.Fatal(err)
		}
	}
	rg.sim.Scan("OK-AFTER-BAD")
	if got := rg.waitCode(t, 3*time.Second); got.Text != "OK-AFTER-BAD" {
		t.Errorf("first valid code after bad ones = %q", got.Text)
	}
	st := rg.scanner.Stats()
	if st.InvalidUTF8 != 2 || st.ControlChar != 2 || st.TooLong != 1 || st.Codes != 1 {
		t.Errorf("Stats() = %+v; want 2 invalid UTF-8, 2 control char, 1 too long, 1 code", st)
	}
	out := logs.Bytes()[logStart:]
	if bytes.Contains(out, []byte(secret)) || bytes.Contains(out, []byte("OK-AFTER-BAD")) {
		t.Errorf("scanned content reached the logs")
	}
	// Rejections are rate-limited: five in a burst log once.
	var rejectLogs int
	for _, line := range bytes.Split(out, []byte("\n")) {
		if bytes.Contains(line, []byte(t.Name())) && bytes.Contains(line, []byte("scanned code rejected")) {
			rejectLogs++
		}
	}
	if rejectLogs != 1 {
		t.Errorf("%d rejection log lines for a burst of 5; want 1 (rate-limited)", rejectLogs)
	}
}

func TestUnplugReplug(t *testing.T) {
	rg := newRig(t, barcode.Config{})
	rg.sim.Scan("BEFORE")
	if got := rg.waitCode(t, 3*time.Second); got.Text != "BEFORE" {
		t.Fatalf("scanned %q", got.Text)
	}
	if err := rg.sim.Unplug(); err != nil {
		t.Fatal(err)
	}
	rg.waitHealth(t, health.Down, barcode.CodeNoDevice, 5*time.Second)
	if err := rg.scanner.Trigger(true); err == nil {
		// generic model: no trigger at all
		t.Errorf("Trigger on a generic scanner = nil; want an error")
	}
	if err := rg.sim.Replug(); err != nil {
		t.Fatal(err)
	}
	rg.waitHealth(t, health.OK, barcode.CodeReady, 5*time.Second)
	rg.sim.Scan("AFTER")
	if got := rg.waitCode(t, 3*time.Second); got.Text != "AFTER" {
		t.Fatalf("scanned %q after replug", got.Text)
	}
}

func TestTriggerReachesScanner(t *testing.T) {
	for _, m := range []barcode.Model{barcode.ModelHoneywell, barcode.ModelNewland, barcode.ModelZebraSSI} {
		t.Run(string(m), func(t *testing.T) {
			rg := newRig(t, barcode.Config{Model: m})
			if err := rg.scanner.Trigger(true); err != nil {
				t.Fatal(err)
			}
			if err := rg.scanner.Trigger(false); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprint([]string{string(m) + ":on", string(m) + ":off"})
			eventually(t, 3*time.Second, "triggers reach the simulator", func() bool { return fmt.Sprint(rg.sim.Triggers()) == want })
			if got := rg.sim.Exec("triggers"); got != "ok "+string(m)+":on "+string(m)+":off" {
				t.Errorf(`Exec("triggers") = %q`, got)
			}
		})
	}
}

func TestTriggerWhileUnplugged(t *testing.T) {
	rg := newRig(t, barcode.Config{Model: barcode.ModelHoneywell})
	rg.sim.Unplug()
	rg.waitHealth(t, health.Down, barcode.CodeNoDevice, 5*time.Second)
	if err := rg.scanner.Trigger(true); !errors.Is(err, barcode.ErrNotConnected) {
		t.Errorf("Trigger while unplugged = %v; want ErrNotConnected", err)
	}
}

func TestControlProtocol(t *testing.T) {
	rg := newRig(t, barcode.Config{})
	for _, c := range []struct{ cmd, want string }{
		{"suffix crlf", "ok suffix crlf"},
		{"suffix tab", "err barcodesim: unknown suffix"},
		{"scan 中文 码", "ok sent"},
		{"scanhex zz", "err usage"},
		{"scanhex c3280d", "ok sent 3 bytes"},
		{"bogus", "err unknown command"},
	} {
		if got := rg.sim.Exec(c.cmd); !strings.HasPrefix(got, c.want) {
			t.Errorf("Exec(%q) = %q; want %q...", c.cmd, got, c.want)
		}
	}
	if got := rg.waitCode(t, 3*time.Second); got.Text != "中文 码" {
		t.Errorf("scan over control = %q", got.Text)
	}
	eventually(t, 3*time.Second, "hex payload rejected", func() bool { return rg.scanner.Stats().InvalidUTF8 == 1 })
}
