package glfwui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/go-gl/gl/v2.1/gl"
	"github.com/go-gl/glfw/v3.3/glfw"
	"github.com/hallkiosk/hallkiosk/ui"
)

var (
	// ErrNoDisplay is returned by Run when there is no X display to open; the caller should
	// run headless.
	ErrNoDisplay = errors.New("glfwui: no display (DISPLAY unset)")
	// ErrClosed is returned by Run when the window system closed the window (a window
	// manager's close button or Alt-F4); a kiosk in full screen without a window manager
	// never sees it.
	ErrClosed = errors.New("glfwui: window closed")
	// ErrNotRunning is returned by Screenshot when Run is not (or no longer) running.
	ErrNotRunning = errors.New("glfwui: not running")
)

// Config says which window to open.
type Config struct {
	// Fullscreen opens the window full screen on monitor Monitor, in that monitor's current
	// video mode (no mode switch). Otherwise the window is Width x Height at the window
	// system's chosen position.
	Fullscreen bool
	// Width and Height are the frame size in pixels. Both are required in a window; in full
	// screen they may be zero, and the frame size is the monitor's mode (see Window.Size).
	// A frame of another size than the window is stretched to fill it.
	Width, Height int
	// HideCursor hides the mouse pointer over the window (a touch kiosk).
	HideCursor bool
	// Title is the window title; empty means "Hallkiosk".
	Title string
	// Monitor is the index of the monitor for full screen in GLFW's monitor list; 0 is the
	// primary monitor.
	Monitor int
	// Present is how frames reach the window: "gl" (an OpenGL 2.1 texture), "x11"
	// (XPutImage, no GL context), or "auto" or "" (gl when the X server drives a GPU, else
	// x11: see Window.Present).
	Present string
}

// Window is the GLFW presenter. Make it with New; Run it once, on the main OS thread.
type Window struct {
	cfg Config

	size    atomic.Pointer[image.Point] // frame size once Run knows it
	ready   chan struct{}               // closed when the window is up and Size is final
	done    chan struct{}               // closed when Run returns
	started atomic.Bool

	wakeMu sync.Mutex
	live   bool // GLFW is initialised and a window exists: PostEmptyEvent is allowed

	shots chan chan shot // Screenshot requests for the main thread
	draws atomic.Int64   // frames drawn, for tests of idleness
	// cursorHidden is the window's cursor mode as GLFW reports it, for tests of HideCursor.
	cursorHidden atomic.Bool

	// idleWake is the longest the main thread sleeps in glfwWaitEventsTimeout. Every
	// reason to draw (a new frame, a screenshot, ctx ending, the window system's events)
	// posts an event, so this is only a safety net; at 0.5 s the wake-ups were a third of
	// an idle kiosk's CPU (0.40-0.43 % of a core against 0.23-0.30 % at 10 s).
	idleWake float64 // seconds

	// present is the painter Run chose ("gl" or "x11") and why, once the window is open.
	present atomic.Pointer[string]

	presMu   sync.Mutex
	presSeq  uint64        // sequence number of the frame on screen
	presWake chan struct{} // closed and replaced whenever presSeq changes
}

var _ ui.Presenter = (*Window)(nil)

type shot struct {
	img *image.RGBA
	err error
}

// New returns a presenter for cfg; it opens nothing until Run.
func New(cfg Config) *Window {
	if cfg.Title == "" {
		cfg.Title = "Hallkiosk"
	}
	w := &Window{
		cfg:      cfg,
		ready:    make(chan struct{}),
		done:     make(chan struct{}),
		shots:    make(chan chan shot, 4),
		presWake: make(chan struct{}),
		idleWake: 10,
	}
	if cfg.Width > 0 && cfg.Height > 0 {
		p := image.Pt(cfg.Width, cfg.Height)
		w.size.Store(&p)
	}
	return w
}

// String names the presenter for logs.
func (w *Window) String() string {
	mode := "windowed"
	if w.cfg.Fullscreen {
		mode = fmt.Sprintf("fullscreen monitor %d", w.cfg.Monitor)
	}
	s := fmt.Sprintf("glfw %s %v", mode, w.Size())
	if p := w.Present(); p != "" {
		s += ", " + p
	}
	return s
}

// Present says how frames reach the window and why, e.g. "x11: no GPU (...)"; "" until the
// window is open. With "auto", a window on an X server without DRI3, DRI2 or NVIDIA's GLX
// (Xvfb; Xorg on fbdev or vesa) gets x11: its OpenGL could only be Mesa's software
// renderer, which costs about 65 MB of memory and two more copies of the frame to show one
// image. Anywhere else it gets gl.
func (w *Window) Present() string {
	if p := w.present.Load(); p != nil {
		return *p
	}
	return ""
}

// Size implements ui.Presenter: the configured Width x Height, or, in full screen without
// them, the monitor's video mode. The latter is only known once Run has opened the window:
// until Ready is closed Size returns the zero Point, so render after Ready.
func (w *Window) Size() image.Point {
	if p := w.size.Load(); p != nil {
		return *p
	}
	return image.Point{}
}

// Ready is closed once Run has opened the window (Size is final from then on) or has failed.
func (w *Window) Ready() <-chan struct{} { return w.ready }

// Presented returns the sequence number (as from ui.Frames.Latest) of the frame on screen, 0
// before the first.
func (w *Window) Presented() uint64 {
	w.presMu.Lock()
	defer w.presMu.Unlock()
	return w.presSeq
}

// WaitPresented waits until frame seq or a later one has been swapped onto the screen, Run
// has ended (ErrNotRunning), or ctx ends.
func (w *Window) WaitPresented(ctx context.Context, seq uint64) error {
	for {
		w.presMu.Lock()
		cur, wake := w.presSeq, w.presWake
		w.presMu.Unlock()
		if cur >= seq {
			return nil
		}
		select {
		case <-wake:
		case <-w.done:
			return ErrNotRunning
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Screenshot reads back what the window shows (the latest frame, drawn at the window's
// framebuffer size): with glReadPixels, or with XGetImage from the X server. It waits for
// Run's main thread; it returns ErrNotRunning when Run is not running.
func (w *Window) Screenshot() (*image.RGBA, error) {
	if !w.started.Load() {
		return nil, ErrNotRunning
	}
	reply := make(chan shot, 1)
	select {
	case w.shots <- reply:
	case <-w.done:
		return nil, ErrNotRunning
	}
	w.wake()
	select {
	case s := <-reply:
		return s.img, s.err
	case <-w.done:
		// Run may have answered just before returning.
		select {
		case s := <-reply:
			return s.img, s.err
		default:
			return nil, ErrNotRunning
		}
	}
}

// wake makes the main thread's WaitEventsTimeout return; it is a no-op unless a window exists,
// because GLFW panics on calls before Init or after Terminate.
func (w *Window) wake() {
	w.wakeMu.Lock()
	defer w.wakeMu.Unlock()
	if !w.live {
		return
	}
	defer func() {
		// go-gl/glfw reports errors through one global channel and panics on the ones it did not
		// expect; a stray error of the main thread must not crash whoever called Frames.Put.
		_ = recover()
	}()
	glfw.PostEmptyEvent()
}

func (w *Window) setLive(v bool) {
	w.wakeMu.Lock()
	w.live = v
	w.wakeMu.Unlock()
}

// Run implements ui.Presenter. It must be called on the main OS thread (see the package
// documentation), and only once per Window. It returns nil when ctx ends, ErrNoDisplay without
// a display, ErrClosed when the window system closed the window, or an error saying which
// step of opening the window failed.
func (w *Window) Run(ctx context.Context, f *ui.Frames, input func(ui.Pointer)) (err error) {
	if !w.started.CompareAndSwap(false, true) {
		return errors.New("glfwui: Run called twice")
	}
	defer close(w.done)
	readyOnce := sync.OnceFunc(func() { close(w.ready) })
	defer readyOnce()

	if !w.cfg.Fullscreen && (w.cfg.Width <= 0 || w.cfg.Height <= 0) {
		return fmt.Errorf("glfwui: a window needs Width and Height (got %dx%d)", w.cfg.Width, w.cfg.Height)
	}
	if (w.cfg.Width > 0) != (w.cfg.Height > 0) {
		return fmt.Errorf("glfwui: set both Width and Height or neither (got %dx%d)", w.cfg.Width, w.cfg.Height)
	}
	switch w.cfg.Present {
	case "", "auto", "gl", "x11":
	default:
		return fmt.Errorf("glfwui: Present %q: use auto, gl or x11", w.cfg.Present)
	}
	display := os.Getenv("DISPLAY")
	if display == "" {
		return ErrNoDisplay
	}

	// The caller has locked the main goroutine already; this keeps a careless caller on one
	// thread at least.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	win, p, err := w.open(display)
	if err != nil {
		return err
	}
	defer func() {
		w.setLive(false)
		p.close()
		_ = catch(win.Destroy)
		glfw.Terminate()
	}()
	w.setLive(true)
	readyOnce()

	f.OnPut(w.wake)
	stopWake := context.AfterFunc(ctx, w.wake)
	defer stopWake()
	in := &pointer{input: input}
	in.frame = func() image.Point {
		if s := p.frameSize(); s != (image.Point{}) {
			return s
		}
		if s := w.Size(); s != (image.Point{}) {
			return s
		}
		x, y := win.GetSize()
		return image.Pt(x, y)
	}
	win.SetMouseButtonCallback(in.button)
	win.SetCursorPosCallback(in.move)
	dirty := true
	win.SetRefreshCallback(func(*glfw.Window) { dirty = true })
	win.SetFramebufferSizeCallback(func(*glfw.Window, int, int) { dirty = true })

	var shown uint64
	for {
		if ctx.Err() != nil {
			return nil
		}
		if win.ShouldClose() {
			return ErrClosed
		}
		var reqs []chan shot
	drain:
		for {
			select {
			case r := <-w.shots:
				reqs = append(reqs, r)
			default:
				break drain
			}
		}
		img, _, seq := f.Latest()
		if seq != shown || dirty || len(reqs) > 0 {
			if seq != shown && img != nil {
				p.upload(img)
			}
			fbw, fbh := win.GetFramebufferSize()
			p.draw(fbw, fbh)
			w.draws.Add(1)
			for _, r := range reqs {
				img, err := p.read(fbw, fbh)
				r <- shot{img: img, err: err}
			}
			p.swap()
			if seq != shown {
				shown = seq
				w.presented(seq)
			}
			dirty = false
		}
		glfw.WaitEventsTimeout(w.idleWake)
	}
}

// open initialises GLFW and opens the window with its painter: a current GL 2.1 context and
// a texture, or an X11 image. On error nothing is left initialised.
func (w *Window) open(display string) (win *glfw.Window, p painter, err error) {
	// With an unreachable display go-gl/glfw's Init logs the X11 error and returns nil, and
	// the next call panics with NotInitialized; catch turns that into an error.
	if err := catch(func() {
		if e := glfw.Init(); e != nil {
			panic(e)
		}
		glfw.GetMonitors()
	}); err != nil {
		return nil, nil, fmt.Errorf("glfwui: init GLFW on display %q: %w", display, err)
	}
	defer func() {
		if err != nil {
			if win != nil {
				_ = catch(win.Destroy)
			}
			glfw.Terminate()
		}
	}()

	var mon *glfw.Monitor
	var mode *glfw.VidMode
	if w.cfg.Fullscreen {
		mons := glfw.GetMonitors()
		if w.cfg.Monitor < 0 || w.cfg.Monitor >= len(mons) {
			return nil, nil, fmt.Errorf("glfwui: monitor %d not found (display %q has %d)", w.cfg.Monitor, display, len(mons))
		}
		mon = mons[w.cfg.Monitor]
		mode = mon.GetVideoMode()
		if mode == nil {
			return nil, nil, fmt.Errorf("glfwui: monitor %d (%s) has no video mode", w.cfg.Monitor, mon.GetName())
		}
	}

	api, why := w.cfg.Present, "configured"
	if api == "" || api == "auto" {
		if ext := gpuExtension(); ext != "" {
			api, why = "gl", "the X server drives a GPU ("+ext+")"
		} else {
			api, why = "x11", "no GPU (the X server has no DRI3, DRI2 or NV-GLX): OpenGL would be Mesa's software renderer"
		}
	}
	if api == "x11" {
		win, p, err = w.openX11(mon, mode)
		if err == nil {
			w.setPresent(api, why)
		}
		if err == nil || w.cfg.Present == "x11" {
			return win, p, err
		}
		// auto: an unusual visual; OpenGL copes with any.
		why = fmt.Sprintf("x11 failed (%v)", err)
		win, api = nil, "gl"
	}
	win, p, err = w.openGL(mon, mode)
	if err == nil {
		w.setPresent(api, why)
	}
	return win, p, err
}

func (w *Window) setPresent(api, why string) {
	s := api + ": " + why
	w.present.Store(&s)
}

// create opens the window with the hints set so far, full screen on mon in its current
// mode (no mode switch) or Width x Height, and applies the cursor option.
func (w *Window) create(mon *glfw.Monitor, mode *glfw.VidMode) (win *glfw.Window, err error) {
	err = catch(func() {
		glfw.WindowHint(glfw.Resizable, glfw.False)
		// A kiosk must stay up when another window takes focus.
		glfw.WindowHint(glfw.AutoIconify, glfw.False)
		width, height := w.cfg.Width, w.cfg.Height
		if mode != nil {
			// Matching the current mode gives a "windowed full screen" window: no mode switch.
			glfw.WindowHint(glfw.RedBits, mode.RedBits)
			glfw.WindowHint(glfw.GreenBits, mode.GreenBits)
			glfw.WindowHint(glfw.BlueBits, mode.BlueBits)
			glfw.WindowHint(glfw.RefreshRate, mode.RefreshRate)
			width, height = mode.Width, mode.Height
		}
		var e error
		win, e = glfw.CreateWindow(width, height, w.cfg.Title, mon, nil)
		if e != nil {
			panic(e)
		}
	})
	if err != nil {
		return nil, err
	}
	if err := catch(func() {
		if w.cfg.HideCursor {
			win.SetInputMode(glfw.CursorMode, glfw.CursorHidden)
		}
		w.cursorHidden.Store(win.GetInputMode(glfw.CursorMode) == glfw.CursorHidden)
	}); err != nil {
		_ = catch(win.Destroy)
		return nil, fmt.Errorf("glfwui: set up window: %w", err)
	}
	if w.Size() == (image.Point{}) {
		x, y := win.GetFramebufferSize()
		p := image.Pt(x, y)
		w.size.Store(&p)
	}
	return win, nil
}

// openX11 opens a window without a GL context and an x11Painter for it.
func (w *Window) openX11(mon *glfw.Monitor, mode *glfw.VidMode) (*glfw.Window, painter, error) {
	if err := catch(func() {
		glfw.DefaultWindowHints()
		glfw.WindowHint(glfw.ClientAPI, glfw.NoAPI)
	}); err != nil {
		return nil, nil, err
	}
	win, err := w.create(mon, mode)
	if err != nil {
		return nil, nil, fmt.Errorf("glfwui: create window: %w", err)
	}
	p, err := newX11Painter(win)
	if err != nil {
		_ = catch(win.Destroy)
		return nil, nil, err
	}
	return win, p, nil
}

// openGL opens a window with a current GL 2.1 context and a glPainter for it.
func (w *Window) openGL(mon *glfw.Monitor, mode *glfw.VidMode) (*glfw.Window, painter, error) {
	if err := catch(func() {
		glfw.DefaultWindowHints()
		glfw.WindowHint(glfw.ContextVersionMajor, 2)
		glfw.WindowHint(glfw.ContextVersionMinor, 1)
		glfw.WindowHint(glfw.DoubleBuffer, glfw.True)
		// One textured quad needs no depth or stencil buffer: at 1080p that is 8 MB saved.
		glfw.WindowHint(glfw.DepthBits, 0)
		glfw.WindowHint(glfw.StencilBits, 0)
	}); err != nil {
		return nil, nil, err
	}
	win, err := w.create(mon, mode)
	if err != nil {
		return nil, nil, fmt.Errorf("glfwui: create GL 2.1 window: %w", err)
	}
	fail := func(err error) (*glfw.Window, painter, error) {
		_ = catch(win.Destroy)
		return nil, nil, err
	}
	if err := catch(func() {
		win.MakeContextCurrent()
		glfw.SwapInterval(1)
	}); err != nil {
		return fail(fmt.Errorf("glfwui: set up GL context: %w", err))
	}
	if err := gl.Init(); err != nil {
		return fail(fmt.Errorf("glfwui: load OpenGL 2.1: %w", err))
	}
	p := &glPainter{win: win}
	if err := p.init(); err != nil {
		return fail(err)
	}
	return win, p, nil
}

func (w *Window) presented(seq uint64) {
	w.presMu.Lock()
	w.presSeq = seq
	close(w.presWake)
	w.presWake = make(chan struct{})
	w.presMu.Unlock()
}

// catch runs fn and returns what it panicked with as an error: go-gl/glfw panics on GLFW
// errors it does not expect, which for us are failures to report, not bugs to crash on.
func catch(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", r)
			}
		}
	}()
	fn()
	return nil
}

// pointer turns left-button presses, drags and releases into ui.Pointer events.
type pointer struct {
	input   func(ui.Pointer)
	frame   func() image.Point // size of the frame on screen
	pressed bool
	x, y    float64 // last cursor position in window coordinates
	havePos bool
}

func (p *pointer) button(win *glfw.Window, b glfw.MouseButton, a glfw.Action, _ glfw.ModifierKey) {
	if b != glfw.MouseButtonLeft || p.input == nil {
		return
	}
	if !p.havePos {
		p.x, p.y = win.GetCursorPos()
		p.havePos = true
	}
	switch {
	case a == glfw.Press && !p.pressed:
		p.pressed = true
		p.emit(win, ui.PointerDown)
	case a == glfw.Release && p.pressed:
		p.pressed = false
		p.emit(win, ui.PointerUp)
	}
}

func (p *pointer) move(win *glfw.Window, x, y float64) {
	p.x, p.y, p.havePos = x, y, true
	if p.pressed && p.input != nil {
		p.emit(win, ui.PointerMove)
	}
}

func (p *pointer) emit(win *glfw.Window, k ui.PointerKind) {
	ww, wh := win.GetSize()
	pt := toFrame(p.x, p.y, image.Pt(ww, wh), p.frame())
	p.input(ui.Pointer{Kind: k, X: pt.X, Y: pt.Y})
}

// toFrame maps a cursor position in window coordinates (GLFW's screen coordinates, which are
// not pixels on scaled displays) to the pixel of a frame stretched over the whole window,
// clamped to the frame because a drag may leave the window.
func toFrame(x, y float64, win, frame image.Point) image.Point {
	if win.X <= 0 || win.Y <= 0 || frame.X <= 0 || frame.Y <= 0 {
		return image.Point{}
	}
	fx := int(math.Floor(x * float64(frame.X) / float64(win.X)))
	fy := int(math.Floor(y * float64(frame.Y) / float64(win.Y)))
	return image.Pt(min(max(fx, 0), frame.X-1), min(max(fy, 0), frame.Y-1))
}
