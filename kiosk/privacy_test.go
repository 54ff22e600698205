package kiosk

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

// TestPersonalData drives sessions with a card and checks that no log line and no screen
// holds the full number or name, and that every way of ending leaves nothing behind.
func TestPersonalData(t *testing.T) {
	hash := idnum.Hash([]byte("test-key"), testID)
	for _, end := range []struct {
		name string
		do   func(r *rig)
	}{
		{"done", func(r *rig) { r.tap("done") }},
		{"timeout", func(r *rig) { r.advance(time.Hour) }},
		{"idle on a flow screen", func(r *rig) { r.tap("home", "tile:ticket"); r.advance(time.Hour); r.advance(time.Hour) }},
		{"declined", func(r *rig) { r.tap("home"); r.advance(time.Hour); r.tap("more.no") }},
		{"person left", func(r *rig) { r.do(PersonLeft{}) }},
	} {
		t.Run(end.name, func(t *testing.T) {
			r := newRig(t)
			r.tap("x", "elderly", "lang") // the end must reset these too
			r.do(CardPlaced{IDNumber: testID, Name: testName})
			r.want(ScreenCategory)
			held := r.s.card
			if held == nil || held.hash != hash || held.maskedID != idnum.MaskID(testID) || held.maskedName != "张**" {
				t.Fatalf("card held = %+v; want hash and masked forms only", held)
			}
			r.tap("help", "cat:A")
			r.want(ScreenTicketDone)
			if r.taker.names[0] != "张**" {
				t.Errorf("ticket printed with name %q; want 张**", r.taker.names[0])
			}
			end.do(r)
			r.want(ScreenAttract)
			if h := r.s.held(); len(h) > 0 {
				t.Errorf("after the end the session holds %v", h)
			}
			if *held != (card{}) {
				t.Errorf("the card record was not wiped: %+v", *held)
			}
			if _, m := r.s.View(); m.Lang != "zh" || m.Elderly {
				t.Errorf("mode after the end = %+v; want zh, not elderly", m)
			}
			checkNoPersonalData(t, r, hash)
		})
	}
}

func checkNoPersonalData(t *testing.T, r *rig, hash string) {
	t.Helper()
	for _, sc := range r.screens {
		for _, s := range texts(sc) {
			if strings.Contains(s, testID) || strings.Contains(s, testName) || strings.Contains(s, hash) {
				t.Errorf("screen %s shows %q", sc.Name, s)
			}
		}
	}
	logs := r.logs.String()
	for _, bad := range []string{testID, testName, hash, "三丰"} {
		if strings.Contains(logs, bad) {
			t.Errorf("logs hold %q:\n%s", bad, logs)
		}
	}
	if !strings.Contains(logs, idnum.MaskID(testID)) {
		t.Errorf("logs lack the masked card; was the card logged at all?\n%s", logs)
	}
	for _, said := range r.voice.said {
		if strings.Contains(said, "张") || strings.Contains(said, testID) {
			t.Errorf("voice said %q", said)
		}
	}
}

func TestTypedCodeIsZeroed(t *testing.T) {
	r := newRig(t)
	r.tap("tile:appointment", "appt:1", "appt:0", "appt:0")
	buf := r.s.code[:cap(r.s.code)]
	r.tap("appt:del")
	if buf[2] != 0 {
		t.Errorf("deleted digit still in the buffer: %q", buf)
	}
	r.advance(time.Hour)
	r.advance(time.Hour)
	r.want(ScreenAttract)
	if slices.ContainsFunc(buf, func(b byte) bool { return b != 0 }) {
		t.Errorf("typed code survives the session: %q", buf)
	}
}

func TestCardPlacedIsMaskedInLogsAndFormats(t *testing.T) {
	c := CardPlaced{IDNumber: testID, Name: testName}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "card", c, "input", Input(c))
	for _, s := range []string{buf.String(), fmt.Sprint(c), fmt.Sprintf("%+v %#v %s", c, c, c)} {
		if strings.Contains(s, testID) || strings.Contains(s, testName) {
			t.Errorf("formatted card %q holds the full data", s)
		}
	}
}
