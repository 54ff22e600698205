package ui

import (
	"image"
	"sync"
)

// PointerKind is the phase of a raw pointer (touch or mouse) input.
type PointerKind int

const (
	PointerDown PointerKind = iota
	PointerMove
	PointerUp
)

// Pointer is raw input from a presenter, in frame pixels (the presenter scales window
// coordinates to the frame it shows).
type Pointer struct {
	Kind PointerKind
	X, Y int
}

// EventKind is what a gesture meant.
type EventKind int

const (
	// Tap: a press and release on the same target without moving far; ID is the target's.
	Tap EventKind = iota
	// Scroll: a drag on a List; ID is the list's, Offset the new scroll offset in pixels.
	Scroll
	// Touch: any press anywhere, with or without a target (wakes the kiosk, resets idle timers).
	Touch
)

// Event is input with its meaning, ready for the application.
type Event struct {
	Kind   EventKind
	ID     string
	Offset int
}

// Target is one touch target in a Layout.
type Target struct {
	ID   string
	Rect image.Rectangle
	// List is set for a scrolling list: dragging inside Rect scrolls it.
	List bool
	// Offset and Max are a list's clamped scroll offset and its largest offset.
	Offset, Max int
}

// Layout is what the renderer drew where: the touch targets of one frame, topmost last,
// and what it could not draw as asked.
type Layout struct {
	Size    image.Point
	Targets []Target
	// Faults are the frame's defects: content cut off, text shortened, targets too small
	// (see Err). A frame with faults is still drawn as well as it can be.
	Faults []Fault
}

// Hit returns the topmost target containing p.
func (l *Layout) Hit(p image.Point) (Target, bool) {
	if l == nil {
		return Target{}, false
	}
	for i := len(l.Targets) - 1; i >= 0; i-- {
		if p.In(l.Targets[i].Rect) {
			return l.Targets[i], true
		}
	}
	return Target{}, false
}

// Frames hands finished frames from the application to a presenter; only the latest frame
// matters, so Put never blocks and never queues.
type Frames struct {
	mu     sync.Mutex
	img    *image.RGBA
	layout *Layout
	seq    uint64
	wake   []func()
}

// Put publishes a new frame and its layout and wakes the presenters.
func (f *Frames) Put(img *image.RGBA, l *Layout) {
	f.mu.Lock()
	f.img, f.layout = img, l
	f.seq++
	wake := append([]func(){}, f.wake...)
	f.mu.Unlock()
	for _, w := range wake {
		w()
	}
}

// Latest returns the newest frame, its layout and its sequence number (0: no frame yet).
func (f *Frames) Latest() (*image.RGBA, *Layout, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.img, f.layout, f.seq
}

// OnPut registers fn to be called after every Put (a presenter's wake-up, e.g.
// glfw.PostEmptyEvent); fn must not block.
func (f *Frames) OnPut(fn func()) {
	f.mu.Lock()
	f.wake = append(f.wake, fn)
	f.mu.Unlock()
}
