package escpos_test

import (
	"context"
	"errors"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

// Faults in the middle of a job, over a pty with the simulator speaking the protocol.

func simExec(t *testing.T, r *printerRig, cmd string) {
	t.Helper()
	if ans := r.sim.Exec(cmd); !strings.HasPrefix(ans, "ok") {
		t.Fatalf("sim %q: %s", cmd, ans)
	}
}

func (r *printerRig) health() health.Status {
	st, _ := r.reg.Get("printer")
	return st
}

// A status answer that came after its timeout must not be taken for a later answer: here
// the late DLE EOT answers would have passed for the job's GS r 1 answer and for the
// status after it, confirming a job the printer stopped for want of paper.
func TestLateStatusAnswersDoNotConfirmAJob(t *testing.T) {
	r := newRig(t, rigConfig{transport: "pty", jobTimeout: 5 * time.Second})
	if _, err := r.p.Check(); err != nil {
		t.Fatalf("Check = %v", err)
	}
	simExec(t, r, "delay 1500") // the driver waits 1 s for a status answer
	sent := r.sim.Answered()
	if _, err := r.p.Check(); !errors.Is(err, escpos.ErrNoAnswer) {
		t.Fatalf("Check with answers 1.5 s late = %v; want ErrNoAnswer", err)
	}
	for deadline := time.Now().Add(5 * time.Second); r.sim.Answered() < sent+4; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the late answers were never sent")
		}
	}
	simExec(t, r, "delay 0")
	simExec(t, r, "failafter 100")
	job, _ := escpos.EncodeTicket(ticket(), escpos.Paper80)
	err := r.p.Print(context.Background(), job)
	if !errors.Is(err, escpos.ErrPaperOut) {
		t.Fatalf("Print = %v; want ErrPaperOut: the paper ran out mid-job and GS r 1 was never answered", err)
	}
	if st := r.health(); st.Code != escpos.CodePaperOut {
		t.Errorf("health = %s/%s; want %s", st.State, st.Code, escpos.CodePaperOut)
	}
	if n := len(r.sim.Printed()); n != 0 {
		t.Errorf("%d tickets cut; want none", n)
	}
}

// A printer out of paper holds the job and does not answer GS r 1 (DEVICES.md 3.3), but
// answers DLE EOT: the job fails within a status poll, not after JobTimeout, and the
// health shows the paper out at once although the job held the port.
func TestPaperOutMidJobFailsAtOnce(t *testing.T) {
	r := newRig(t, rigConfig{transport: "pty", run: true}) // JobTimeout: the default 20 s
	r.waitHealth(t, escpos.CodeReady, 5*time.Second)
	simExec(t, r, "failafter 100")
	job, _ := escpos.EncodeTicket(ticket(), escpos.Paper80)
	start := time.Now()
	err := r.p.Print(context.Background(), job)
	took := time.Since(start)
	t.Logf("paper out mid-job: Print returned after %s: %v", took.Round(time.Millisecond), err)
	if !errors.Is(err, escpos.ErrPaperOut) || !strings.Contains(err.Error(), "during the job") {
		t.Fatalf("Print = %v; want ErrPaperOut during the job", err)
	}
	if took > 2*time.Second {
		t.Errorf("Print took %s to report the paper out; want under 2 s", took)
	}
	if st := r.health(); st.Code != escpos.CodePaperOut {
		t.Errorf("health when Print returned = %s/%s; want %s", st.State, st.Code, escpos.CodePaperOut)
	}
	if n := len(r.sim.Printed()); n != 0 {
		t.Fatalf("%d tickets cut with the paper out", n)
	}

	// The printer kept the rest of the job and prints it once paper is loaded: DEVICES.md
	// names no command that clears its buffer. Its late GS r 1 answer must not confirm
	// the next job, which prints on its own.
	simExec(t, r, "paper ok")
	r.waitHealth(t, escpos.CodeReady, 5*time.Second)
	if err := r.p.Print(context.Background(), job); err != nil {
		t.Fatalf("Print after paper ok = %v", err)
	}
	if n := len(r.sim.Printed()); n != 2 {
		t.Errorf("%d tickets cut; want 2: the held rest of the failed job, then the new one", n)
	}
}

// A printer that stops taking data (here: out of paper with its buffer full of a large
// job) must not block Print, Run and Halt for ever: the write times out, the job fails,
// the health says so at once, and the driver recovers once the printer reads again.
func TestPrinterThatStopsReadingFailsTheJob(t *testing.T) {
	r := newRig(t, rigConfig{transport: "pty", run: true})
	r.waitHealth(t, escpos.CodeReady, 5*time.Second)
	tk := ticket()
	tk.Logo = image.NewGray(image.Rect(0, 0, 576, 3000)) // about 216 KB of raster
	job, err := escpos.EncodeTicket(tk, escpos.Paper80)
	if err != nil {
		t.Fatal(err)
	}
	simExec(t, r, "failafter 100")
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- r.p.Print(context.Background(), job) }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		r.sim.Close() // the hang-up ends the write, so the cleanup can stop the driver
		t.Fatalf("Print of %d bytes to a printer that stopped reading still blocked after 10 s", len(job))
	}
	took := time.Since(start)
	t.Logf("printer stopped reading: Print returned after %s: %v", took.Round(time.Millisecond), err)
	if !errors.Is(err, devices.ErrWriteTimeout) || !errors.Is(err, escpos.ErrNotConfirmed) {
		t.Fatalf("Print = %v; want ErrNotConfirmed with ErrWriteTimeout", err)
	}
	if took > 5*time.Second {
		t.Errorf("Print took %s; want under 5 s", took)
	}
	if st := r.health(); st.Code != escpos.CodeOffline || !strings.Contains(st.Message, "stopped taking data") {
		t.Errorf("health when Print returned = %s/%s %q; want %s, stopped taking data", st.State, st.Code, st.Message, escpos.CodeOffline)
	}
	halted := make(chan struct{})
	go func() { r.p.Stats(); close(halted) }() // takes the lock Run and Halt need
	select {
	case <-halted:
	case <-time.After(3 * time.Second):
		t.Fatal("the driver's lock is still held after Print returned")
	}
	simExec(t, r, "paper ok")
	r.waitHealth(t, escpos.CodeReady, 10*time.Second)
}
