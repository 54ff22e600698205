// Package config decodes and validates kioskd's TOML configuration file.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	profiles "github.com/hallkiosk/hallkiosk/firmware-profiles"
)

// Version is the config schema this binary reads.
const Version = 1

// Config is kioskd's whole configuration. See configs/kioskd.example.toml for a commented copy.
type Config struct {
	// Version of the config schema; must be 1.
	Version int   `toml:"version"`
	Node    Node  `toml:"node"`
	Store   Store `toml:"store"`
	Admin   Admin `toml:"admin"`
	Log     Log   `toml:"log"`
	// Devices attached to this node, each named and bound to a firmware profile.
	Devices []Device `toml:"device"`
	// GPIO lines of the terminal cabinet: presence sensor, status light, tamper switch.
	GPIO GPIO `toml:"gpio"`
	// Queue is the hall's queue (hall role).
	Queue Queue `toml:"queue"`
	// Hall is the hall LAN API (hall role).
	Hall Hall `toml:"hall"`
	// UI is the citizen touch screen (terminal role).
	UI UI `toml:"ui"`
	// Uplink is the connection to the central approval platform.
	Uplink Uplink `toml:"uplink"`
	Sim    Sim    `toml:"sim"`
}

// GPIO names the cabinet's GPIO lines as the kernel's GPIO chips name them (e.g. "GPIO17"
// on a Raspberry Pi, or the line name of /dev/gpiochipN). An empty name means not fitted.
// On a machine without GPIO chips every line is reported skipped.
type GPIO struct {
	// Presence is the presence (PIR or radar) sensor input that wakes the screen.
	Presence string `toml:"presence"`
	// PresenceActiveLow: the sensor pulls the line low when someone is near.
	PresenceActiveLow bool `toml:"presence_active_low"`
	// Tamper is the cabinet door switch input.
	Tamper string `toml:"tamper"`
	// TamperActiveLow: the line is low while the door is open.
	TamperActiveLow bool `toml:"tamper_active_low"`
	// LightGreen, LightAmber, LightRed drive the status light's lamps.
	LightGreen string `toml:"light_green"`
	LightAmber string `toml:"light_amber"`
	LightRed   string `toml:"light_red"`
	// LightActiveLow: a lamp is on while its line is low.
	LightActiveLow bool `toml:"light_active_low"`
}

// Queue configures the hall's queue: its business categories and windows.
type Queue struct {
	// MaxRecalls after the first call before a ticket is a no-show. Default 3.
	MaxRecalls int `toml:"max_recalls"`
	// LongWait: anyone waiting longer than this is called first. "0s" disables. Default 30m.
	LongWait string `toml:"long_wait"`
	// Categories (业务类别), each with its letter, names, numbers and windows.
	Categories []QueueCategory `toml:"category"`
	// Windows (窗口) and how each chooses whom to call.
	Windows []QueueWindow `toml:"window"`
}

// QueueCategory is one business category.
type QueueCategory struct {
	Code   string `toml:"code"`   // key, e.g. "A"
	Prefix string `toml:"prefix"` // letter printed before the number; default Code
	NameZH string `toml:"name_zh"`
	NameEN string `toml:"name_en"`
	// Range of numbers, e.g. [1, 499]; default 1-999.
	Range      []int  `toml:"range"`
	Windows    []int  `toml:"windows"`     // windows that serve it
	AvgService string `toml:"avg_service"` // seeds estimates, e.g. "5m"
	DailyCap   int    `toml:"daily_cap"`   // 0: no cap
	Open       string `toml:"open"`        // "08:30" hall-local; empty: always
	Close      string `toml:"close"`       // "17:30"
}

// QueueWindow is one service window.
type QueueWindow struct {
	ID int `toml:"id"`
	// Categories it calls, in order of preference; empty: those whose windows name it.
	Categories []string `toml:"categories"`
	// Weights for round robin between categories, e.g. {A = 2, B = 1}.
	Weights map[string]int `toml:"weights"`
}

// Hall is the hall LAN API that terminals and window consoles use.
type Hall struct {
	// Listen address of the hall LAN API. Default 127.0.0.1:8081; terminals on other
	// machines need a LAN address (with admin-style allow_remote below).
	Listen      string `toml:"listen"`
	AllowRemote bool   `toml:"allow_remote"`
	// TokensFile holds the API's bearer tokens (JSON, mode 0600), made at first start if
	// missing: {"terminal": [...], "manager": [...], "windows": {"1": "..."}}.
	TokensFile string `toml:"tokens_file"`
	// ShowMaskedName shows the masked name (张*) of a ticket taken with an ID card beside its
	// call on the hall display. Names are never announced. Default false.
	ShowMaskedName bool `toml:"show_masked_name"`
	// URL of the hall node's LAN API, for a terminal node without the hall role (its queue
	// runs there), e.g. "http://10.0.0.2:8081". Empty on the hall node itself.
	URL string `toml:"url"`
	// TerminalTokenFile holds this terminal's token for URL (one line; copy a "terminal"
	// token from the hall node's tokens_file). Used only with URL.
	TerminalTokenFile string `toml:"terminal_token_file"`
}

// Lines returns the configured line names.
func (g GPIO) Lines() []string {
	var out []string
	for _, n := range []string{g.Presence, g.Tamper, g.LightGreen, g.LightAmber, g.LightRed} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// Node identifies this machine and what it does.
type Node struct {
	// ID is the node id given at enrolment, e.g. "hall-0571-01-t03".
	ID string `toml:"id"`
	// Roles: "terminal", "hall", or both (a standalone village kiosk).
	Roles []string `toml:"roles"`
	// HallName is shown on screens and tickets until the platform sends its own.
	HallName string `toml:"hall_name"`
	// HallNameEN is the hall's name on English screens; empty shows HallName.
	HallNameEN string `toml:"hall_name_en"`
	// Hall is the hall's id at the platform, sent at enrolment, e.g. "hall-0571-01".
	// Default: the node id up to its last '-' ("hall-0571-01-t03" -> "hall-0571-01").
	Hall string `toml:"hall"`
	// Timezone of the hall; business dates (ticket numbers) follow it. Default Asia/Shanghai.
	Timezone string `toml:"timezone"`
}

// Store is where the node keeps its SQLite file.
type Store struct {
	// Path of the SQLite database. Relative paths are relative to the working directory.
	Path string `toml:"path"`
}

// Admin is the local admin HTTP server (health, metrics, status page).
type Admin struct {
	// Listen address; loopback unless AllowRemote is set.
	Listen string `toml:"listen"`
	// AllowRemote permits a non-loopback Listen address (for a hall LAN dashboard).
	AllowRemote bool `toml:"allow_remote"`
}

// Log sets logging.
type Log struct {
	// Level: debug, info, warn or error.
	Level string `toml:"level"`
	// Format: auto (text on a terminal, JSON otherwise), json or text.
	Format string `toml:"format"`
}

// Device is one attached device.
type Device struct {
	// Name is the device's name in health, logs and the API, e.g. "idcard".
	Name string `toml:"name"`
	// Profile is a firmware profile id from firmware-profiles/, e.g. "ga467-generic".
	Profile string `toml:"profile"`
	// Port is the device path, e.g. /dev/ttyUSB0 or /dev/serial/by-id/....
	Port string `toml:"port"`
	// Enabled defaults to true; false keeps the device configured but not started.
	Enabled *bool `toml:"enabled"`
	// Override changes single values of the profile.
	Override profiles.Overrides `toml:"override"`
}

// IsEnabled reports whether the device should start.
func (d Device) IsEnabled() bool { return d.Enabled == nil || *d.Enabled }

// Sim configures simulator mode (kioskd -sim).
type Sim struct {
	// Dir holds the simulators' pty links and control sockets. Default: var/sim.
	Dir string `toml:"dir"`
	// Cards is an ID-card fixture file; empty uses the built-in fictitious cards.
	Cards string `toml:"cards"`
	// Baud paces the simulated serial lines. Default 115200.
	Baud int `toml:"baud"`
	// Platform is where -sim runs the embedded reference platform (platformsim), which the
	// node enrols with automatically. Default 127.0.0.1:8090; "off" runs none.
	Platform string `toml:"platform"`
}

// Default returns the configuration `kioskd -sim` uses without a file: a standalone node
// with one simulated ID-card reader.
func Default() *Config {
	c := &Config{
		Version: Version,
		Node:    Node{ID: "sim-node-01", Roles: []string{"terminal", "hall"}, HallName: "模拟政务服务大厅"},
		Devices: []Device{
			{Name: "idcard", Profile: "sim-idcard", Port: "var/sim/idcard"},
			{Name: "printer", Profile: "sim-printer", Port: "var/sim/printer"},
			{Name: "scanner", Profile: "sim-scanner", Port: "var/sim/scanner"},
		},
		// Raspberry Pi style names; on a machine without GPIO chips they are reported skipped.
		GPIO: GPIO{Presence: "GPIO17", Tamper: "GPIO27", LightGreen: "GPIO22", LightAmber: "GPIO23", LightRed: "GPIO24"},
		// A small hall, so the touch screen has something to offer.
		Queue: Queue{Categories: []QueueCategory{
			{Code: "A", NameZH: "社保医保", NameEN: "Social and medical insurance", Windows: []int{1, 2}, AvgService: "5m"},
			{Code: "B", NameZH: "户籍证件", NameEN: "Household registration and ID", Windows: []int{3}, AvgService: "8m"},
			{Code: "C", NameZH: "不动产登记", NameEN: "Real estate registration", Windows: []int{4}, AvgService: "12m"},
			{Code: "D", NameZH: "企业开办", NameEN: "Business registration", Windows: []int{5}, AvgService: "10m"},
		}},
		UI: UI{RequireID: []string{"B"}},
	}
	c.Provision()
	return c
}

// Load reads, strictly decodes, provisions defaults and validates a config file.
func Load(path string, set *profiles.Set) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b, set)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes TOML strictly: an unknown key is an error, since a misspelt key silently
// ignored leaves a hall running on a default nobody chose.
func Parse(b []byte, set *profiles.Set) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		return nil, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		var keys []string
		for _, k := range und {
			keys = append(keys, k.String())
		}
		return nil, fmt.Errorf("unknown key %s: check its spelling against configs/kioskd.example.toml", strings.Join(keys, ", "))
	}
	c.Provision()
	if err := c.Validate(set); err != nil {
		return nil, err
	}
	return &c, nil
}

// Provision fills in defaults.
func (c *Config) Provision() {
	if c.Node.Hall == "" {
		c.Node.Hall = c.Node.ID
		if i := strings.LastIndexByte(c.Node.ID, '-'); i > 0 {
			c.Node.Hall = c.Node.ID[:i]
		}
	}
	if c.Node.Timezone == "" {
		c.Node.Timezone = "Asia/Shanghai"
	}
	if len(c.Node.Roles) == 0 {
		c.Node.Roles = []string{"terminal", "hall"}
	}
	if c.Store.Path == "" {
		c.Store.Path = "var/kioskd.db"
	}
	if c.Admin.Listen == "" {
		c.Admin.Listen = "127.0.0.1:8080"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "auto"
	}
	if c.Hall.Listen == "" {
		c.Hall.Listen = "127.0.0.1:8081"
	}
	if c.Hall.TokensFile == "" {
		c.Hall.TokensFile = filepath.Join(filepath.Dir(c.Store.Path), "hall-tokens.json")
	}
	if c.Queue.LongWait == "" {
		c.Queue.LongWait = "30m"
	}
	if len(c.Queue.Categories) == 0 && slices.Contains(c.Node.Roles, "hall") {
		// A hall with no categories configured still works: one general category served
		// by three windows, until the platform's node config brings the real ones.
		c.Queue.Categories = []QueueCategory{
			{Code: "A", NameZH: "综合业务", NameEN: "General services", Windows: []int{1, 2, 3}, AvgService: "5m"},
		}
	}
	for i := range c.Queue.Categories {
		if c.Queue.Categories[i].Prefix == "" {
			c.Queue.Categories[i].Prefix = c.Queue.Categories[i].Code
		}
	}
	c.UI.provision()
	c.Uplink.provision(c.Store.Path)
	if c.Sim.Dir == "" {
		c.Sim.Dir = "var/sim"
	}
	if c.Sim.Baud == 0 {
		c.Sim.Baud = 115200
	}
	if c.Sim.Platform == "" {
		c.Sim.Platform = "127.0.0.1:8090"
	}
}

var (
	nodeIDRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	deviceNameRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
)

// Validate checks every value and names the key and the fix in its message. All problems
// are reported at once so a technician fixes the file in one pass.
func (c *Config) Validate(set *profiles.Set) error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	if c.Version != Version {
		bad("version", "is %d; this kioskd reads version %d: set version = %d", c.Version, Version, Version)
	}
	if !nodeIDRe.MatchString(c.Node.ID) {
		bad("node.id", "%q is not a node id: use lowercase letters, digits and '-', e.g. \"hall-0571-01-t03\"", c.Node.ID)
	}
	for _, r := range c.Node.Roles {
		if r != "terminal" && r != "hall" {
			bad("node.roles", "unknown role %q: use \"terminal\", \"hall\" or both", r)
		}
	}
	if _, err := time.LoadLocation(c.Node.Timezone); err != nil {
		bad("node.timezone", "%q is not a time zone: use an IANA name such as \"Asia/Shanghai\"", c.Node.Timezone)
	}
	if filepath.Clean(c.Store.Path) == "." {
		bad("store.path", "is empty: give the SQLite file's path, e.g. \"/var/lib/hallkiosk/kioskd.db\"")
	}
	if host, _, err := net.SplitHostPort(c.Admin.Listen); err != nil {
		bad("admin.listen", "%q is not host:port: use e.g. \"127.0.0.1:8080\"", c.Admin.Listen)
	} else if ip := net.ParseIP(host); !c.Admin.AllowRemote && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		bad("admin.listen", "%q is not a loopback address: use 127.0.0.1, or set admin.allow_remote = true to serve the hall LAN", c.Admin.Listen)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "%q is not a level: use debug, info, warn or error", c.Log.Level)
	}
	if !slices.Contains([]string{"auto", "json", "text"}, c.Log.Format) {
		bad("log.format", "%q is not a format: use auto, json or text", c.Log.Format)
	}
	if _, err := time.ParseDuration(c.Queue.LongWait); err != nil {
		bad("queue.long_wait", "%q is not a duration: use e.g. \"30m\" (or \"0s\" to disable)", c.Queue.LongWait)
	}
	for i, cat := range c.Queue.Categories {
		if cat.AvgService != "" {
			if _, err := time.ParseDuration(cat.AvgService); err != nil {
				bad(fmt.Sprintf("queue.category[%d].avg_service", i), "%q is not a duration: use e.g. \"5m\"", cat.AvgService)
			}
		}
		if len(cat.Range) != 0 && len(cat.Range) != 2 {
			bad(fmt.Sprintf("queue.category[%d].range", i), "must be two numbers, first and last, e.g. [1, 499]")
		}
	}
	if host, _, err := net.SplitHostPort(c.Hall.Listen); err != nil {
		bad("hall.listen", "%q is not host:port: use e.g. \"127.0.0.1:8081\"", c.Hall.Listen)
	} else if ip := net.ParseIP(host); !c.Hall.AllowRemote && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		bad("hall.listen", "%q is not a loopback address: set hall.allow_remote = true to serve terminals and windows on the hall LAN", c.Hall.Listen)
	}
	if c.Hall.URL != "" {
		if u, err := url.Parse(c.Hall.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("hall.url", "%q is not an http(s) URL: use e.g. \"http://10.0.0.2:8081\"", c.Hall.URL)
		}
		if slices.Contains(c.Node.Roles, "hall") {
			bad("hall.url", "is for a terminal whose queue runs on another node: remove it, or remove the hall role")
		}
		if c.Hall.TerminalTokenFile == "" {
			bad("hall.terminal_token_file", "is required with hall.url: a file holding a terminal token of the hall node")
		}
	}
	c.UI.validate(bad)
	c.Uplink.validate(bad)
	for _, code := range c.UI.RequireID {
		if slices.Contains(c.Node.Roles, "hall") && !slices.ContainsFunc(c.Queue.Categories, func(q QueueCategory) bool { return q.Code == code }) {
			bad("ui.require_id", "names category %q, which is not in [[queue.category]]", code)
		}
	}
	if c.Sim.Baud <= 0 {
		bad("sim.baud", "%d is not a baud rate: use e.g. 115200", c.Sim.Baud)
	}
	seen := map[string]bool{}
	for i, d := range c.Devices {
		key := fmt.Sprintf("device[%d]", i)
		if !deviceNameRe.MatchString(d.Name) {
			bad(key+".name", "%q is not a device name: use lowercase letters, digits, '_' or '-', e.g. \"idcard\"", d.Name)
		}
		if seen[d.Name] {
			bad(key+".name", "%q is used twice: give each device its own name", d.Name)
		}
		seen[d.Name] = true
		if d.Port == "" {
			bad(key+".port", "is empty: give the device path, e.g. \"/dev/ttyUSB0\"")
		}
		if set == nil {
			continue
		}
		p, err := set.Get(d.Profile)
		if err != nil {
			bad(key+".profile", "%v", err)
			continue
		}
		if _, err := p.Apply(d.Override); err != nil {
			bad(key+".override", "%v", err)
		}
	}
	return errors.Join(errs...)
}

// Location returns the hall's time zone.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Node.Timezone)
	if err != nil {
		return time.UTC // unreachable after Validate
	}
	return loc
}
