package gpio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/testlog"
)

var logs testlog.Sink

func TestMain(m *testing.M) { testlog.Main(m, &logs, "devices-gpio") }

// setLevel drives an input pin from the outside, as the sensor wiring would.
func setLevel(p *gpiotest.Pin, l gpio.Level) {
	p.Lock()
	p.L = l
	p.Unlock()
}

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// stepper drives a loop that sleeps on a fake clock one wake-up at a time.
type stepper struct {
	t   *testing.T
	clk *clock.Fake
}

// sleeping waits (on the real clock, with a deadline) until the loop waits on the fake clock.
func (s stepper) sleeping() {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.clk.Waiters() == 0 {
		if time.Now().After(deadline) {
			s.t.Fatal("loop never slept on the clock")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// advance moves the clock by d and returns once the loop has handled it and sleeps again.
func (s stepper) advance(d time.Duration) {
	s.t.Helper()
	s.sleeping()
	s.clk.Advance(d)
	s.sleeping()
}

func start(t *testing.T, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func nextEvent(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return nil
}

func TestDebouncer(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	d := NewDebouncer(100*time.Millisecond, gpio.Low)
	steps := []struct {
		at      int
		in      gpio.Level
		want    gpio.Level
		changed bool
	}{
		{0, gpio.Low, gpio.Low, false},
		{10, gpio.High, gpio.Low, false},  // bounce starts
		{60, gpio.Low, gpio.Low, false},   // 50 ms bounce: ignored
		{70, gpio.High, gpio.Low, false},  // real press
		{169, gpio.High, gpio.Low, false}, // 99 ms: not yet
		{170, gpio.High, gpio.High, true},
		{180, gpio.High, gpio.High, false},
		{200, gpio.Low, gpio.High, false},
		{299, gpio.High, gpio.High, false}, // back before the debounce: no change
		{500, gpio.High, gpio.High, false},
	}
	for _, s := range steps {
		got, changed := d.Update(s.in, ms(s.at))
		if got != s.want || changed != s.changed {
			t.Errorf("Update(%v, +%dms) = %v, %v; want %v, %v", s.in, s.at, got, changed, s.want, s.changed)
		}
	}
}

func TestPresenceDebounce(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		t.Run(fmt.Sprintf("activeLow=%v", activeLow), func(t *testing.T) {
			clk := clock.NewFake(t0)
			st := stepper{t, clk}
			on, off := gpio.High, gpio.Low
			if activeLow {
				on, off = off, on
			}
			p := &gpiotest.Pin{N: "GPIO17", L: off}
			s := NewPresenceSensor(p, InputConfig{Poll: 10 * time.Millisecond, Debounce: 100 * time.Millisecond, ActiveLow: activeLow},
				logs.Logger().With("test", t.Name()), clk)
			start(t, s.Run)
			noEvent := func(what string) {
				t.Helper()
				select {
				case ev := <-s.Events():
					t.Fatalf("%s: unexpected %T", what, ev)
				default:
				}
			}
			// Bounces of up to 90 ms, however many, never emit.
			for i := 0; i < 5; i++ {
				setLevel(p, on)
				for j := 0; j < 9; j++ {
					st.advance(10 * time.Millisecond)
				}
				setLevel(p, off)
				st.advance(10 * time.Millisecond)
			}
			noEvent("bounces")
			// The first sample that sees the person comes one poll after the change;
			// the debounce runs from there.
			setLevel(p, on)
			for j := 0; j < 10; j++ {
				st.advance(10 * time.Millisecond)
			}
			noEvent("90 ms near")
			st.advance(10 * time.Millisecond)
			if ev := nextEvent(t, s.Events()); ev != (PersonNear{}) {
				t.Fatalf("after 100 ms near: %T; want PersonNear", ev)
			}
			setLevel(p, off)
			for j := 0; j < 11; j++ {
				st.advance(10 * time.Millisecond)
			}
			if ev := nextEvent(t, s.Events()); ev != (PersonLeft{}) {
				t.Fatalf("after 100 ms away: %T; want PersonLeft", ev)
			}
			noEvent("end")
		})
	}
}

func TestPattern(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	cases := []struct {
		s    LightState
		at   time.Duration
		want Lamps
	}{
		{LightOff, 0, Lamps{}},
		{LightOK, ms(1234), Lamps{Green: true}},
		{LightDegraded, 0, Lamps{Amber: true}},
		{LightOutOfService, ms(777), Lamps{Red: true}},
		{LightStaffCalled, 0, Lamps{Amber: true}},
		{LightStaffCalled, ms(249), Lamps{Amber: true}},
		{LightStaffCalled, ms(250), Lamps{}},
		{LightStaffCalled, ms(499), Lamps{}},
		{LightStaffCalled, ms(500), Lamps{Amber: true}},
		{LightStaffCalled, ms(10_750), Lamps{}},
	}
	for _, c := range cases {
		if got := Pattern(c.s, c.at, DefaultBlink); got != c.want {
			t.Errorf("Pattern(%v, %v) = %+v; want %+v", c.s, c.at, got, c.want)
		}
	}
}

func TestStatusLight(t *testing.T) {
	clk := clock.NewFake(t0)
	st := stepper{t, clk}
	g, a, r := &gpiotest.Pin{N: "green"}, &gpiotest.Pin{N: "amber"}, &gpiotest.Pin{N: "red"}
	l := NewStatusLight(g, a, r, LightConfig{}, logs.Logger().With("test", t.Name()), clk)
	lamps := func() Lamps { return Lamps{bool(g.Read()), bool(a.Read()), bool(r.Read())} }
	check := func(when string, want Lamps) {
		t.Helper()
		if got := lamps(); got != want {
			t.Errorf("%s: lamps = %+v; want %+v", when, got, want)
		}
	}
	start(t, l.Run)
	for _, c := range []struct {
		s    LightState
		want Lamps
	}{{LightOK, Lamps{Green: true}}, {LightDegraded, Lamps{Amber: true}}, {LightOutOfService, Lamps{Red: true}}} {
		if err := l.Set(c.s); err != nil {
			t.Fatal(err)
		}
		check(c.s.String(), c.want)
	}
	l.Set(LightStaffCalled)
	check("staff called at 0", Lamps{Amber: true})
	want := []Lamps{{}, {Amber: true}, {}, {Amber: true}}
	for i, w := range want {
		st.advance(250 * time.Millisecond)
		check(fmt.Sprintf("staff called at %d ms", 250*(i+1)), w)
	}
	l.Set(LightOK)
	check("ok after blinking", Lamps{Green: true})
	if err := l.Halt(); err != nil {
		t.Fatal(err)
	}
	check("halted", Lamps{})

	// Active-low boards: a lit lamp is a low line.
	g2 := &gpiotest.Pin{N: "green"}
	l2 := NewStatusLight(g2, nil, nil, LightConfig{ActiveLow: true}, logs.Logger(), clk)
	l2.Set(LightOK)
	if g2.Read() != gpio.Low {
		t.Errorf("active-low green lit = %v; want Low", g2.Read())
	}
	l2.Halt()
	if g2.Read() != gpio.High {
		t.Errorf("active-low green off = %v; want High", g2.Read())
	}
}

func TestTamperSwitch(t *testing.T) {
	clk := clock.NewFake(t0)
	st := stepper{t, clk}
	p := &gpiotest.Pin{N: "GPIO27"}
	reg := health.NewRegistry(clk.Now)
	sw := NewTamperSwitch(p, InputConfig{Poll: 10 * time.Millisecond, Debounce: 50 * time.Millisecond}, reg,
		logs.Logger().With("test", t.Name()), clk)
	start(t, sw.Run)
	st.sleeping()
	wantHealth := func(state health.State, code string) {
		t.Helper()
		if s, _ := reg.Get("cabinet"); s.State != state || s.Code != code {
			t.Errorf("health = %s/%s; want %s/%s", s.State, s.Code, state, code)
		}
	}
	wantHealth(health.OK, CodeCabinetClosed)
	setLevel(p, gpio.High) // door opens
	for i := 0; i < 6; i++ {
		st.advance(10 * time.Millisecond)
	}
	if ev := nextEvent(t, sw.Events()); ev != (TamperChanged{Open: true}) {
		t.Fatalf("event %#v; want TamperChanged{Open: true}", ev)
	}
	wantHealth(health.Degraded, CodeCabinetOpen)
	setLevel(p, gpio.Low)
	for i := 0; i < 6; i++ {
		st.advance(10 * time.Millisecond)
	}
	if ev := nextEvent(t, sw.Events()); ev != (TamperChanged{Open: false}) {
		t.Fatalf("event %#v; want TamperChanged{Open: false}", ev)
	}
	wantHealth(health.OK, CodeCabinetClosed)
}

func TestOpenWithoutGPIO(t *testing.T) {
	if _, err := os.Stat("/dev/gpiochip0"); err == nil {
		t.Skip("this machine has GPIO chips")
	}
	_, err := Open("GPIO17")
	if !errors.Is(err, ErrNoGPIO) {
		t.Fatalf("Open(GPIO17) = %v; want ErrNoGPIO", err)
	}
	logs.Logger().Info("no GPIO on this machine, as expected", "err", err)
}
