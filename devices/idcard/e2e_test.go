package idcard_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/idcard"
	"github.com/hallkiosk/hallkiosk/devices/idcard/idcardsim"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/testlog"
)

var logs testlog.Sink

func TestMain(m *testing.M) { testlog.Main(m, &logs, "devices-idcard") }

// rig is a reader driven against the simulator over a real pty.
type rig struct {
	sim    *idcardsim.Sim
	reader *idcard.Reader
	reg    *health.Registry
	states chan health.Status
	log    *testlog.Sink // this rig's logs, also written to the package's sink
}

func newRig(t *testing.T, baud int) *rig {
	t.Helper()
	return newRigWith(t, baud, nil)
}

// newRigWith is newRig with the reader's config changed by edit.
func newRigWith(t *testing.T, baud int, edit func(*idcard.Config)) *rig {
	t.Helper()
	cards, err := idcardsim.DefaultCards()
	if err != nil {
		t.Fatal(err)
	}
	own := &testlog.Sink{}
	log := slog.New(slog.NewJSONHandler(logs.Tee(own), &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	link := filepath.Join(t.TempDir(), "idcard")
	sim := idcardsim.New(idcardsim.Config{Link: link, Baud: baud, Cards: cards, Log: log})
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
	cfg := idcard.Config{Name: "idcard", Port: link, Baud: 115200, PollInterval: 300 * time.Millisecond,
		CommandTimeout: 500 * time.Millisecond, RetryCap: time.Second}
	if edit != nil {
		edit(&cfg)
	}
	r := idcard.NewReader(cfg, nil, reg, log, clock.Real{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		sim.Close()
	})
	rg := &rig{sim: sim, reader: r, reg: reg, states: states, log: own}
	rg.waitHealth(t, health.OK, idcard.CodeReady, 5*time.Second)
	return rg
}

func (rg *rig) waitHealth(t *testing.T, state health.State, code string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if st, ok := rg.reg.Get("idcard"); ok && st.State == state && st.Code == code {
		return 0
	}
	deadline := time.After(within)
	for {
		select {
		case st := <-rg.states:
			if st.State == state && st.Code == code {
				return time.Since(start)
			}
		case <-deadline:
			st, _ := rg.reg.Get("idcard")
			t.Fatalf("health did not reach %s/%s within %s; it is %s/%s: %s", state, code, within, st.State, st.Code, st.Message)
		}
	}
}

func waitEvent[E idcard.Event](t *testing.T, r *idcard.Reader, within time.Duration) E {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-r.Events():
			if e, ok := ev.(E); ok {
				return e
			}
			t.Logf("skipping event %T", ev)
		case <-deadline:
			var zero E
			t.Fatalf("no %T within %s", zero, within)
			return zero
		}
	}
}

func noEvent(t *testing.T, r *idcard.Reader, d time.Duration) {
	t.Helper()
	select {
	case ev := <-r.Events():
		t.Fatalf("unexpected event %T", ev)
	case <-time.After(d):
	}
}

func TestReadEveryCardType(t *testing.T) {
	rg := newRig(t, 115200)
	seen := map[idcard.CardType]bool{}
	for i, want := range rg.sim.Cards() {
		if err := rg.sim.Place(i); err != nil {
			t.Fatal(err)
		}
		got := waitEvent[idcard.CardPresented](t, rg.reader, 5*time.Second).Card
		if got.Type != want.Type || got.Name != want.Name || got.NameEN != want.NameEN || got.IDNumber != want.IDNumber ||
			got.Birth != want.Birth || got.ValidTo != want.ValidTo || got.Issuer != want.Issuer || got.Address != want.Address {
			t.Errorf("card %d read as %+v; want %+v", i, got, want)
		}
		if len(got.Photo) != 1024 || string(got.Photo) != string(want.Photo) {
			t.Errorf("card %d photo = %d bytes, equal=%v; want the fixture's 1024 bytes", i, len(got.Photo), string(got.Photo) == string(want.Photo))
		}
		seen[got.Type] = true
		got.Wipe()
		rg.sim.Remove()
		waitEvent[idcard.CardRemoved](t, rg.reader, 5*time.Second)
	}
	for _, ct := range []idcard.CardType{"resident", "foreign_permanent", "gat_residence"} {
		if !seen[ct] {
			t.Errorf("no %s card in the fixtures", ct)
		}
	}
}

func TestSameCardReadOnceUntilRemoved(t *testing.T) {
	rg := newRig(t, 0)
	rg.sim.Place(0)
	waitEvent[idcard.CardPresented](t, rg.reader, 5*time.Second)
	before := rg.sim.Commands()
	noEvent(t, rg.reader, 1500*time.Millisecond) // several polls
	if rg.sim.Commands() <= before {
		t.Fatalf("reader stopped polling while the card stayed")
	}
	rg.sim.Remove()
	waitEvent[idcard.CardRemoved](t, rg.reader, 5*time.Second)
	rg.sim.Place(0)
	waitEvent[idcard.CardPresented](t, rg.reader, 5*time.Second)
}

func TestFaultsAreSurvived(t *testing.T) {
	cases := []struct {
		fault idcardsim.Fault
		n     int
		// what the driver must show while the fault lasts
		event  bool // a CardReadFailed event
		health string
	}{
		{idcardsim.FaultReadFail, 1, true, ""},
		{idcardsim.FaultChecksum, 1, false, idcard.CodeCommError},
		{idcardsim.FaultJunk, 3, false, ""},
		{idcardsim.FaultGarbage, 1, false, idcard.CodeNoResponse},
		{idcardsim.FaultTruncate, 1, false, idcard.CodeNoResponse},
	}
	for _, c := range cases {
		t.Run(string(c.fault), func(t *testing.T) {
			rg := newRig(t, 115200)
			// The fault hits the next answers, whichever command they belong to; readfail
			// waits for a card read.
			rg.sim.Inject(c.fault, c.n)
			rg.sim.Place(1)
			if c.event {
				ev := waitEvent[idcard.CardReadFailed](t, rg.reader, 5*time.Second)
				if !errors.Is(ev.Err, idcard.ErrReadFailed) {
					t.Errorf("CardReadFailed.Err = %v; want ErrReadFailed", ev.Err)
				}
			}
			if c.health != "" {
				rg.waitHealth(t, health.Degraded, c.health, 5*time.Second)
			}
			card := waitEvent[idcard.CardPresented](t, rg.reader, 5*time.Second).Card
			if card.Name != rg.sim.Cards()[1].Name {
				t.Errorf("after %s the card read as %v", c.fault, card)
			}
			rg.waitHealth(t, health.OK, idcard.CodeReady, 5*time.Second)
		})
	}
}

func TestSilenceThenRecovery(t *testing.T) {
	rg := newRig(t, 0)
	rg.sim.Inject(idcardsim.FaultSilence, -1)
	rg.waitHealth(t, health.Down, idcard.CodeNoResponse, 10*time.Second)
	rg.sim.Clear()
	rg.waitHealth(t, health.OK, idcard.CodeReady, 5*time.Second)
	rg.sim.Place(2)
	waitEvent[idcard.CardPresented](t, rg.reader, 5*time.Second)
}

func TestUnplugReplugRecoversWithin2s(t *testing.T) {
	rg := newRig(t, 115200)
	for round := 0; round < 3; round++ {
		if err := rg.sim.Unplug(); err != nil {
			t.Fatal(err)
		}
		rg.waitHealth(t, health.Down, idcard.CodeNoReader, 5*time.Second)
		// Stay unplugged long enough for the backoff to reach its cap.
		time.Sleep(1500 * time.Millisecond)
		if err := rg.sim.Replug(); err != nil {
			t.Fatal(err)
		}
		took := rg.waitHealth(t, health.OK, idcard.CodeReady, 2*time.Second)
		t.Logf("round %d: back ok %s after replug", round, took.Round(time.Millisecond))
	}
	rg.sim.Place(0)
	waitEvent[idcard.CardPresented](t, rg.reader, 5*time.Second)
}
