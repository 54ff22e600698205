package glfwui

/*
#cgo LDFLAGS: -lX11
#include <stdlib.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

static int hk_has_extension(Display *d, const char *name) {
	int op, ev, err;
	return XQueryExtension(d, name, &op, &ev, &err);
}

// Xlib's default error handler ends the process; XGetImage fails with BadMatch when the
// window is not wholly on screen, which must only fail the screenshot.
static int hk_x_error;
static int hk_on_error(Display *d, XErrorEvent *e) {
	hk_x_error = e->error_code;
	return 0;
}
static XImage *hk_get_image(Display *d, Window w, unsigned int width, unsigned int height) {
	XSync(d, False);
	hk_x_error = 0;
	XErrorHandler old = XSetErrorHandler(hk_on_error);
	XImage *img = XGetImage(d, w, 0, 0, width, height, AllPlanes, ZPixmap);
	XSync(d, False);
	XSetErrorHandler(old);
	if (hk_x_error && img) {
		XDestroyImage(img);
		img = NULL;
	}
	return img;
}

// XDestroyImage is a macro. The image's data is ours (calloc), freed separately, or
// Xlib's (XGetImage), freed with it.
static void hk_destroy_image(XImage *img, int keep_data) {
	if (keep_data) {
		img->data = NULL;
	}
	XDestroyImage(img);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"math/bits"
	"unsafe"

	"github.com/go-gl/glfw/v3.3/glfw"
)

// gpuExtension names the first X server extension that shows the server drives a GPU whose
// OpenGL runs in hardware (DRI3, DRI2, NVIDIA's GLX), or "" when it has none: Xvfb, or Xorg
// on fbdev or vesa, where Mesa can only draw in software.
func gpuExtension() string {
	dpy := (*C.Display)(unsafe.Pointer(glfw.GetX11Display()))
	if dpy == nil {
		return ""
	}
	for _, ext := range []string{"DRI3", "DRI2", "NV-GLX"} {
		name := C.CString(ext)
		ok := C.hk_has_extension(dpy, name) != 0
		C.free(unsafe.Pointer(name))
		if ok {
			return ext
		}
	}
	return ""
}

// x11Painter shows frames with XPutImage into the GLFW window, which then has no GL context.
// Without a GPU, OpenGL is Mesa's software renderer: for one textured quad it adds about 65 MB
// (libLLVM and its JIT) and two more copies of the frame, to do what XPutImage does with
// one. The frame is converted once into the server's pixel format and kept for re-puts on
// expose; a frame of another size than the window is stretched (nearest pixel), like GL's.
type x11Painter struct {
	dpy    *C.Display
	win    C.Window
	gc     C.GC
	visual *C.Visual
	depth  C.int

	rs, gs, bs uint // shifts of the visual's 8-bit red, green and blue masks
	msb        bool // the server's image byte order is most significant byte first

	frame  *image.RGBA // the latest frame (Frames keeps it unchanged too)
	stale  bool        // frame is newer than what img holds
	img    *C.XImage   // its pixels are buf
	buf    unsafe.Pointer
	bw, bh int
}

func newX11Painter(win *glfw.Window) (*x11Painter, error) {
	p := &x11Painter{
		dpy: (*C.Display)(unsafe.Pointer(glfw.GetX11Display())),
		win: C.Window(uint64(win.GetX11Window())),
	}
	if p.dpy == nil || p.win == 0 {
		return nil, errors.New("glfwui: the window has no X11 display or window id")
	}
	var attrs C.XWindowAttributes
	if C.XGetWindowAttributes(p.dpy, p.win, &attrs) == 0 {
		return nil, errors.New("glfwui: XGetWindowAttributes failed")
	}
	p.visual, p.depth = attrs.visual, attrs.depth
	v := p.visual
	var ok bool
	if p.rs, ok = shift8(uint64(v.red_mask)); ok {
		if p.gs, ok = shift8(uint64(v.green_mask)); ok {
			p.bs, ok = shift8(uint64(v.blue_mask))
		}
	}
	if !ok || v.class != C.TrueColor || p.depth < 24 {
		return nil, fmt.Errorf("glfwui: the window's visual (class %d, depth %d, masks %#x %#x %#x) is not 24-bit true colour",
			int(v.class), int(p.depth), uint64(v.red_mask), uint64(v.green_mask), uint64(v.blue_mask))
	}
	p.msb = C.XImageByteOrder(p.dpy) == C.MSBFirst
	// convert writes 32 bits a pixel: the server must take depth 24 that way (all do now).
	probe := C.XCreateImage(p.dpy, p.visual, C.uint(p.depth), C.ZPixmap, 0, nil, 1, 1, 32, 0)
	if probe == nil {
		return nil, errors.New("glfwui: XCreateImage failed")
	}
	bpp := int(probe.bits_per_pixel)
	C.hk_destroy_image(probe, 1)
	if bpp != 32 {
		return nil, fmt.Errorf("glfwui: the X server stores depth %d in %d bits a pixel; want 32", int(p.depth), bpp)
	}
	p.gc = C.XCreateGC(p.dpy, C.Drawable(p.win), 0, nil)
	if p.gc == nil {
		return nil, errors.New("glfwui: XCreateGC failed")
	}
	return p, nil
}

// shift8 is the position of an 8-bit colour mask such as 0xff0000.
func shift8(mask uint64) (uint, bool) {
	s := uint(bits.TrailingZeros64(mask))
	return s, mask != 0 && mask>>s == 0xff && s <= 24
}

func (p *x11Painter) frameSize() image.Point {
	if p.frame == nil {
		return image.Point{}
	}
	return p.frame.Rect.Size()
}

func (p *x11Painter) upload(img *image.RGBA) {
	if img.Rect.Empty() {
		return
	}
	p.frame, p.stale = img, true
}

// draw puts the frame into the window, black before the first, and waits until the server
// has it (XSync), so that "presented" means on screen as it does after a GL swap.
func (p *x11Painter) draw(fbw, fbh int) {
	if fbw <= 0 || fbh <= 0 {
		return
	}
	if p.img == nil || fbw != p.bw || fbh != p.bh {
		p.free()
		p.buf = C.calloc(C.size_t(fbw*fbh), 4)
		if p.buf == nil {
			return
		}
		p.img = C.XCreateImage(p.dpy, p.visual, C.uint(p.depth), C.ZPixmap, 0, (*C.char)(p.buf), C.uint(fbw), C.uint(fbh), 32, C.int(fbw*4))
		if p.img == nil {
			p.free()
			return
		}
		p.bw, p.bh, p.stale = fbw, fbh, p.frame != nil
	}
	if p.stale {
		p.convert()
		p.stale = false
	}
	C.XPutImage(p.dpy, C.Drawable(p.win), p.gc, p.img, 0, 0, 0, 0, C.uint(p.bw), C.uint(p.bh))
	C.XSync(p.dpy, C.False)
}

// convert writes the frame into buf in the server's pixel format.
func (p *x11Painter) convert() {
	dst := unsafe.Slice((*byte)(p.buf), p.bw*p.bh*4)
	src, sw, sh := p.frame, p.frame.Rect.Dx(), p.frame.Rect.Dy()
	for y := range p.bh {
		sy := y
		if sh != p.bh {
			sy = y * sh / p.bh
		}
		row := src.Pix[src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+sy):]
		out := dst[y*p.bw*4 : (y+1)*p.bw*4]
		for x := range p.bw {
			sx := x
			if sw != p.bw {
				sx = x * sw / p.bw
			}
			s := row[sx*4 : sx*4+3]
			v := uint32(s[0])<<p.rs | uint32(s[1])<<p.gs | uint32(s[2])<<p.bs
			o := out[x*4 : x*4+4]
			if p.msb {
				o[0], o[1], o[2], o[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
			} else {
				o[0], o[1], o[2], o[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
			}
		}
	}
}

// read returns what the X server holds for the window (XGetImage), top row first, opaque:
// the screen itself, not the painter's copy of it.
func (p *x11Painter) read(fbw, fbh int) (*image.RGBA, error) {
	out := image.NewRGBA(image.Rect(0, 0, fbw, fbh))
	if fbw <= 0 || fbh <= 0 {
		return out, nil
	}
	xi := C.hk_get_image(p.dpy, p.win, C.uint(fbw), C.uint(fbh))
	if xi == nil {
		return nil, errors.New("glfwui: XGetImage failed (is the window wholly on screen?)")
	}
	defer C.hk_destroy_image(xi, 0)
	if xi.bits_per_pixel != 32 {
		return nil, fmt.Errorf("glfwui: XGetImage gave %d bits a pixel; want 32", int(xi.bits_per_pixel))
	}
	stride, msb := int(xi.bytes_per_line), xi.byte_order == C.MSBFirst
	src := unsafe.Slice((*byte)(unsafe.Pointer(xi.data)), stride*fbh)
	for y := range fbh {
		for x := range fbw {
			b := src[y*stride+x*4 : y*stride+x*4+4]
			v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
			if msb {
				v = bits.ReverseBytes32(v)
			}
			o := out.Pix[y*out.Stride+x*4:]
			o[0], o[1], o[2], o[3] = byte(v>>p.rs), byte(v>>p.gs), byte(v>>p.bs), 0xff
		}
	}
	return out, nil
}

// swap has nothing to do: draw has put the frame on screen already.
func (p *x11Painter) swap() {}

func (p *x11Painter) free() {
	if p.img != nil {
		C.hk_destroy_image(p.img, 1)
		p.img = nil
	}
	if p.buf != nil {
		C.free(p.buf)
		p.buf = nil
	}
	p.bw, p.bh = 0, 0
}

// close frees the image and the GC; the window and display are GLFW's.
func (p *x11Painter) close() {
	p.free()
	if p.gc != nil {
		C.XFreeGC(p.dpy, p.gc)
		p.gc = nil
	}
}
