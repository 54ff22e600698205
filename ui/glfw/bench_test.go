package glfwui

import (
	"context"
	"image"
	"testing"

	"github.com/hallkiosk/hallkiosk/ui"
)

// BenchmarkUpload1080p is the presenter's cost per frame: from Frames.Put of a 1920x1080 frame
// to that frame swapped onto the screen (wake-up, glTexSubImage2D, one quad, SwapBuffers) on
// Xvfb with Mesa's llvmpipe. Compare with BenchmarkCopyBaseline, one memory copy of the frame.
func BenchmarkUpload1080p(b *testing.B) {
	needTools(b, "Xvfb")
	startXvfb(b, 1920, 1080)
	w := New(Config{Fullscreen: true})
	var f ui.Frames
	stop := openWindow(b, w, &f, nil)
	if got := w.Size(); got != image.Pt(1920, 1080) {
		b.Fatalf("Size() = %v; want 1920x1080", got)
	}
	frames := [2]*image.RGBA{
		testFrame(1920, 1080, image.Pt(100, 100), false),
		testFrame(1920, 1080, image.Pt(900, 600), true),
	}
	ctx := context.Background()
	present := func(img *image.RGBA) {
		f.Put(img, nil)
		_, _, seq := f.Latest()
		if err := w.WaitPresented(ctx, seq); err != nil {
			b.Fatal(err)
		}
	}
	present(frames[1]) // the first upload allocates the texture (glTexImage2D); time the rest
	b.SetBytes(int64(len(frames[0].Pix)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		present(frames[i%2])
		i++
	}
	b.StopTimer()
	if err := stop(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCopyBaseline copies a 1920x1080 RGBA frame in memory: the floor for any upload.
func BenchmarkCopyBaseline(b *testing.B) {
	src := testFrame(1920, 1080, image.Pt(100, 100), false)
	dst := image.NewRGBA(src.Rect)
	b.SetBytes(int64(len(src.Pix)))
	for b.Loop() {
		copy(dst.Pix, src.Pix)
	}
}
