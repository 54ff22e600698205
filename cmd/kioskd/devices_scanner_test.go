package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/barcode"
	"github.com/hallkiosk/hallkiosk/devices/barcode/barcodesim"
	"github.com/hallkiosk/hallkiosk/devices/escpos"
	profiles "github.com/hallkiosk/hallkiosk/firmware-profiles"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/config"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/kiosk"
)

// The profile's quirks.suffix reaches the scanner driver: a scanner set to LF sends a code
// holding a CR, and the session gets it whole. Before, the suffix was validated and then
// dropped, and every CR or LF ended a code.
func TestScannerProfileSuffixReachesDriver(t *testing.T) {
	set, err := profiles.LoadDir(fstest.MapFS{"lf-scanner.toml": {Data: []byte(`schema = 1
id = "lf-scanner"
vendor = "Test"
model = "scanner set to send LF"
driver = "barcode"
kind = "code_scanner"
[transport]
type = "serial"
baud = 9600
read_timeout = "100ms"
[quirks]
trigger = "none"
suffix = "lf"
`)}})
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "scanner")
	sim := barcodesim.New(barcodesim.Config{Link: link, Suffix: barcodesim.SuffixLF})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	cfg := config.Default()
	cfg.Devices = []config.Device{{Name: "scanner", Profile: "lf-scanner", Port: link}}
	reg := health.NewRegistry(nil)
	ready := make(chan struct{}, 1)
	defer reg.Subscribe(func(st health.Status) {
		if st.Component == "scanner" && st.Code == barcode.CodeReady {
			select {
			case ready <- struct{}{}:
			default:
			}
		}
	})()
	n := &node{cfg: cfg, profiles: set, log: slog.New(slog.DiscardHandler), clock: clock.Real{}, health: reg,
		printers: map[string]*escpos.Printer{}, inputs: make(chan kiosk.Input, 8)}
	ctx, cancel := context.WithCancel(context.Background())
	specs, _ := n.deviceSpecs(ctx)
	if len(specs) != 1 || specs[0].Kind != "barcode" {
		t.Fatalf("deviceSpecs = %+v; want one barcode device", specs)
	}
	dev, err := specs[0].Build()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { dev.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		st, _ := reg.Get("scanner")
		t.Fatalf("scanner not ready: %+v", st)
	}
	const code = "LINE1\rLINE2"
	if err := sim.Scan(code); err != nil {
		t.Fatal(err)
	}
	select {
	case in := <-n.inputs:
		if c, ok := in.(kiosk.CodeScanned); !ok || c.Code != code {
			t.Errorf("session input = %#v; want CodeScanned{%q}", in, code)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no code reached the session")
	}
}
