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

// WritePNG encodes the latest frame, what a screen shows or would show: the headless
// terminal's screen (/api/screen.png) and the tests' view of it. ok is false when nothing
// was drawn yet.
func (f *Frames) WritePNG(w io.Writer) (ok bool, err error) {
	img, _, seq := f.Latest()
	if seq == 0 {
		return false, nil
	}
	return true, (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
}
