package kiosk

import (
	"image"
	"slices"
	"testing"

	"github.com/hallkiosk/hallkiosk/ui"
)

// TestPromptKeepsHelp: while "need more time?" is up, the staff call and the language
// switch stay lit and working; the language switch keeps the prompt (now readable), the
// staff call answers it; every other button stays dead.
func TestPromptKeepsHelp(t *testing.T) {
	fonts, _ := ui.LoadFonts("") // without a font only the session is tested
	for _, elderly := range []bool{false, true} {
		r := newRig(t)
		if elderly {
			r.tap("x", "elderly")
		}
		r.tap("tile:ticket", "cat:A")
		r.want(ScreenCard)
		r.advance(r.s.idle())
		sc, mode := r.s.View()
		if sc.Modal == nil {
			t.Fatal("no prompt after the idle time")
		}
		for _, id := range []string{"help", "lang"} {
			if !slices.ContainsFunc(sc.Actions, func(b ui.Button) bool { return b.ID == id && b.Modeless }) {
				t.Errorf("elderly %v: action %q is not modeless: %+v", elderly, id, sc.Actions)
			}
		}
		if fonts != nil {
			_, l := ui.NewRenderer(fonts, ui.Options{Size: image.Pt(1280, 800)}).Render(sc, mode)
			var ids []string
			for _, tg := range l.Targets {
				ids = append(ids, tg.ID)
			}
			slices.Sort(ids)
			if want := []string{"help", "lang", "more.no", "more.yes"}; !slices.Equal(ids, want) {
				t.Errorf("elderly %v: targets over the prompt %v; want %v", elderly, ids, want)
			}
			if err := l.Err(); err != nil {
				t.Errorf("elderly %v: %v", elderly, err)
			}
		}

		r.tap("back", "home")
		r.want(ScreenCard)
		r.tap("lang")
		if sc := r.view(); sc.Modal == nil || sc.Modal.Title != r.cat.T("en", "more.title") {
			t.Errorf("elderly %v: after lang the prompt is %+v; want it up in English", elderly, sc.Modal)
		}
		r.tap("help")
		if len(r.alerts.screens) != 1 {
			t.Errorf("elderly %v: help over the prompt raised %d alerts; want 1", elderly, len(r.alerts.screens))
		}
		sc = r.view()
		if sc.Modal != nil || sc.Status.StaffCalled != r.cat.T("en", "help.coming") {
			t.Errorf("elderly %v: after help: prompt %+v, status %+v; want the prompt answered and staff called", elderly, sc.Modal, sc.Status)
		}
		r.want(ScreenCard)
		r.advance(r.s.idle() - 1)
		r.want(ScreenCard)
	}
}
