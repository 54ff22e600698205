package ui

import (
	"errors"
	"fmt"
	"image"
	"os"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Fonts is a regular and a bold CJK font with their faces cached per pixel size. It is safe
// for concurrent use by several renderers.
type Fonts struct {
	regular, bold *sfnt.Font
	desc          string // where the fonts came from, for logs

	mu    sync.Mutex
	faces map[faceKey]*face
}

// fontCandidate is one place LoadFonts looks when no font is configured.
type fontCandidate struct{ regular, bold string }

// defaultFonts is where Debian and Ubuntu put the fonts that opentype can read (TESTBED.md:
// WenQuanYi fails with "sfnt: invalid table offset", so it is not listed).
var defaultFonts = []fontCandidate{
	{"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"},
	{"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", ""},
}

// preferredFamily is the face picked out of a collection: the collection also holds the
// Japanese, Korean and traditional faces, whose glyph shapes differ for many characters.
const preferredFamily = "Noto Sans CJK SC"

// LoadFonts reads the fonts at path (a .ttf, .otf or .ttc; a .ttc's Simplified Chinese face is
// picked by name), or, when path is "", the first of Noto Sans CJK SC and Droid Sans Fallback
// found on the system. A configured font has no bold companion: bold text uses the same face.
func LoadFonts(path string) (*Fonts, error) {
	if path != "" {
		f, err := loadFont(path)
		if err != nil {
			return nil, fmt.Errorf("ui: font %s: %w (set [ui] font to a .ttc/.otf/.ttf file with Chinese glyphs, or leave it empty to use fonts-noto-cjk)", path, err)
		}
		return newFonts(f, f, path), nil
	}
	return loadFirst(defaultFonts)
}

func loadFirst(cands []fontCandidate) (*Fonts, error) {
	var looked []string
	for _, c := range cands {
		looked = append(looked, c.regular)
		reg, err := loadFont(c.regular)
		if err != nil {
			continue
		}
		bold := reg
		desc := c.regular
		if c.bold != "" {
			if b, err := loadFont(c.bold); err == nil {
				bold = b
				desc += " + " + c.bold
			}
		}
		return newFonts(reg, bold, desc), nil
	}
	return nil, fmt.Errorf("ui: no CJK font found (looked in %s): install fonts-noto-cjk or set [ui] font to a .ttc/.otf/.ttf file", strings.Join(looked, ", "))
}

func newFonts(reg, bold *sfnt.Font, desc string) *Fonts {
	return &Fonts{regular: reg, bold: bold, desc: desc, faces: map[faceKey]*face{}}
}

// String names the font files in use.
func (f *Fonts) String() string { return f.desc }

// loadFont parses a font file; from a collection it takes the preferred family, else the
// first face with Chinese glyphs.
func loadFont(path string) (_ *sfnt.Font, err error) {
	b, unmap, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unmap()
		}
	}()
	c, err := opentype.ParseCollection(b)
	if err != nil {
		return nil, err
	}
	var first *sfnt.Font
	for i := 0; i < c.NumFonts(); i++ {
		f, err := c.Font(i)
		if err != nil || !hasCJK(f) {
			continue
		}
		if name, _ := f.Name(nil, sfnt.NameIDFamily); name == preferredFamily {
			return f, nil
		}
		if first == nil {
			first = f
		}
	}
	if first == nil {
		return nil, errors.New("no face with Chinese glyphs")
	}
	return first, nil
}

func hasCJK(f *sfnt.Font) bool {
	var b sfnt.Buffer
	for _, r := range "中文办理" {
		if x, err := f.GlyphIndex(&b, r); err != nil || x == 0 {
			return false
		}
	}
	return true
}

type faceKey struct {
	px   int
	bold bool
	prop bool
}

// face is a font at one pixel size with its rasterised glyphs: opentype's Face rasterises on
// every call, far too slow to repaint a screen of text at 60 Hz.
type face struct {
	mu      sync.Mutex
	f       font.Face
	px      int
	prop    bool // narrow the full-width forms of Western punctuation
	ascent  int
	descent int
	glyphs  map[rune]*glyph
}

// glyph is a rasterised glyph drawn with its origin on the dot at (0, 0); hinting makes
// advances whole pixels, so one mask serves every integer position.
type glyph struct {
	rect image.Rectangle // mask bounds relative to the dot
	mask []uint8         // rect.Dx() per row
	adv  int
}

// maxGlyphs bounds a face's cache; a kiosk shows a few hundred distinct characters.
const maxGlyphs = 8192

// face returns the face of px pixels per em; prop narrows punctuation shared with Western
// text (quotes, middle dot, ellipsis), which a CJK font draws one em wide, for text that is
// not Chinese (what the OpenType pwid feature would do, which x/image cannot apply).
func (f *Fonts) face(px int, bold, prop bool) *face {
	if px < 4 {
		px = 4
	}
	k := faceKey{px, bold, prop}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fc := f.faces[k]; fc != nil {
		return fc
	}
	src := f.regular
	if bold {
		src = f.bold
	}
	// Size in points at 72 DPI is the size in pixels.
	// NewFace never fails (it only stores its options).
	ff, _ := opentype.NewFace(src, &opentype.FaceOptions{Size: float64(px), DPI: 72, Hinting: font.HintingFull})
	m := ff.Metrics()
	fc := &face{f: ff, px: px, prop: prop, ascent: m.Ascent.Ceil(), descent: m.Descent.Ceil(), glyphs: map[rune]*glyph{}}
	f.faces[k] = fc
	return fc
}

// glyph returns r's glyph; a rune the font lacks comes back as the font's .notdef box.
func (fc *face) glyph(r rune) *glyph {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.glyphLocked(r)
}

func (fc *face) glyphLocked(r rune) *glyph {
	if g := fc.glyphs[r]; g != nil {
		return g
	}
	if len(fc.glyphs) >= maxGlyphs {
		clear(fc.glyphs)
	}
	g := &glyph{}
	dr, mask, mp, adv, _ := fc.f.Glyph(fixed.Point26_6{}, r)
	g.adv = adv.Round()
	if a, ok := mask.(*image.Alpha); ok && !dr.Empty() {
		g.rect = dr
		w, h := dr.Dx(), dr.Dy()
		g.mask = make([]uint8, w*h)
		for y := 0; y < h; y++ {
			o := a.PixOffset(mp.X, mp.Y+y)
			copy(g.mask[y*w:(y+1)*w], a.Pix[o:o+w])
		}
	}
	if fc.prop && r == '…' {
		// The CJK ellipsis is three dots at mid-height; Western text wants them on the
		// baseline: three full stops.
		g = fc.triple('.')
	} else if fc.prop && g.mask != nil && strings.ContainsRune("“”‘’·", r) {
		bear := max(fc.px/12, 1)
		g.rect = g.rect.Add(image.Pt(bear-g.rect.Min.X, 0))
		g.adv = g.rect.Dx() + 2*bear
	}
	fc.glyphs[r] = g
	return g
}

// advance is r's advance in pixels.
func (fc *face) advance(r rune) int { return fc.glyph(r).adv }

// width is the advance of s in pixels.
func (fc *face) width(s string) int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	w := 0
	for _, r := range s {
		w += fc.glyphLocked(r).adv
	}
	return w
}

// triple is three copies of r's glyph side by side.
func (fc *face) triple(r rune) *glyph {
	d := fc.glyphLocked(r)
	g := &glyph{adv: 3 * d.adv, rect: d.rect}
	g.rect.Max.X += 2 * d.adv
	w, dw := g.rect.Dx(), d.rect.Dx()
	g.mask = make([]uint8, w*g.rect.Dy())
	for i := 0; i < 3; i++ {
		for y := 0; y < d.rect.Dy(); y++ {
			for x := 0; x < dw; x++ {
				o := y*w + i*d.adv + x
				g.mask[o] = max(g.mask[o], d.mask[y*dw+x])
			}
		}
	}
	return g
}

// mapFile maps a font file read-only instead of reading it: Noto Sans CJK is about 20 MB a
// weight, and mapped pages are shared with every other process using the font and only the
// glyphs drawn are ever paged in, where a copy would cost 40 MB of the kiosk's own memory.
// A font file must not be truncated while mapped (the system's fonts are not).
func mapFile(path string) ([]byte, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 || st.Size() > 1<<30 {
		return nil, nil, fmt.Errorf("size %d is not a font's", st.Size())
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		// Not mappable (an unusual file system): read it instead.
		b, err := os.ReadFile(path)
		return b, func() {}, err
	}
	return b, func() { syscall.Munmap(b) }, nil
}
