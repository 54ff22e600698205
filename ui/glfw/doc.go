// Package glfwui is the kiosk's screen: a GLFW window that shows the latest [ui.Frames] frame
// as one OpenGL 2.1 texture, or with XPutImage where OpenGL would run in software (see
// [Config.Present]), and reports mouse and touch input as [ui.Pointer] events.
//
// # Threading
//
// GLFW may only be called from the process's main OS thread, so [Window.Run] must run there.
// The program (cmd/kioskd) locks the main goroutine to the main thread in an init function and
// calls Run from main itself, doing all other work on other goroutines:
//
//	func init() { runtime.LockOSThread() }
//
//	func main() {
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//		defer stop()
//		win := glfwui.New(glfwui.Config{Fullscreen: true, HideCursor: true, Title: "Hallkiosk"})
//		var frames ui.Frames
//		go func() {
//			<-win.Ready() // in full screen without Width/Height, Size is the monitor's mode from now on
//			img := image.NewRGBA(image.Rectangle{Max: win.Size()})
//			// ... draw the screen into img ...
//			frames.Put(img, layout)
//		}()
//		err := win.Run(ctx, &frames, func(p ui.Pointer) { gestures <- p }) // input must not block
//		if errors.Is(err, glfwui.ErrNoDisplay) {
//			// run headless and serve /api/screen.png (ui.Frames.WritePNG)
//		}
//	}
//
// Everything Run calls back (input, and the wake-up it registers with [ui.Frames.OnPut]) is
// safe: input is called on the main thread between frames, and Put only posts an empty event
// to the window's queue, from any goroutine.
//
// # Drawing
//
// Run redraws only when the frame sequence changes, when the window system asks (expose), or
// when [Window.Screenshot] asks; otherwise it sleeps in glfwWaitEventsTimeout, which an
// empty event posted by Put, Screenshot or the end of Run's context interrupts, so an idle
// window costs next to no CPU. With OpenGL a frame is uploaded with glTexImage2D the first time
// (and when its size changes) and glTexSubImage2D after, sampled with GL_NEAREST onto one quad
// that fills the window. With x11 the window has no GL context: the frame is converted once
// into the X server's pixel format and put with XPutImage, and XSync waits until the server
// has it. Either way a frame the size of the window is shown pixel for pixel, and any other
// size is stretched (nearest pixel).
//
// # Input
//
// The left mouse button is the finger: press, moves while pressed, and release become
// PointerDown, PointerMove and PointerUp. X11 delivers touch screens as pointer events, so a
// touch panel needs nothing more. Coordinates are in frame pixels: window coordinates are
// scaled by the ratio of the shown frame's size to the window's size.
//
// # Testing
//
// The end-to-end test starts its own Xvfb and drives the window with xdotool and xwd; it skips
// when they are missing (apt: xvfb xauth libgl1-mesa-dri xdotool x11-apps imagemagick). The test
// binary gets the main thread the same way kioskd does: TestMain serves a queue of functions on
// the locked main goroutine while m.Run runs on another.
package glfwui
