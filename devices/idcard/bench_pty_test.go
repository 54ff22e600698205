package idcard_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/devices/idcard"
	"github.com/hallkiosk/hallkiosk/devices/idcard/idcardsim"
)

// benchReadCard runs find-select-read against the simulator over a real pty. With a baud
// rate the simulator paces every byte as a UART would, so the host overhead is the total
// minus the wire time of the bytes exchanged.
func benchReadCard(b *testing.B, baud int) {
	cards, err := idcardsim.DefaultCards()
	if err != nil {
		b.Fatal(err)
	}
	link := filepath.Join(b.TempDir(), "idcard")
	sim := idcardsim.New(idcardsim.Config{Link: link, Baud: baud, Cards: cards})
	if err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	p, err := devices.OpenSerial(devices.SerialConfig{Path: link, Baud: 115200})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	c := idcard.NewConn(p, 2*time.Second)
	if err := c.SAMStatus(); err != nil {
		b.Fatal(err)
	}
	c.WireBytes = 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sim.Place(0) // a fresh placement each time: find answers 9F again
		card, err := c.ReadCard(false)
		if err != nil {
			b.Fatal(err)
		}
		card.Wipe()
	}
	b.StopTimer()
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(perOp.Microseconds())/1000, "total-ms/op")
	if baud > 0 {
		wire := time.Duration(c.WireBytes) * 10 * time.Second / time.Duration(baud) / time.Duration(b.N)
		b.ReportMetric(float64(wire.Microseconds())/1000, "wire-ms/op")
		b.ReportMetric(float64((perOp-wire).Microseconds())/1000, "overhead-ms/op")
	}
	b.ReportMetric(float64(c.WireBytes)/float64(b.N), "wire-bytes/op")
}

func BenchmarkReadCardPTY115200(b *testing.B) { benchReadCard(b, 115200) }

// BenchmarkReadCardPTYUnpaced is the baseline: the same exchange with no wire time at all.
func BenchmarkReadCardPTYUnpaced(b *testing.B) { benchReadCard(b, 0) }
