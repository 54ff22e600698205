package glfwui

import (
	"fmt"
	"image"

	"github.com/go-gl/gl/v2.1/gl"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// painter shows frames in the window: glPainter with OpenGL, x11Painter with XPutImage. Its
// methods run on the main thread.
type painter interface {
	// frameSize is the size of the frame shown, zero before the first.
	frameSize() image.Point
	// upload takes a new frame to show.
	upload(img *image.RGBA)
	// draw paints the frame over the whole fbw x fbh window (black before the first).
	draw(fbw, fbh int)
	// read returns what draw painted, top row first, opaque.
	read(fbw, fbh int) (*image.RGBA, error)
	// swap puts what draw painted on screen.
	swap()
	close()
}

// glPainter owns the GL state: one texture holding the latest frame, drawn as one quad.
// All its methods run on the main thread with the window's context current.
type glPainter struct {
	win        *glfw.Window
	tex        uint32
	texW, texH int // size of the texture's storage; 0 before the first upload
}

func (p *glPainter) swap() { p.win.SwapBuffers() }

func (p *glPainter) close() { gl.DeleteTextures(1, &p.tex) }

func (p *glPainter) init() error {
	gl.Disable(gl.DITHER)
	gl.Disable(gl.BLEND)
	gl.Disable(gl.DEPTH_TEST)
	gl.Disable(gl.LIGHTING)
	gl.Enable(gl.TEXTURE_2D)
	gl.GenTextures(1, &p.tex)
	gl.BindTexture(gl.TEXTURE_2D, p.tex)
	// NEAREST: a frame the size of the window lands pixel for pixel, no blur.
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE)
	// REPLACE: the texel is the pixel, untouched by the vertex colour.
	gl.TexEnvi(gl.TEXTURE_ENV, gl.TEXTURE_ENV_MODE, gl.REPLACE)
	gl.PixelStorei(gl.UNPACK_ALIGNMENT, 4)
	gl.ClearColor(0, 0, 0, 1)
	if e := gl.GetError(); e != gl.NO_ERROR {
		return fmt.Errorf("glfwui: set up GL state: GL error 0x%x", e)
	}
	return nil
}

// frameSize is the size of the frame in the texture, zero before the first.
func (p *glPainter) frameSize() image.Point { return image.Pt(p.texW, p.texH) }

// upload copies img into the texture: glTexImage2D when the size changes (storage is
// reallocated), glTexSubImage2D otherwise. Sub-images (Stride wider than the row) are read in
// place through GL_UNPACK_ROW_LENGTH, without a copy.
func (p *glPainter) upload(img *image.RGBA) {
	b := img.Rect
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return
	}
	gl.PixelStorei(gl.UNPACK_ROW_LENGTH, int32(img.Stride/4))
	px := gl.Ptr(&img.Pix[img.PixOffset(b.Min.X, b.Min.Y)])
	if w != p.texW || h != p.texH {
		gl.TexImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, int32(w), int32(h), 0, gl.RGBA, gl.UNSIGNED_BYTE, px)
		p.texW, p.texH = w, h
	} else {
		gl.TexSubImage2D(gl.TEXTURE_2D, 0, 0, 0, int32(w), int32(h), gl.RGBA, gl.UNSIGNED_BYTE, px)
	}
	gl.PixelStorei(gl.UNPACK_ROW_LENGTH, 0)
}

// draw paints the frame over the whole framebuffer (black before the first frame).
func (p *glPainter) draw(fbw, fbh int) {
	gl.Viewport(0, 0, int32(fbw), int32(fbh))
	gl.Clear(gl.COLOR_BUFFER_BIT)
	if p.texW == 0 {
		return
	}
	// Unit square, y down: texture row 0 (the image's top row) at the top of the window.
	gl.MatrixMode(gl.PROJECTION)
	gl.LoadIdentity()
	gl.Ortho(0, 1, 1, 0, -1, 1)
	gl.MatrixMode(gl.MODELVIEW)
	gl.LoadIdentity()
	gl.Begin(gl.QUADS)
	gl.TexCoord2f(0, 0)
	gl.Vertex2f(0, 0)
	gl.TexCoord2f(1, 0)
	gl.Vertex2f(1, 0)
	gl.TexCoord2f(1, 1)
	gl.Vertex2f(1, 1)
	gl.TexCoord2f(0, 1)
	gl.Vertex2f(0, 1)
	gl.End()
}

// read returns the back buffer as drawn, top row first, opaque.
func (p *glPainter) read(fbw, fbh int) (*image.RGBA, error) {
	img := image.NewRGBA(image.Rect(0, 0, fbw, fbh))
	if fbw <= 0 || fbh <= 0 {
		return img, nil
	}
	gl.ReadBuffer(gl.BACK)
	gl.PixelStorei(gl.PACK_ALIGNMENT, 4)
	gl.ReadPixels(0, 0, int32(fbw), int32(fbh), gl.RGBA, gl.UNSIGNED_BYTE, gl.Ptr(&img.Pix[0]))
	// GL's row 0 is the bottom one.
	row := make([]byte, img.Stride)
	for y := 0; y < fbh/2; y++ {
		a := img.Pix[y*img.Stride : (y+1)*img.Stride]
		b := img.Pix[(fbh-1-y)*img.Stride : (fbh-y)*img.Stride]
		copy(row, a)
		copy(a, b)
		copy(b, row)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	return img, nil
}
