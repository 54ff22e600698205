package devices

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

type fakeDevice struct {
	name   string
	runs   chan struct{}
	fail   bool
	halted bool
}

func (f *fakeDevice) String() string { return f.name }
func (f *fakeDevice) Halt() error    { f.halted = true; return nil }
func (f *fakeDevice) Run(ctx context.Context) error {
	f.runs <- struct{}{}
	if f.fail {
		panic("driver bug")
	}
	<-ctx.Done()
	return nil
}

func TestStartReportsLoadedSkippedFailed(t *testing.T) {
	reg := health.NewRegistry(nil)
	clk := clock.NewFake(time.Now())
	m := NewManager(slog.New(slog.DiscardHandler), reg, clk)
	good := &fakeDevice{name: "printer", runs: make(chan struct{}, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	rep := m.Start(ctx, []Spec{
		{Name: "printer", Kind: "escpos", Build: func() (Device, error) { return good, nil }},
		{Name: "gpio", Kind: "gpio", Skip: "no GPIO chip on this machine"},
		{Name: "idcard", Kind: "idcard", Build: func() (Device, error) { return nil, errors.New("no such profile") }},
	})
	if len(rep.Loaded) != 1 || len(rep.Skipped) != 1 || len(rep.Failed) != 1 {
		t.Fatalf("report = %s; want one of each", rep)
	}
	if st, _ := reg.Get("idcard"); st.State != health.Down || st.Code != "idcard.failed" {
		t.Errorf("failed device health = %+v; want down idcard.failed", st)
	}
	if st, _ := reg.Get("gpio"); st.State != health.Skipped {
		t.Errorf("skipped device health = %+v; want skipped", st)
	}
	<-good.runs
	cancel()
	m.Wait()
	if !good.halted {
		t.Error("Wait did not halt the device")
	}
}

func TestSupervisorRestartsPanickingDriver(t *testing.T) {
	reg := health.NewRegistry(nil)
	clk := clock.NewFake(time.Now())
	m := NewManager(slog.New(slog.DiscardHandler), reg, clk)
	bad := &fakeDevice{name: "scanner", runs: make(chan struct{}, 4), fail: true}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); m.Wait() }()
	m.Start(ctx, []Spec{{Name: "scanner", Kind: "barcode", Build: func() (Device, error) { return bad, nil }}})
	<-bad.runs
	// The panic is reported as health, then the supervisor waits its backoff on the clock.
	deadline := time.Now().Add(5 * time.Second)
	for clk.Waiters() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("supervisor never scheduled a restart")
		}
		time.Sleep(time.Millisecond)
	}
	if st, _ := reg.Get("scanner"); st.State != health.Down || st.Code != "barcode.crashed" {
		t.Errorf("health after panic = %+v; want down barcode.crashed", st)
	}
	clk.Advance(2 * time.Minute)
	select {
	case <-bad.runs:
	case <-time.After(5 * time.Second):
		t.Fatal("driver not restarted after its backoff")
	}
}

func TestBackoffCappedWithJitter(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Cap: time.Second, Min: 10 * time.Millisecond}
	for i := 0; i < 200; i++ {
		d := b.Next()
		if d < 10*time.Millisecond || d > time.Second {
			t.Fatalf("Next() #%d = %v; want within [10ms, 1s]", i, d)
		}
	}
	distinct := map[time.Duration]bool{}
	for i := 0; i < 20; i++ {
		distinct[b.Next()] = true
	}
	if len(distinct) < 5 {
		t.Errorf("20 delays at the cap gave %d distinct values; want jitter", len(distinct))
	}
	b.Reset()
	if d := b.Next(); d > 100*time.Millisecond {
		t.Errorf("first delay after Reset = %v; want <= base", d)
	}
}
