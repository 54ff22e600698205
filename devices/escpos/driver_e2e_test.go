package escpos_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/devices/escpos/escpossim"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/testlog"
)

var logs testlog.Sink

func TestMain(m *testing.M) { testlog.Main(m, &logs, "devices-escpos") }

type printerRig struct {
	sim *escpossim.Sim
	p   *escpos.Printer
	reg *health.Registry
	out string
}

// newPrinterRig starts the simulator on a pty (transport "pty") or TCP ("tcp") and a
// printer driver against it, with a fast status poll.
func newPrinterRig(t *testing.T, transport string) *printerRig {
	return newRig(t, rigConfig{transport: transport, run: true, jobTimeout: 5 * time.Second})
}

type rigConfig struct {
	transport  string        // "pty" or "tcp"
	run        bool          // run the driver's poll loop
	jobTimeout time.Duration // 0: the driver's default
	buffer     int           // the simulator's receive buffer; 0: its default
	baud       int           // the pty's pace; 0: 115200
}

func newRig(t *testing.T, rc rigConfig) *printerRig {
	t.Helper()
	transport := rc.transport
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	baud := rc.baud
	if baud == 0 {
		baud = 115200
	}
	cfg := escpossim.Config{Out: out, Paper: escpos.Paper80, Baud: baud, Buffer: rc.buffer, Log: logs.Logger()}
	if transport == "pty" {
		cfg.Link = filepath.Join(dir, "printer")
	} else {
		cfg.Listen = "127.0.0.1:0"
	}
	sim := escpossim.New(cfg)
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	open := func() (devices.Port, error) {
		if transport == "pty" {
			return devices.OpenSerial(devices.SerialConfig{Path: cfg.Link, Baud: baud})
		}
		return devices.OpenTCP(sim.Addr(), 0, 2*time.Second)
	}
	reg := health.NewRegistry(nil)
	p := escpos.NewPrinter(escpos.Config{Name: "printer", Target: transport, PollInterval: 200 * time.Millisecond,
		JobTimeout: rc.jobTimeout, RetryCap: time.Second}, open, reg, logs.Logger(), clock.Real{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	if rc.run {
		go func() { p.Run(ctx); close(done) }()
	} else {
		close(done)
	}
	t.Cleanup(func() { cancel(); <-done; p.Halt(); sim.Close() })
	return &printerRig{sim: sim, p: p, reg: reg, out: out}
}

func (r *printerRig) waitHealth(t *testing.T, code string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, _ := r.reg.Get("printer")
		if st.Code == code {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("printer health did not reach %s within %s; it is %s/%s", code, within, st.State, st.Code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ticket() escpos.Ticket {
	return escpos.Ticket{HallName: "西湖区政务服务中心", CategoryName: "不动产登记", Number: "A023", Ahead: 3,
		EstimatedWait: 12 * time.Minute, IssuedAt: time.Date(2026, 11, 22, 9, 15, 0, 0, time.FixedZone("CST", 8*3600)),
		QR: "https://hall.example/t/A023", MaskedName: "张*", Footer: "请留意叫号"}
}

func TestPrintTicketAndReadItBack(t *testing.T) {
	for _, transport := range []string{"pty", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			r := newPrinterRig(t, transport)
			r.waitHealth(t, escpos.CodeReady, 5*time.Second)
			job, err := escpos.EncodeTicket(ticket(), escpos.Paper80)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.p.Print(context.Background(), job); err != nil {
				t.Fatalf("Print = %v; want nil", err)
			}
			printed := r.sim.Printed()
			if len(printed) != 1 {
				t.Fatalf("simulator cut %d tickets; want 1", len(printed))
			}
			txt, err := os.ReadFile(printed[0].TxtPath)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"A023", "西湖区政务服务中心", "不动产登记", "张*", "https://hall.example/t/A023"} {
				if !strings.Contains(string(txt), want) {
					t.Errorf("ticket text lacks %q:\n%s", want, txt)
				}
			}
			zbar, err := exec.LookPath("zbarimg")
			if err != nil {
				t.Fatal("zbarimg not installed; scripts/deps.sh test installs zbar-tools")
			}
			out, err := exec.Command(zbar, "-q", "--raw", "--nodbus", printed[0].PNGPath).Output()
			if err != nil || strings.TrimSpace(string(out)) != "https://hall.example/t/A023" {
				t.Errorf("zbarimg on the printed PNG = %q, %v; want the ticket's QR content", out, err)
			}
		})
	}
}

func TestPrintFailuresAreErrors(t *testing.T) {
	job, err := escpos.EncodeTicket(ticket(), escpos.Paper80)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, setup, health string
		want                error
	}{
		{"paper out before the job", "paper out", escpos.CodePaperOut, escpos.ErrPaperOut},
		{"cover open", "cover open", escpos.CodeCoverOpen, escpos.ErrCoverOpen},
		{"offline", "offline on", escpos.CodeOffline, escpos.ErrOffline},
		{"paper out during the job", "failafter 200", "", escpos.ErrPaperOut},
		{"printer hangs", "hang on", "", escpos.ErrNoAnswer},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newPrinterRig(t, "pty")
			r.waitHealth(t, escpos.CodeReady, 5*time.Second)
			if ans := r.sim.Exec(c.setup); !strings.HasPrefix(ans, "ok") {
				t.Fatal(ans)
			}
			if c.health != "" {
				r.waitHealth(t, c.health, 5*time.Second)
			}
			err := r.p.Print(context.Background(), job)
			if !errors.Is(err, c.want) && !(c.want == escpos.ErrNoAnswer && errors.Is(err, escpos.ErrNotConfirmed)) {
				t.Fatalf("Print = %v; want %v", err, c.want)
			}
			if n := len(r.sim.Printed()); n != 0 {
				t.Errorf("a failed job left %d cut tickets", n)
			}
		})
	}
}

func TestPaperLowThenRecovery(t *testing.T) {
	r := newPrinterRig(t, "tcp")
	r.waitHealth(t, escpos.CodeReady, 5*time.Second)
	r.sim.Exec("paper low")
	r.waitHealth(t, escpos.CodePaperLow, 5*time.Second)
	job, _ := escpos.EncodeTicket(ticket(), escpos.Paper58)
	if err := r.p.Print(context.Background(), job); err != nil {
		t.Errorf("Print with paper low = %v; want nil (near end still prints)", err)
	}
	r.sim.Exec("paper out")
	r.waitHealth(t, escpos.CodePaperOut, 5*time.Second)
	r.sim.Exec("paper ok")
	r.waitHealth(t, escpos.CodeReady, 5*time.Second)
}

func TestUnplugReplugRecovers(t *testing.T) {
	for _, transport := range []string{"pty", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			r := newPrinterRig(t, transport)
			r.waitHealth(t, escpos.CodeReady, 5*time.Second)
			r.sim.Unplug()
			r.waitHealth(t, escpos.CodeNoDevice, 5*time.Second)
			job, _ := escpos.EncodeTicket(ticket(), escpos.Paper80)
			if err := r.p.Print(context.Background(), job); !errors.Is(err, escpos.ErrNoPrinter) {
				t.Errorf("Print while unplugged = %v; want ErrNoPrinter", err)
			}
			if err := r.sim.Replug(); err != nil {
				t.Fatal(err)
			}
			r.waitHealth(t, escpos.CodeReady, 5*time.Second)
			if err := r.p.Print(context.Background(), job); err != nil {
				t.Errorf("Print after replug = %v", err)
			}
		})
	}
}
