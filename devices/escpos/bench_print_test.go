package escpos_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/devices/escpos/escpossim"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"log/slog"
)

// statusBytes are the request bytes one Print sends besides the job: DLE EOT 1-4 before,
// GS r 1 after, DLE EOT 1-4 again.
const statusBytes = 4*3 + 3 + 4*3

// benchPrint prints a full ticket per iteration and confirms it. Over a pty the simulator
// takes bytes no faster than 115200 baud, so host overhead = total - wire time of the
// bytes sent (the one-byte answers are not paced; their 9 x 87 us are left out of both).
func benchPrint(b *testing.B, transport string) {
	dir := b.TempDir()
	cfg := escpossim.Config{Paper: escpos.Paper80, Baud: 115200}
	if transport == "pty" {
		cfg.Link = filepath.Join(dir, "printer")
	} else {
		cfg.Listen = "127.0.0.1:0"
	}
	sim := escpossim.New(cfg)
	if err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	open := func() (devices.Port, error) {
		if transport == "pty" {
			return devices.OpenSerial(devices.SerialConfig{Path: cfg.Link, Baud: 115200})
		}
		return devices.OpenTCP(sim.Addr(), 0, 5*time.Second)
	}
	p := escpos.NewPrinter(escpos.Config{Name: "printer"}, open, health.NewRegistry(nil), slog.New(slog.DiscardHandler), clock.Real{})
	defer p.Halt()
	job, err := escpos.EncodeTicket(ticket(), escpos.Paper80)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Check(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Print(context.Background(), job); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(perOp.Microseconds())/1000, "total-ms/op")
	b.ReportMetric(float64(len(job)+statusBytes), "sent-bytes/op")
	if transport == "pty" {
		wire := time.Duration(len(job)+statusBytes) * 10 * time.Second / 115200
		b.ReportMetric(float64(wire.Microseconds())/1000, "wire-ms/op")
		b.ReportMetric(float64((perOp-wire).Microseconds())/1000, "overhead-ms/op")
	}
}

func BenchmarkPrintTicketPTY115200(b *testing.B) { benchPrint(b, "pty") }
func BenchmarkPrintTicketTCP(b *testing.B)       { benchPrint(b, "tcp") }
