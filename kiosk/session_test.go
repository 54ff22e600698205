package kiosk

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/queue"
	"github.com/hallkiosk/hallkiosk/ui"
)

func TestIdle(t *testing.T) {
	for _, tc := range []struct {
		name    string
		elderly bool
		idle    time.Duration
		more    int // seconds the prompt waits
	}{
		{"standard", false, 60 * time.Second, 20},
		{"elderly", true, 180 * time.Second, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.tap("tile:ticket")
			if tc.elderly {
				r.tap("home", "elderly", "tile:ticket")
			}
			r.tap("cat:A")
			r.want(ScreenCard)
			r.advance(tc.idle - time.Second)
			if r.view().Modal != nil {
				t.Fatalf("prompt after %v; want it after %v", tc.idle-time.Second, tc.idle)
			}
			r.advance(time.Second)
			m := r.view().Modal
			if m == nil || m.Title != r.zh("more.title") || m.Text != r.zh("more.text", tc.more) {
				t.Fatalf("modal after %v = %+v; want the more-time prompt with %d s", tc.idle, m, tc.more)
			}
			r.advance(5 * time.Second)
			if m := r.view().Modal; m == nil || m.Text != r.zh("more.text", tc.more-5) {
				t.Errorf("countdown = %+v; want %d s", m, tc.more-5)
			}
			// Device events and taps outside the prompt change nothing while it is up.
			r.do(CardPlaced{IDNumber: testID, Name: testName})
			r.tap("skip")
			if r.s.card != nil || len(r.taker.reqs) > 0 {
				t.Fatal("input behind the prompt was acted on")
			}
			r.tap("more.yes")
			r.want(ScreenCard)
			if r.view().Modal != nil {
				t.Fatal("prompt still up after more.yes")
			}
			r.advance(tc.idle)
			r.advance(time.Duration(tc.more-1) * time.Second)
			r.want(ScreenCard)
			r.advance(time.Second)
			r.want(ScreenAttract)
			if h := r.s.held(); len(h) > 0 {
				t.Errorf("after the idle end the session holds %v", h)
			}
		})
	}
}

func TestPromptDeclined(t *testing.T) {
	r := newRig(t)
	r.do(CardPlaced{IDNumber: testID, Name: testName})
	r.advance(60 * time.Second)
	r.tap("more.no")
	r.want(ScreenAttract)
	if h := r.s.held(); len(h) > 0 {
		t.Errorf("session holds %v after more.no", h)
	}
}

func TestResultScreenEndsByItself(t *testing.T) {
	r := newRig(t)
	skipA(r)
	r.want(ScreenTicketDone)
	r.advance(19 * time.Second)
	r.want(ScreenTicketDone)
	r.advance(time.Second)
	r.want(ScreenAttract)
	skipA(r)
	r.do(PersonLeft{})
	r.want(ScreenAttract)
}

func TestElderly(t *testing.T) {
	r := newRig(t)
	r.hall.cats = testCategories(10)
	r.tap("elderly")
	if _, m := r.s.View(); !m.Elderly {
		t.Fatal("Mode.Elderly false after the elderly button")
	}
	if !slices.Contains(r.voice.said, "zh:"+r.zh("home.title")) {
		t.Errorf("voice said %q; want the home instruction", r.voice.said)
	}
	r.tap("tile:ticket")
	pageIDs := func() []string {
		ts, _ := widget[ui.Tiles](r.view())
		var ids []string
		for _, it := range ts.Items {
			ids = append(ids, it.ID)
		}
		return ids
	}
	for page, want := range [][]string{{"cat:A", "cat:B", "cat:C", "cat:D"}, {"cat:E", "cat:F", "cat:G", "cat:H"}, {"cat:J", "cat:K"}} {
		if got := pageIDs(); !slices.Equal(got, want) {
			t.Errorf("page %d = %v; want %v", page+1, got, want)
		}
		if !has(r.view(), r.zh("page.of", page+1, 3)) {
			t.Errorf("page %d: no page indicator", page+1)
		}
		r.tap("page.next")
	}
	if !slices.Contains(r.voice.said, "zh:"+r.zh("category.subtitle")) {
		t.Errorf("voice said %q; want the category instruction", r.voice.said)
	}
	r.tap("lang")
	if last := r.voice.said[len(r.voice.said)-1]; last != "en:"+r.cat.T("en", "category.subtitle") {
		t.Errorf("after the language switch the voice said %q", last)
	}
	r.tap("cat:J")
	// A card that did not read is said, not only shown, then what to do.
	r.do(CardFailed{})
	if last := r.voice.said[len(r.voice.said)-1]; !strings.HasPrefix(last, "en:"+r.cat.T("en", "card.failed")) {
		t.Errorf("after a failed card read the voice said %q; want the failure first", last)
	}
	r.do(CardPlaced{IDNumber: testID, Name: testName})
	r.want(ScreenTicketDone)
	for _, said := range r.voice.said {
		if strings.Contains(said, "张") || strings.Contains(said, testID) {
			t.Errorf("voice said personal data: %q", said)
		}
	}

	// Standard mode pages 9 at a time.
	r2 := newRig(t)
	r2.hall.cats = testCategories(10)
	r2.tap("tile:ticket")
	if ts, _ := widget[ui.Tiles](r2.view()); len(ts.Items) != 9 {
		t.Errorf("standard mode shows %d categories; want 9", len(ts.Items))
	}
	if len(r2.voice.said) > 0 {
		t.Errorf("voice spoke in standard mode: %q", r2.voice.said)
	}
}

func TestLanguageSwitch(t *testing.T) {
	// Every screen in English has no Chinese but the switch back, and the hall's English
	// name in the status bar. (The attract loop is always in the default language: the
	// switch wakes the kiosk.)
	for name, path := range screenPaths {
		if name == ScreenAttract {
			continue
		}
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			r.mode = func(r *rig) { r.tap("lang") }
			r.start()
			path(r)
			r.want(name)
			sc, m := r.s.View()
			if m.Lang != "en" {
				t.Fatalf("Mode.Lang = %q; want en", m.Lang)
			}
			check := func(sc ui.Screen) {
				for _, s := range texts(sc) {
					if s == r.cat.T("en", "action.lang") {
						continue
					}
					if strings.ContainsFunc(s, func(c rune) bool { return unicode.Is(unicode.Han, c) }) {
						t.Errorf("%s in English shows %q", sc.Name, s)
					}
					if strings.Contains(s, "⟦") {
						t.Errorf("%s shows a missing key: %q", sc.Name, s)
					}
				}
			}
			check(sc)
			if sc.Status.Hall != r.s.cfg.HallNameEN {
				t.Errorf("status bar hall = %q; want %q", sc.Status.Hall, r.s.cfg.HallNameEN)
			}
			r.tap("lang")
			if sc, m := r.s.View(); m.Lang != "zh" || sc.Status.Hall != r.s.cfg.HallName {
				t.Errorf("second switch: Lang = %q, hall %q; want zh, %q", m.Lang, sc.Status.Hall, r.s.cfg.HallName)
			}
			r.tap("lang")
			r.advance(time.Minute) // the prompt, or the end of a result screen
			if sc := r.view(); sc.Name != ScreenAttract {
				if sc.Modal == nil {
					t.Errorf("no prompt on %s after a minute", sc.Name)
				}
				check(sc)
			}
		})
	}
	// With no English name the hall keeps its Chinese one.
	r := newRig(t, func(c *Config) { c.HallNameEN = "" })
	r.tap("lang")
	if got := r.view().Status.Hall; got != r.s.cfg.HallName {
		t.Errorf("English screen without hall_name_en shows hall %q; want %q", got, r.s.cfg.HallName)
	}
}

func TestHelp(t *testing.T) {
	for _, path := range []struct {
		screen string
		to     func(r *rig)
	}{
		{ScreenHome, func(r *rig) {}},
		{ScreenCard, func(r *rig) { r.tap("tile:ticket", "cat:A") }},
		{ScreenApptEnter, func(r *rig) { r.tap("tile:appointment") }},
		{ScreenTicketDone, skipA},
		{ScreenPrintFailed, func(r *rig) { r.taker.printErr = context.DeadlineExceeded; skipA(r) }},
	} {
		t.Run(path.screen, func(t *testing.T) {
			r := newRig(t)
			r.tap("x")
			path.to(r)
			if !slices.ContainsFunc(r.view().Actions, func(b ui.Button) bool { return b.ID == "help" }) {
				t.Fatalf("no help button on %s", path.screen)
			}
			r.tap("help")
			if !slices.Equal(r.light.calls, []bool{true}) || !slices.Equal(r.alerts.screens, []string{"T1/" + path.screen}) {
				t.Fatalf("light %v, alerts %v; want one blink and one alert from %s", r.light.calls, r.alerts.screens, path.screen)
			}
			if !has(r.view(), r.zh("help.coming")) {
				t.Error("no confirmation on screen")
			}
			if i := slices.IndexFunc(r.view().Actions, func(b ui.Button) bool { return b.ID == "help" }); i < 0 || r.view().Actions[i].Label != r.zh("action.help.called") {
				t.Error("the staff call's button does not say it was called")
			}
			r.clk.Advance(10 * time.Second)
			r.tap("help")
			if len(r.alerts.screens) != 1 {
				t.Errorf("second call within 30 s raised %d alerts; want 1", len(r.alerts.screens))
			}
			r.clk.Advance(20 * time.Second)
			r.tap("help")
			if len(r.alerts.screens) != 2 {
				t.Errorf("call after 30 s raised %d alerts in all; want 2", len(r.alerts.screens))
			}
			r.tap("home", "lang")
			r.advance(time.Hour)
			r.advance(time.Hour)
			r.want(ScreenAttract)
			if r.light.calls[len(r.light.calls)-1] {
				t.Error("the light still blinks after the session ended")
			}
		})
	}
	// Every screen has the language switch and the staff call, the attract loop included.
	for name, path := range screenPaths {
		r := newRig(t)
		path(r)
		var ids []string
		for _, b := range r.view().Actions {
			ids = append(ids, b.ID)
		}
		if !slices.Contains(ids, "help") || !slices.Contains(ids, "lang") {
			t.Errorf("%s actions %v; want help and lang", name, ids)
		}
	}
}

func TestHomeFollowsPrinterHealth(t *testing.T) {
	for _, tc := range []struct {
		name    string
		st      []health.Status
		enabled bool
	}{
		{"no report", nil, true},
		{"ok", []health.Status{{Component: "printer", State: health.OK}}, true},
		{"paper low", []health.Status{{Component: "printer", State: health.Degraded, Code: "printer.paper_low"}}, true},
		{"paper out", []health.Status{{Component: "printer", State: health.Degraded, Code: "printer.paper_out"}}, false},
		{"down", []health.Status{{Component: "printer", State: health.Down, Code: "printer.offline"}}, false},
		{"other component down", []health.Status{{Component: "idcard", State: health.Down}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.health = tc.st
			r.tap("x")
			sc := r.view()
			// A flow that cannot run has no tile, and a sentence says why and where to go.
			if _, ok := tile(sc, "tile:ticket"); ok != tc.enabled {
				t.Errorf("ticket tile shown = %v; want %v", ok, tc.enabled)
			}
			if _, ok := tile(sc, "tile:appointment"); ok != tc.enabled {
				t.Errorf("appointment tile shown = %v; want %v", ok, tc.enabled)
			}
			for _, key := range []string{"home.ticket.unavailable", "home.appointment.unavailable"} {
				if has(sc, r.zh(key)) == tc.enabled {
					t.Errorf("%s shown = %v; want %v", key, !tc.enabled, !tc.enabled)
				}
			}
			r.tap("tile:ticket")
			r.do(CardPlaced{IDNumber: testID, Name: testName})
			if got := r.view().Name; tc.enabled != (got != ScreenHome) {
				t.Errorf("after tapping the tile and placing a card: %s", got)
			}
		})
	}
	// A flow that does not exist has no tile.
	r := newRig(t)
	r.s.d.Appointments = nil
	r.tap("x")
	if _, ok := tile(r.view(), "tile:appointment"); ok {
		t.Error("appointment tile without an appointment book")
	}
}

func TestDeviceEventsOutsideTheirFlowAreIgnored(t *testing.T) {
	for _, tc := range []struct {
		name string
		to   func(r *rig)
		in   Input
	}{
		{"card on appointment entry", func(r *rig) { r.tap("tile:appointment") }, CardPlaced{IDNumber: testID, Name: testName}},
		{"card on ticket done", skipA, CardPlaced{IDNumber: testID, Name: testName}},
		{"card on appointment early", func(r *rig) { r.do(CodeScanned{Code: "1002"}) }, CardPlaced{IDNumber: testID, Name: testName}},
		{"code on category", func(r *rig) { r.tap("tile:ticket") }, CodeScanned{Code: "1001"}},
		{"code on card screen", func(r *rig) { r.tap("tile:ticket", "cat:A") }, CodeScanned{Code: "1001"}},
		{"code on ticket done", skipA, CodeScanned{Code: "1001"}},
		{"card failed on home", func(r *rig) { r.tap("x") }, CardFailed{}},
		{"presence on category", func(r *rig) { r.tap("tile:ticket") }, PersonNear{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			tc.to(r)
			before, n := r.view(), len(r.taker.reqs)
			r.do(tc.in)
			if after := r.view(); after.Name != before.Name || len(r.taker.reqs) != n || r.s.card != nil && before.Name != ScreenCategory {
				t.Errorf("%T on %s moved to %s (requests %d -> %d)", tc.in, before.Name, after.Name, n, len(r.taker.reqs))
			}
			if r.s.card != nil {
				t.Error("the card was kept")
			}
		})
	}
}

func TestOfflineBadge(t *testing.T) {
	r := newRig(t)
	if sc := r.view(); sc.Status.Offline {
		t.Error("offline while online")
	}
	r.online = false
	sc := r.view()
	if !sc.Status.Offline || sc.Status.OfflineText != r.zh("status.offline") {
		t.Errorf("status = %+v; want the offline badge", sc.Status)
	}
	if sc.Status.Hall != "朝阳区政务服务中心" || !sc.Status.Clock.Equal(t0) {
		t.Errorf("status = %+v; want the hall and 09:40", sc.Status)
	}
}

// TestReaderDown: with the ID-card reader down (or none at all), a category that needs the
// card shows as unavailable with the reason and cannot be taken, the others print a walk-in
// ticket without the card step, and no screen asks for a card.
func TestReaderDown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		st     []health.Status
		config func(*Config)
	}{
		{"down", []health.Status{{Component: "idcard", State: health.Down, Code: "idcard.no_reader"}}, nil},
		{"named reader down", []health.Status{{Component: "reader-2", State: health.Down}}, func(c *Config) { c.ReaderComponent = "reader-2" }},
		{"no reader", nil, func(c *Config) { c.NoReader = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tweaks []func(*Config)
			if tc.config != nil {
				tweaks = append(tweaks, tc.config)
			}
			r := newRig(t, tweaks...)
			r.health = tc.st
			r.tap("x")
			if slices.Contains(texts(r.view()), r.zh("home.card_hint")) {
				t.Error("home asks for a card the kiosk cannot read")
			}
			r.tap("tile:ticket")
			r.want(ScreenCategory)
			b, _ := tile(r.view(), "cat:B")
			if !b.Disabled || b.Reason != r.zh("category.no_reader") {
				t.Errorf("tile B (needs the card) = %+v; want disabled with %q", b, r.zh("category.no_reader"))
			}
			if a, _ := tile(r.view(), "cat:A"); a.Disabled {
				t.Errorf("tile A (card optional) disabled: %+v", a)
			}
			r.tap("cat:B")
			r.want(ScreenCategory)
			if len(r.taker.reqs) != 0 {
				t.Fatalf("a ticket for B without its card: %+v", r.taker.reqs)
			}
			r.tap("cat:A")
			r.want(ScreenTicketDone)
			if len(r.taker.reqs) != 1 || r.taker.reqs[0].Category != "A" || r.taker.reqs[0].Source != queue.SourceWalkIn {
				t.Errorf("requests = %+v; want one walk-in A", r.taker.reqs)
			}
			for _, sc := range r.screens {
				if sc.Name == ScreenCard {
					t.Error("the card screen was shown with no working reader")
				}
			}
		})
	}
	// The reader back up: B can be taken with the card again.
	r := newRig(t)
	r.health = []health.Status{{Component: "idcard", State: health.Down}}
	r.tap("x", "tile:ticket")
	r.health = []health.Status{{Component: "idcard", State: health.OK}}
	r.tap("home", "tile:ticket")
	if b, _ := tile(r.view(), "cat:B"); b.Disabled {
		t.Errorf("tile B still disabled after the reader recovered: %+v", b)
	}
	r.tap("cat:B")
	r.want(ScreenCard)
}
