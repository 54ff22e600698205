package idcard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/idcard"
	"github.com/hallkiosk/hallkiosk/devices/idcard/idcardsim"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

// stays fails if the reader's health is not state/code now or changes within d.
func (rg *rig) stays(t *testing.T, state health.State, code string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case st := <-rg.states:
			t.Fatalf("health moved to %s/%s (%s); want it to stay %s/%s", st.State, st.Code, st.Message, state, code)
		case <-deadline:
			if st, _ := rg.reg.Get("idcard"); st.State != state || st.Code != code {
				t.Fatalf("health is %s/%s (%s); want it to stay %s/%s", st.State, st.Code, st.Message, state, code)
			}
			return
		}
	}
}

// A SAM that fails its self-test keeps the reader at sam_fault through every reconnect,
// logged once, whether it fails while the reader runs or when it is plugged in; it does
// not flip to no_reader, and no citizen is told to place a card again.
func TestSAMFaultStays(t *testing.T) {
	for _, when := range []string{"while running", "at connect"} {
		t.Run(when, func(t *testing.T) {
			rg := newRig(t, 115200)
			if when == "at connect" {
				if err := rg.sim.Unplug(); err != nil {
					t.Fatal(err)
				}
				rg.waitHealth(t, health.Down, idcard.CodeNoReader, 5*time.Second)
			}
			if err := rg.sim.Inject(idcardsim.FaultSAM, -1); err != nil {
				t.Fatal(err)
			}
			if when == "at connect" {
				if err := rg.sim.Replug(); err != nil {
					t.Fatal(err)
				}
			}
			rg.sim.Place(0)
			rg.waitHealth(t, health.Down, idcard.CodeSAMFault, 5*time.Second)
			// RetryCap is 1 s: this spans several reconnects.
			rg.stays(t, health.Down, idcard.CodeSAMFault, 3500*time.Millisecond)
			select {
			case ev := <-rg.reader.Events():
				t.Errorf("event %T during a SAM fault; want none", ev)
			default:
			}
			logs := string(rg.log.Bytes())
			if n := strings.Count(logs, `"msg":"SAM fault: the reader cannot read cards"`); n != 1 {
				t.Errorf("SAM fault logged %d times; want once", n)
			}
			if i := strings.Index(logs, "SAM fault"); i >= 0 && strings.Contains(logs[i:], "reader connection lost") {
				t.Errorf("a SAM fault was logged as a lost connection")
			}
			rg.sim.Clear()
			rg.waitHealth(t, health.OK, idcard.CodeReady, 5*time.Second)
			waitEvent[idcard.CardPresented](t, rg.reader, 5*time.Second).Card.Wipe()
		})
	}
}

// A card on the reader when the link drops is reported removed; after the replug it is
// read again as a new placement.
func TestCardRemovedWhenLinkDrops(t *testing.T) {
	rg := newRig(t, 115200)
	rg.sim.Place(1)
	waitEvent[idcard.CardPresented](t, rg.reader, 5*time.Second).Card.Wipe()
	if err := rg.sim.Unplug(); err != nil {
		t.Fatal(err)
	}
	waitEvent[idcard.CardRemoved](t, rg.reader, 5*time.Second)
	rg.waitHealth(t, health.Down, idcard.CodeNoReader, 5*time.Second)
	if err := rg.sim.Replug(); err != nil {
		t.Fatal(err)
	}
	card := waitEvent[idcard.CardPresented](t, rg.reader, 5*time.Second).Card
	if card.Name != rg.sim.Cards()[1].Name {
		t.Errorf("after the replug the card read as %v", card)
	}
	card.Wipe()
	rg.sim.Remove()
	waitEvent[idcard.CardRemoved](t, rg.reader, 5*time.Second)
}

// The max_rf_frame quirk is sent with 61 FF after every connect, since a reader powered
// up again forgets it; 0 sends nothing.
func TestMaxRFFrameSentAtConnect(t *testing.T) {
	rg := newRigWith(t, 115200, func(c *idcard.Config) { c.MaxRFFrame = 80 })
	if got := rg.sim.RFFrame(); got != 80 {
		t.Errorf("after connect the reader's RF frame is %d; want 80", got)
	}
	rg.sim.Unplug()
	rg.waitHealth(t, health.Down, idcard.CodeNoReader, 5*time.Second)
	rg.sim.Replug()
	rg.waitHealth(t, health.OK, idcard.CodeReady, 5*time.Second)
	if got := rg.sim.RFFrame(); got != 80 {
		t.Errorf("after a replug the reader's RF frame is %d; want 80 again", got)
	}
	rg.sim.Place(0)
	waitEvent[idcard.CardPresented](t, rg.reader, 5*time.Second).Card.Wipe()

	plain := newRig(t, 0)
	if got := plain.sim.RFFrame(); got != 0 {
		t.Errorf("with max_rf_frame 0 the reader's RF frame was set to %d; want it untouched", got)
	}
}
