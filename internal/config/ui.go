package config

import (
	"slices"
	"strings"
	"time"
)

// UI is the citizen touch screen of a terminal.
type UI struct {
	// Display: "auto" (a GLFW window when $DISPLAY is set, else headless), "window" (fail
	// without a display) or "headless" (no window; the screen is served at /api/screen.png).
	Display string `toml:"display"`
	// Fullscreen on the primary monitor (a kiosk); false opens a Width x Height window.
	Fullscreen bool `toml:"fullscreen"`
	// Width and Height of the window and of the headless screen, in pixels. Default 1280x800.
	Width  int `toml:"width"`
	Height int `toml:"height"`
	// HideCursor hides the mouse pointer over the window (touch screens).
	HideCursor bool `toml:"hide_cursor"`
	// Present is how the window shows frames: "gl" (an OpenGL texture), "x11" (XPutImage) or
	// "auto": gl when the X server drives a GPU, else x11 (software OpenGL only adds memory).
	Present string `toml:"present"`
	// DPI of the screen, for touch targets of at least 15 mm. Default 96.
	DPI float64 `toml:"dpi"`
	// Font is a .ttc/.otf/.ttf with Simplified Chinese; empty: Noto Sans CJK SC from
	// Debian's fonts-noto-cjk.
	Font string `toml:"font"`
	// Idle ends a session after no touch for this long ("need more time?" first). Default
	// 60s; ElderlyIdle in elderly mode, default 180s.
	Idle        string `toml:"idle"`
	ElderlyIdle string `toml:"elderly_idle"`
	// RequireID lists the queue categories whose tickets need the citizen's ID card.
	RequireID []string `toml:"require_id"`
	// Appointments is a JSON file of appointments for check-in, until the platform feeds them.
	Appointments string `toml:"appointments"`
	// Offline forces the offline badge on. Without it the badge follows the uplink: shown
	// while the platform is unreachable or the node is not enrolled.
	Offline bool `toml:"offline"`
	// TicketQR is the QR content of a ticket on screen, with %s for the number (e.g. a
	// progress page URL); empty: the number itself.
	TicketQR string `toml:"ticket_qr"`
	// GreenAge: ID-card holders at least this old (birth date from the ID number) get the
	// green channel (绿色通道), called before other walk-ins. Default 60; -1 turns it off.
	GreenAge int `toml:"green_age"`
}

func (u *UI) provision() {
	if u.Display == "" {
		u.Display = "auto"
	}
	if u.Present == "" {
		u.Present = "auto"
	}
	if u.Width == 0 && u.Height == 0 {
		u.Width, u.Height = 1280, 800
	}
	if u.DPI == 0 {
		u.DPI = 96
	}
	if u.Idle == "" {
		u.Idle = "60s"
	}
	if u.ElderlyIdle == "" {
		u.ElderlyIdle = "180s"
	}
}

func (u *UI) validate(bad func(key, format string, args ...any)) {
	if !slices.Contains([]string{"auto", "window", "headless"}, u.Display) {
		bad("ui.display", "%q: use auto, window or headless", u.Display)
	}
	if !slices.Contains([]string{"auto", "gl", "x11"}, u.Present) {
		bad("ui.present", "%q: use auto, gl or x11", u.Present)
	}
	if u.Width < 640 || u.Height < 480 || u.Width > 7680 || u.Height > 4320 {
		bad("ui.width", "%dx%d: set ui.width and ui.height to the screen's pixels, at least 640x480", u.Width, u.Height)
	}
	if u.DPI < 50 || u.DPI > 600 {
		bad("ui.dpi", "%v: set the screen's dots per inch, e.g. 96 (most kiosk panels 90-160)", u.DPI)
	}
	for key, v := range map[string]string{"ui.idle": u.Idle, "ui.elderly_idle": u.ElderlyIdle} {
		if d, err := time.ParseDuration(v); err != nil || d < 10*time.Second {
			bad(key, "%q: set a duration of at least 10s, e.g. \"60s\"", v)
		}
	}
	if u.GreenAge != 0 && u.GreenAge != -1 && (u.GreenAge < 1 || u.GreenAge > 120) {
		bad("ui.green_age", "%d: set an age in years, e.g. 60, or -1 for no green channel by age", u.GreenAge)
	}
	if u.TicketQR != "" && (strings.Count(u.TicketQR, "%s") != 1 || strings.Count(u.TicketQR, "%") != 1) {
		bad("ui.ticket_qr", "%q: put exactly one %%s where the ticket number goes (and no other %%)", u.TicketQR)
	}
}

// IdleTimeouts returns ui.idle and ui.elderly_idle (valid after Validate).
func (u UI) IdleTimeouts() (normal, elderly time.Duration) {
	normal, _ = time.ParseDuration(u.Idle)
	elderly, _ = time.ParseDuration(u.ElderlyIdle)
	return normal, elderly
}
