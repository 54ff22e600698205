package escpos_test

import (
	"context"
	"image"
	"testing"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
)

// TestBigJobOnASlowLinkIsConfirmed: a job that takes seconds on the wire (a logo, a ticket
// in picture mode at 9600 baud) is confirmed, and health stays ready: the status polls
// wait behind the job in the link, and that is no sign of a silent printer.
func TestBigJobOnASlowLinkIsConfirmed(t *testing.T) {
	logo := escpos.Ticket(ticket())
	logo.Logo = image.NewGray(image.Rect(0, 0, 576, 400)) // about 29 KB of raster
	for _, c := range []struct {
		name   string
		baud   int
		tk     escpos.Ticket
		layout escpos.Layout
	}{
		{"logo at 115200", 115200, logo, escpos.Layout{Paper: escpos.Paper80}},
		{"raster QR at 9600", 9600, ticket(), escpos.Layout{Paper: escpos.Paper80, RasterQR: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigConfig{transport: "pty", baud: c.baud, buffer: 64 << 10})
			if _, err := r.p.Check(); err != nil {
				t.Fatal(err)
			}
			job, err := escpos.EncodeTicketFor(c.tk, c.layout)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.p.Print(context.Background(), job); err != nil {
				t.Fatalf("Print of %d bytes at %d baud = %v; want confirmed", len(job), c.baud, err)
			}
			if st, _ := r.reg.Get("printer"); st.Code != escpos.CodeReady {
				t.Errorf("health after the job = %s/%s; want ready", st.State, st.Code)
			}
			if n := len(r.sim.Printed()); n != 1 {
				t.Errorf("simulator printed %d jobs; want 1", n)
			}
		})
	}
}
