package glfwui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/ui"
)

func TestToFrame(t *testing.T) {
	win, half := image.Pt(1280, 800), image.Pt(640, 400)
	tests := []struct {
		x, y       float64
		win, frame image.Point
		want       image.Point
	}{
		{0, 0, win, win, image.Pt(0, 0)},
		{300.5, 200.9, win, win, image.Pt(300, 200)},
		{1279.99, 799.99, win, win, image.Pt(1279, 799)},
		{201, 101, win, half, image.Pt(100, 50)},
		{-5, 900, win, win, image.Pt(0, 799)},           // a drag that left the window is clamped
		{100, 100, image.Pt(0, 0), win, image.Pt(0, 0)}, // no window size yet
	}
	for _, tt := range tests {
		if got := toFrame(tt.x, tt.y, tt.win, tt.frame); got != tt.want {
			t.Errorf("toFrame(%v, %v, %v, %v) = %v; want %v", tt.x, tt.y, tt.win, tt.frame, got, tt.want)
		}
	}
}

func TestRunNoDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	w := New(Config{Width: 64, Height: 64})
	err := <-runOnMain(context.Background(), w, new(ui.Frames), nil)
	if !errors.Is(err, ErrNoDisplay) || err.Error() != "glfwui: no display (DISPLAY unset)" {
		t.Fatalf("Run without DISPLAY = %v; want %v", err, ErrNoDisplay)
	}
	if _, err := w.Screenshot(); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Screenshot after Run = %v; want %v", err, ErrNotRunning)
	}
}

func TestRunBadDisplay(t *testing.T) {
	// A display nobody serves: GLFW's init fails, Run must say so instead of panicking, and
	// leave GLFW ready to be initialised again by the next test.
	t.Setenv("DISPLAY", ":4093")
	w := New(Config{Width: 64, Height: 64})
	select {
	case err := <-runOnMain(context.Background(), w, new(ui.Frames), nil):
		if err == nil || !strings.Contains(err.Error(), `glfwui: init GLFW on display ":4093"`) {
			t.Fatalf("Run on a dead display = %v; want an init error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run on a dead display did not return")
	}
}

// testFrame is a w x h frame of four distinct quadrants (no channel is shared, so a swapped
// channel shows) with one-pixel markers in the corners and a black square at mark.
func testFrame(w, h int, mark image.Point, flip bool) *image.RGBA {
	quad := [4]color.RGBA{{220, 30, 40, 255}, {30, 200, 60, 255}, {40, 50, 210, 255}, {250, 240, 230, 255}}
	if flip {
		quad = [4]color.RGBA{quad[3], quad[2], quad[1], quad[0]}
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			q := 0
			if x >= w/2 {
				q++
			}
			if y >= h/2 {
				q += 2
			}
			img.SetRGBA(x, y, quad[q])
		}
	}
	for y := mark.Y; y < mark.Y+20; y++ {
		for x := mark.X; x < mark.X+20; x++ {
			img.SetRGBA(x, y, color.RGBA{0, 0, 0, 255})
		}
	}
	img.SetRGBA(0, 0, color.RGBA{0, 255, 255, 255})
	img.SetRGBA(w-1, 0, color.RGBA{255, 0, 255, 255})
	img.SetRGBA(0, h-1, color.RGBA{255, 255, 0, 255})
	img.SetRGBA(w-1, h-1, color.RGBA{1, 2, 3, 255})
	return img
}

// diff compares a screen of scale times the frame's size with the frame, pixel for pixel.
func diff(screen image.Image, frame *image.RGBA, scale int) error {
	fb := frame.Bounds()
	if got, want := screen.Bounds().Size(), fb.Size().Mul(scale); got != want {
		return fmt.Errorf("screen is %v; want %v", got, want)
	}
	sb := screen.Bounds().Min
	bad, first := 0, ""
	for y := 0; y < fb.Dy()*scale; y++ {
		for x := 0; x < fb.Dx()*scale; x++ {
			r, g, b, _ := screen.At(sb.X+x, sb.Y+y).RGBA()
			got := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}
			if want := frame.RGBAAt(x/scale, y/scale); got != want {
				if bad == 0 {
					first = fmt.Sprintf("first at (%d,%d): %v; want %v", x, y, got, want)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d pixels differ, %s", bad, first)
	}
	return nil
}

// waitScreen polls xwd until the screen shows frame or the deadline passes: the X server may
// draw our swap a moment after SwapBuffers returns.
func waitScreen(t *testing.T, display string, frame *image.RGBA, scale int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		img, err := xwdShot(t, display)
		if err == nil {
			err = diff(img, frame, scale)
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen does not show the frame: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openWindow runs w on the main thread until the test ends.
func openWindow(t testing.TB, w *Window, f *ui.Frames, input func(ui.Pointer)) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	res := runOnMain(ctx, w, f, input)
	var err error
	stopped := false
	stop = func() error {
		if stopped {
			return err
		}
		stopped = true
		cancel()
		select {
		case err = <-res:
		case <-time.After(20 * time.Second):
			err = errors.New("Run did not return 20s after cancel")
		}
		return err
	}
	t.Cleanup(func() { stop() })
	select {
	case <-w.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("window not ready after 20s")
	}
	select {
	case err := <-res:
		t.Fatalf("Run returned early: %v", err)
	default:
	}
	return stop
}

func put(t *testing.T, w *Window, f *ui.Frames, img *image.RGBA) {
	t.Helper()
	f.Put(img, nil)
	_, _, seq := f.Latest()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.WaitPresented(ctx, seq); err != nil {
		t.Fatalf("frame %d not presented: %v", seq, err)
	}
}

// pointers collects input events for a test; input must not block, so it drops on overflow.
type pointers chan ui.Pointer

func (p pointers) input(e ui.Pointer) {
	select {
	case p <- e:
	default:
	}
}

func (p pointers) expect(t *testing.T, kind ui.PointerKind, at image.Point) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-p:
			if e.Kind == ui.PointerMove && kind != ui.PointerMove {
				continue // xdotool's warp may be reported as a move while pressed
			}
			if e.Kind != kind || abs(e.X-at.X) > 1 || abs(e.Y-at.Y) > 1 {
				t.Fatalf("input %+v; want kind %d at %v", e, kind, at)
			}
			return
		case <-deadline:
			t.Fatalf("no input of kind %d at %v within 10s", kind, at)
		}
	}
}

// cpuTime is the user and system CPU time of the test process so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func abs(x int) int { return max(x, -x) }

// presents are the painters every window test runs with: OpenGL and XPutImage.
var presents = []string{"gl", "x11"}

// eachPresent runs test once per painter, each with its own Xvfb.
func eachPresent(t *testing.T, test func(t *testing.T, present string)) {
	for _, p := range presents {
		t.Run(p, func(t *testing.T) { test(t, p) })
	}
}

// TestWindowFullscreen is the kiosk's set-up: full screen, frame size from the monitor.
func TestWindowFullscreen(t *testing.T) { eachPresent(t, testWindowFullscreen) }

func testWindowFullscreen(t *testing.T, present string) {
	needTools(t, "Xvfb", "xwd", "convert", "xdotool")
	display := startXvfb(t, 1280, 800)

	w := New(Config{Fullscreen: true, HideCursor: true, Title: "hallkiosk test", Present: present})
	w.idleWake = 0.5 // so that the idle check below sees wake-ups with nothing to draw
	var f ui.Frames
	in := make(pointers, 64)
	stop := openWindow(t, w, &f, in.input)
	if got, want := w.Size(), image.Pt(1280, 800); got != want {
		t.Fatalf("Size() in full screen = %v; want %v (the monitor's mode)", got, want)
	}
	if !w.cursorHidden.Load() {
		t.Error("cursor shown with HideCursor set")
	}
	if got := w.Present(); !strings.HasPrefix(got, present+": configured") {
		t.Errorf("Present() = %q; want %s, configured", got, present)
	}

	// (a) the first frame lands pixel for pixel.
	one := testFrame(1280, 800, image.Pt(100, 100), false)
	put(t, w, &f, one)
	waitScreen(t, display, one, 1)
	shot, err := w.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := diff(shot, one, 1); err != nil {
		t.Errorf("Screenshot (%s): %v", present, err)
	}

	// Idle: nothing new, nothing drawn, (almost) no CPU.
	draws, cpu0 := w.draws.Load(), cpuTime(t)
	time.Sleep(1100 * time.Millisecond) // two WaitEventsTimeout periods; this observes absence, it waits for nothing
	if d := w.draws.Load() - draws; d != 0 {
		t.Errorf("%d redraws while idle; want 0", d)
	}
	cpu := cpuTime(t) - cpu0
	t.Logf("CPU while idle for 1.1s: %v", cpu)
	if cpu > 200*time.Millisecond {
		t.Errorf("CPU while idle for 1.1s = %v; want about 0", cpu)
	}

	// (b) a new frame replaces it.
	two := testFrame(1280, 800, image.Pt(900, 600), true)
	put(t, w, &f, two)
	waitScreen(t, display, two, 1)

	// (c) a click and a drag come back in frame pixels.
	xdotool(t, "mousemove", "300", "200", "click", "1")
	in.expect(t, ui.PointerDown, image.Pt(300, 200))
	in.expect(t, ui.PointerUp, image.Pt(300, 200))
	xdotool(t, "mousemove", "10", "20", "mousedown", "1", "mousemove", "500", "400", "mouseup", "1")
	in.expect(t, ui.PointerDown, image.Pt(10, 20))
	in.expect(t, ui.PointerMove, image.Pt(500, 400))
	in.expect(t, ui.PointerUp, image.Pt(500, 400))

	// (d) cancel ends Run cleanly.
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel = %v; want nil", err)
	}
	if _, err := w.Screenshot(); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Screenshot after Run = %v; want %v", err, ErrNotRunning)
	}
	f.Put(one, nil) // the wake-up Run registered must now be a no-op, not a GLFW panic
}

// TestWindowScaled shows a half-size frame in a window: every frame pixel covers 2x2 screen
// pixels, and input is scaled back to frame pixels.
func TestWindowScaled(t *testing.T) { eachPresent(t, testWindowScaled) }

func testWindowScaled(t *testing.T, present string) {
	needTools(t, "Xvfb", "xwd", "convert", "xdotool")
	display := startXvfb(t, 1280, 800)

	w := New(Config{Fullscreen: true, Width: 640, Height: 400, Present: present})
	var f ui.Frames
	in := make(pointers, 64)
	stop := openWindow(t, w, &f, in.input)
	if got, want := w.Size(), image.Pt(640, 400); got != want {
		t.Fatalf("Size() = %v; want %v (the configured size)", got, want)
	}
	// A sub-image exercises GL_UNPACK_ROW_LENGTH: its stride is wider than its rows.
	big := testFrame(700, 450, image.Pt(300, 200), false)
	frame := big.SubImage(image.Rect(30, 20, 670, 420)).(*image.RGBA)
	put(t, w, &f, frame)
	want := image.NewRGBA(image.Rect(0, 0, 640, 400))
	for y := range 400 {
		for x := range 640 {
			want.SetRGBA(x, y, frame.RGBAAt(30+x, 20+y))
		}
	}
	waitScreen(t, display, want, 2)

	xdotool(t, "mousemove", "201", "101", "click", "1")
	in.expect(t, ui.PointerDown, image.Pt(100, 50))
	in.expect(t, ui.PointerUp, image.Pt(100, 50))
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel = %v; want nil", err)
	}
}

// TestWindowed opens a plain window (development on a desktop).
func TestWindowed(t *testing.T) { eachPresent(t, testWindowed) }

func testWindowed(t *testing.T, present string) {
	needTools(t, "Xvfb", "xwd", "convert")
	display := startXvfb(t, 1280, 800)
	w := New(Config{Width: 1280, Height: 800, Present: present})
	var f ui.Frames
	stop := openWindow(t, w, &f, nil)
	one := testFrame(1280, 800, image.Pt(600, 300), false)
	put(t, w, &f, one)
	waitScreen(t, display, one, 1)
	if w.cursorHidden.Load() {
		t.Error("cursor hidden without HideCursor")
	}
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel = %v; want nil", err)
	}
}

// TestPresentAuto: Xvfb has no GPU (no DRI3, DRI2 or NV-GLX), so auto draws with XPutImage,
// and says why.
func TestPresentAuto(t *testing.T) {
	needTools(t, "Xvfb", "xwd", "convert")
	display := startXvfb(t, 640, 480)
	w := New(Config{Width: 640, Height: 480})
	var f ui.Frames
	stop := openWindow(t, w, &f, nil)
	if got := w.Present(); !strings.HasPrefix(got, "x11: no GPU") {
		t.Errorf("Present() on Xvfb = %q; want x11: no GPU ...", got)
	}
	one := testFrame(640, 480, image.Pt(60, 30), false)
	put(t, w, &f, one)
	waitScreen(t, display, one, 1)
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel = %v; want nil", err)
	}
}

func TestRunBadPresent(t *testing.T) {
	w := New(Config{Width: 64, Height: 64, Present: "vulkan"})
	err := <-runOnMain(context.Background(), w, new(ui.Frames), nil)
	if err == nil || err.Error() != `glfwui: Present "vulkan": use auto, gl or x11` {
		t.Fatalf("Run with Present vulkan = %v; want an error naming the choices", err)
	}
}

// TestX11ScreenshotOffScreen: a window larger than the screen cannot be read back with
// XGetImage (BadMatch). Screenshot must say so; Xlib's default handler would end the process.
func TestX11ScreenshotOffScreen(t *testing.T) {
	needTools(t, "Xvfb")
	startXvfb(t, 640, 480)
	w := New(Config{Width: 800, Height: 600, Present: "x11"})
	var f ui.Frames
	stop := openWindow(t, w, &f, nil)
	put(t, w, &f, testFrame(800, 600, image.Pt(60, 30), false))
	if _, err := w.Screenshot(); err == nil || !strings.Contains(err.Error(), "XGetImage failed") {
		t.Errorf("Screenshot of a window larger than the screen = %v; want the XGetImage error", err)
	}
	put(t, w, &f, testFrame(800, 600, image.Pt(90, 30), true)) // and the window still works
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel = %v; want nil", err)
	}
}

// TestPresentAutoFallsBack: a 16-bit screen has no visual x11 can fill, so auto opens the
// window with OpenGL instead, and says why; x11 asked for by name fails.
func TestPresentAutoFallsBack(t *testing.T) {
	needTools(t, "Xvfb")
	startXvfbDepth(t, 640, 480, 16)
	w := New(Config{Width: 640, Height: 480})
	var f ui.Frames
	stop := openWindow(t, w, &f, nil)
	if got := w.Present(); !strings.HasPrefix(got, "gl: x11 failed (glfwui: the window's visual") {
		t.Errorf("Present() on a 16-bit screen = %q; want gl after x11 failed", got)
	}
	put(t, w, &f, testFrame(640, 480, image.Pt(60, 30), false))
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel = %v; want nil", err)
	}

	x := New(Config{Width: 640, Height: 480, Present: "x11"})
	err := <-runOnMain(context.Background(), x, new(ui.Frames), nil)
	if err == nil || !strings.Contains(err.Error(), "is not 24-bit true colour") {
		t.Errorf("Run with x11 on a 16-bit screen = %v; want the visual refused", err)
	}
}
