// Package ui draws kiosk screens from plain view models into images and turns pointer input
// into widget events; it knows nothing of devices, the queue or the kiosk's flows.
//
// The contract is small: an application builds a [Screen] (already-translated text, widgets
// with IDs), a [Renderer] draws it into an *image.RGBA at the presenter's size and returns a
// [Layout] of touch targets and of anything that did not fit ([Layout.Err]), the
// application puts the frame into [Frames], and a presenter (ui/glfw for the real window)
// shows the latest frame and hands raw [Pointer] input back, which [Gestures] turns into
// [Event]s by hit-testing the Layout. Without a display there is no presenter:
// [Frames.WritePNG] serves the screen (/api/screen.png, tests).
package ui
