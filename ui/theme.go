package ui

import (
	"image/color"
	"math"
)

// palette is the colours of one mode. Every text colour is chosen against the background it
// sits on: at least 4.5:1 in the normal palette and 7:1 in the high-contrast one (tested).
type palette struct {
	bg, surface, text, muted, border color.RGBA
	statusBg, statusText             color.RGBA
	offlineBg, offlineText           color.RGBA
	title                            color.RGBA
	primary, onPrimary               color.RGBA
	secondary, onSecondary           color.RGBA // secondary: fill; onSecondary: text and border
	danger, onDanger                 color.RGBA
	disabledBg, disabledText         color.RGBA
	track, fill                      color.RGBA // progress bar
	dim                              color.RGBA // over the screen behind a modal
	noticeBg                         [4]color.RGBA
	noticeFg                         [4]color.RGBA // icon and border
	noticeText                       color.RGBA
}

func rgb(v uint32) color.RGBA { return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255} }

// normalPalette is calm government-hall blue on white.
var normalPalette = palette{
	bg:           rgb(0xF2F5F9),
	surface:      rgb(0xFFFFFF),
	text:         rgb(0x1A2433),
	muted:        rgb(0x485467),
	border:       rgb(0xC5D0DE),
	statusBg:     rgb(0x0E3A73),
	statusText:   rgb(0xFFFFFF),
	offlineBg:    rgb(0xFFD98A),
	offlineText:  rgb(0x3D2800),
	title:        rgb(0x0E3A73),
	primary:      rgb(0x1557A8),
	onPrimary:    rgb(0xFFFFFF),
	secondary:    rgb(0xFFFFFF),
	onSecondary:  rgb(0x1557A8),
	danger:       rgb(0xB42318),
	onDanger:     rgb(0xFFFFFF),
	disabledBg:   rgb(0xE4E8EE),
	disabledText: rgb(0x4A5363),
	track:        rgb(0xDCE3EC),
	fill:         rgb(0x1557A8),
	dim:          color.RGBA{0, 0, 0, 140},
	noticeBg:     [4]color.RGBA{rgb(0xE6F0FB), rgb(0xE5F5EA), rgb(0xFFF3DC), rgb(0xFDECEB)},
	noticeFg:     [4]color.RGBA{rgb(0x1557A8), rgb(0x1B7A3A), rgb(0xA85A00), rgb(0xB42318)},
	noticeText:   rgb(0x1A2433),
}

// contrastPalette is the elderly mode's near-black on white; accents stay dark enough for
// 7:1 against white so that icons and borders read as well as the text.
var contrastPalette = palette{
	bg:           rgb(0xFFFFFF),
	surface:      rgb(0xFFFFFF),
	text:         rgb(0x111111),
	muted:        rgb(0x2B2B2B),
	border:       rgb(0x111111),
	statusBg:     rgb(0x111111),
	statusText:   rgb(0xFFFFFF),
	offlineBg:    rgb(0xFFE066),
	offlineText:  rgb(0x111111),
	title:        rgb(0x111111),
	primary:      rgb(0x111111),
	onPrimary:    rgb(0xFFFFFF),
	secondary:    rgb(0xFFFFFF),
	onSecondary:  rgb(0x111111),
	danger:       rgb(0x8A0F0F),
	onDanger:     rgb(0xFFFFFF),
	disabledBg:   rgb(0xEBEBEB),
	disabledText: rgb(0x2B2B2B),
	track:        rgb(0xD6D6D6),
	fill:         rgb(0x111111),
	dim:          color.RGBA{0, 0, 0, 170},
	noticeBg:     [4]color.RGBA{rgb(0xFFFFFF), rgb(0xFFFFFF), rgb(0xFFFFFF), rgb(0xFFFFFF)},
	noticeFg:     [4]color.RGBA{rgb(0x003A8C), rgb(0x0B5D1E), rgb(0x6E4200), rgb(0x8A0F0F)},
	noticeText:   rgb(0x111111),
}

// metrics are a mode's sizes in pixels at the renderer's DPI.
type metrics struct {
	dpi     float64
	elderly bool
	target  int // smallest touch target side
	pad     int // screen margin
	gap     int // between widgets
	edge    int // between the body and the titles or the action bar
	barPad  int // above and below the action bar's buttons
	inner   int // padding inside boxes
	rad     int // corner radius
	bw      int // border width
	lineF   float64
	// font sizes in pixels per em
	small, body, large, huge, title int
}

// mm converts millimetres to pixels at the DPI, rounding up so that minimum sizes hold.
func (m metrics) mm(v float64) int { return int(math.Ceil(v / 25.4 * m.dpi)) }

// Sizes in millimetres at normal scale; the elderly mode multiplies fonts by elderlyScale.
const (
	minTargetMM     = 15.0
	elderlyTargetMM = 18.0
	elderlyScale    = 1.5
	lineSpacing     = 1.4 // line height / font size
	elderlySpacing  = 1.6 // >= 1.3 (MIIT 适老化)
)

func newMetrics(dpi float64, elderly bool) metrics {
	m := metrics{dpi: dpi, elderly: elderly, lineF: lineSpacing}
	m.target = m.mm(minTargetMM)
	scale := 1.0
	if elderly {
		m.target = m.mm(elderlyTargetMM)
		scale = elderlyScale
		m.lineF = elderlySpacing
	}
	font := func(mm float64) int { return int(math.Round(mm * scale / 25.4 * dpi)) }
	m.small = font(4.8)
	m.body = font(6.0)
	m.large = font(7.6)
	m.title = font(9.0)
	m.huge = font(24)
	m.pad = m.mm(5)
	m.gap = m.mm(3)
	m.edge, m.barPad = m.gap, m.mm(2.5)
	m.inner = m.mm(3)
	m.rad = m.mm(2)
	m.bw = max(1, m.mm(0.3))
	if elderly {
		// Wider gaps between the larger widgets; the screen's frame gives back some of that
		// height, which the larger type needs more.
		m.gap = m.mm(4)
		m.edge, m.barPad = m.mm(2), m.mm(1.5)
		m.bw = max(2, m.mm(0.8))
	}
	return m
}

// lineH is the line height of a font size. Display sizes (ticket numbers) are single words
// set tighter, still at 1.3x in the elderly mode.
func (m metrics) lineH(px int) int {
	f := m.lineF
	if px >= m.huge {
		f = 1.15
		if m.elderly {
			f = 1.3
		}
	}
	return int(math.Ceil(float64(px) * f))
}

// textPx maps a TextSize to pixels.
func (m metrics) textPx(s TextSize) int {
	switch s {
	case TextSmall:
		return m.small
	case TextLarge:
		return m.large
	case TextHuge:
		return m.huge
	}
	return m.body
}
