package ui

import (
	"context"
	"image"
	"image/png"
	"io"
)

// Presenter shows frames and reports pointer input.
type Presenter interface {
	// Size is the frame size the presenter wants, in pixels.
	Size() image.Point
	// Run shows the latest frame of f until ctx ends, redrawing only when a new frame is put,
	// and calls input for every pointer event (on the presenter's goroutine; input must not
	// block). The GLFW presenter must be run on the main OS thread.
	Run(ctx context.Context, f *Frames, input func(Pointer)) error
}

// Headless is the presenter without a display: frames are kept for /api/screen.png and tests,
// input comes only from Inject.
type Headless struct {
	W, H   int
	frames *Frames
	input  func(Pointer)
	ready  chan struct{}
}

// NewHeadless returns a headless presenter of w x h pixels.
func NewHeadless(w, h int) *Headless {
	return &Headless{W: w, H: h, ready: make(chan struct{})}
}

// Size implements Presenter.
func (h *Headless) Size() image.Point { return image.Pt(h.W, h.H) }

// Run implements Presenter.
func (h *Headless) Run(ctx context.Context, f *Frames, input func(Pointer)) error {
	h.frames, h.input = f, input
	close(h.ready)
	<-ctx.Done()
	return nil
}

// Inject delivers a pointer event as if it came from a screen; it is dropped before Run.
func (h *Headless) Inject(p Pointer) {
	select {
	case <-h.ready:
		h.input(p)
	default:
	}
}

// WritePNG writes the latest frame; ok is false when nothing was drawn yet.
func (h *Headless) WritePNG(w io.Writer) (ok bool, err error) {
	select {
	case <-h.ready:
	default:
		return false, nil
	}
	img, _, seq := h.frames.Latest()
	if seq == 0 {
		return false, nil
	}
	return true, (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
}
