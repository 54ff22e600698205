package kiosk

import (
	"context"
	"fmt"
	"image"
	"testing"

	"github.com/hallkiosk/hallkiosk/ui"
)

// fitVariants are what can add to any screen: the staff-call confirmation, a green-channel
// ticket, the offline badge and a card that did not read, alone and together.
var fitVariants = []struct {
	name         string
	before       func(r *rig) // before the path
	after        func(r *rig) // on the screen the path led to
	help, failed bool
}{
	{name: "plain"},
	{name: "help", help: true},
	{name: "green", before: func(r *rig) { r.taker.green = true }},
	{name: "green+help", before: func(r *rig) { r.taker.green = true }, help: true},
	{name: "everything", before: func(r *rig) { r.taker.green, r.online = true, false }, help: true, failed: true},
}

// TestScreensFit draws every screen path in every language and mode, plain and with
// everything that adds to a screen, on the panels the kiosk ships for, and fails on any
// frame fault: content cut off, text shortened, a touch target under 15 mm.
func TestScreensFit(t *testing.T) {
	fonts, err := ui.LoadFonts("")
	if err != nil {
		t.Skipf("skipping: no CJK font (apt-get install fonts-noto-cjk): %v", err)
	}
	paths, names := allPaths()
	for _, size := range []image.Point{{1280, 800}, {1920, 1080}} {
		rend := ui.NewRenderer(fonts, ui.Options{Size: size})
		for _, name := range names {
			for mi, m := range viewModes {
				for _, v := range fitVariants {
					where := fmt.Sprintf("%s %s %s %dx%d", name, m.name, v.name, size.X, size.Y)
					r := newRig(t)
					if v.before != nil {
						v.before(r)
					}
					setMode(r, name, mi)
					paths[name](r)
					// Straight to the session, without Continue: the printing screen stays.
					if v.failed {
						r.s.Handle(context.Background(), CardFailed{})
					}
					if v.help {
						r.s.Handle(context.Background(), UIEvent{ui.Event{Kind: ui.Tap, ID: "help"}})
					}
					sc, mode := r.s.View()
					_, l := rend.Render(sc, mode)
					if err := l.Err(); err != nil {
						t.Errorf("%s (screen %s):\n%v", where, sc.Name, err)
					}
				}
			}
		}
	}
}
