package barcode_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/barcode"
	"github.com/hallkiosk/hallkiosk/devices/barcode/barcodesim"
)

// A QR code with line breaks inside (a vCard) is one code: only the scanner's suffix,
// CR by default, ends a code. Before, every LF ended one and this scan gave three.
func TestMultiLineCodeIsOneCode(t *testing.T) {
	rg := newRig(t, barcode.Config{})
	const vcard = "BEGIN:VCARD\nFN:Zhang\nEND:VCARD"
	if err := rg.sim.Scan(vcard); err != nil {
		t.Fatal(err)
	}
	if got := rg.waitCode(t, 3*time.Second); got.Text != vcard {
		t.Errorf("scanned %q; want %q", got.Text, vcard)
	}
	rg.sim.Scan("NEXT")
	if got := rg.waitCode(t, 3*time.Second); got.Text != "NEXT" {
		t.Errorf("code after the vCard = %q; want NEXT", got.Text)
	}
	if st := rg.scanner.Stats(); st.Codes != 2 || st.Rejected() != 0 {
		t.Errorf("Stats() = %+v; want 2 codes, none rejected", st)
	}
}

// Each configured suffix ends a code and keeps the other line breaks in it.
func TestConfiguredSuffix(t *testing.T) {
	for _, c := range []struct {
		suffix barcode.Suffix
		code   string
	}{
		{barcode.SuffixCR, "L1\nL2\nL3"},
		{barcode.SuffixLF, "L1\rL2\rL3"},
		{barcode.SuffixCRLF, "L1\rL2\nL3"},
		{barcode.SuffixNone, "L1\r\nL2\nL3"},
	} {
		t.Run(string(c.suffix), func(t *testing.T) {
			rg := newRig(t, barcode.Config{Suffix: c.suffix})
			if err := rg.sim.SetSuffix(barcodesim.Suffix(c.suffix)); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				want := fmt.Sprintf("%s#%d", c.code, i)
				rg.sim.Scan(want)
				if got := rg.waitCode(t, 3*time.Second); got.Text != want {
					t.Errorf("scan %d = %q; want %q", i, got.Text, want)
				}
			}
			if st := rg.scanner.Stats(); st.Codes != 2 || st.Rejected() != 0 {
				t.Errorf("Stats() = %+v; want 2 codes, none rejected", st)
			}
		})
	}
}

// A Newland or Zebra SSI scanner answers a trigger command on the line the codes come on.
// The answer is taken out before framing; before, it was framed with the code that
// followed it, and that code was rejected as holding control characters.
func TestTriggerRepliesAreNotCodes(t *testing.T) {
	for _, m := range []barcode.Model{barcode.ModelNewland, barcode.ModelZebraSSI} {
		t.Run(string(m), func(t *testing.T) {
			rg := newRig(t, barcode.Config{Model: m})
			if err := rg.scanner.Trigger(true); err != nil {
				t.Fatal(err)
			}
			// The simulator answers as soon as it has the command; the code follows well
			// within the gap, as a scanner that reads at once sends it.
			eventually(t, 3*time.Second, "trigger reaches the simulator", func() bool { return len(rg.sim.Triggers()) == 1 })
			const code = "6901234567892"
			rg.sim.Scan(code)
			if got := rg.waitCode(t, 3*time.Second); got.Text != code {
				t.Errorf("code after the trigger = %q; want %q", got.Text, code)
			}
			if err := rg.scanner.Trigger(false); err != nil {
				t.Fatal(err)
			}
			eventually(t, 3*time.Second, "both replies read", func() bool { return rg.scanner.Stats().Replies == 2 })
			rg.sim.Scan("AFTER")
			if got := rg.waitCode(t, 3*time.Second); got.Text != "AFTER" {
				t.Errorf("code after trigger off = %q; want AFTER", got.Text)
			}
			if st := rg.scanner.Stats(); st.Codes != 2 || st.Rejected() != 0 || st.Refused != 0 {
				t.Errorf("Stats() = %+v; want 2 codes, 2 replies, nothing rejected or refused", st)
			}
		})
	}
}
