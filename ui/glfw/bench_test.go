package glfwui

import (
	"context"
	"image"
	"testing"

	"github.com/hallkiosk/hallkiosk/ui"
)

// BenchmarkUpload1080p is the presenter's cost per frame: from Frames.Put of a 1920x1080 frame
// to that frame on the screen, on Xvfb: with gl (wake-up, glTexSubImage2D, one quad,
// SwapBuffers, in Mesa's llvmpipe) and with x11 (wake-up, conversion to the server's pixel
// format, XPutImage, XSync). Compare with BenchmarkCopyBaseline, one memory copy of the frame.
func BenchmarkUpload1080p(b *testing.B) {
	for _, p := range presents {
		b.Run(p, func(b *testing.B) { benchUpload(b, p) })
	}
}

func benchUpload(b *testing.B, present string) {
	needTools(b, "Xvfb")
	startXvfb(b, 1920, 1080)
	w := New(Config{Fullscreen: true, Present: present})
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
	show := func(img *image.RGBA) {
		f.Put(img, nil)
		_, _, seq := f.Latest()
		if err := w.WaitPresented(ctx, seq); err != nil {
			b.Fatal(err)
		}
	}
	show(frames[1]) // the first upload allocates the texture (glTexImage2D); time the rest
	b.SetBytes(int64(len(frames[0].Pix)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		show(frames[i%2])
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
