package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hallkiosk/hallkiosk/internal/store"
)

// NodeConfig is what the platform sets for this node (GET /v1/nodes/{node}/config). It is
// decoded strictly: a field the node does not know is an error, because silently dropping
// a setting the platform meant is worse than keeping the last config.
type NodeConfig struct {
	Hall       string           `json:"hall,omitempty"` // hall id, for information
	HallName   string           `json:"hall_name"`
	Timezone   string           `json:"timezone"` // IANA name, e.g. Asia/Shanghai
	Categories []ConfigCategory `json:"categories"`
	Windows    []ConfigWindow   `json:"windows"`
	// OpeningHours of the hall, e.g. {"mon-fri", "08:30", "17:30"}; empty: always open
	// (a 24-hour self-service area).
	OpeningHours []OpeningHours `json:"opening_hours,omitempty"`
	// ScreenTexts are texts the hall shows on screens, by key (e.g. "welcome_zh").
	ScreenTexts map[string]string `json:"screen_texts"`
	// Profiles assigns a device or terminal profile to each device name of this node.
	Profiles map[string]string `json:"profiles"`
}

// ConfigCategory is one business category (业务类别) of the hall's queue.
type ConfigCategory struct {
	Code        string `json:"code"`   // key, e.g. "A"
	Prefix      string `json:"prefix"` // letters printed before the number, e.g. "A"
	NameZH      string `json:"name_zh"`
	NameEN      string `json:"name_en"`
	Windows     []int  `json:"windows"`             // window ids that serve it
	AvgServiceS int    `json:"avg_service_s"`       // seconds, seeds estimates
	Open        string `json:"open"`                // "08:30" hall-local; "" with Close "": always open
	Close       string `json:"close"`               // "17:30"
	DailyCap    int    `json:"daily_cap,omitempty"` // tickets a day; 0: no cap
}

// ConfigWindow is one service window and the categories it calls, in order of preference.
// The platform may name its id "id" or "number".
type ConfigWindow struct {
	ID         int      `json:"id"`
	Name       string   `json:"name,omitempty"` // e.g. "3号窗口"
	Categories []string `json:"categories"`
}

// UnmarshalJSON decodes a window strictly, taking its id from "id" or "number".
func (w *ConfigWindow) UnmarshalJSON(b []byte) error {
	var v struct {
		ID         *int     `json:"id"`
		Number     *int     `json:"number"`
		Name       string   `json:"name"`
		Categories []string `json:"categories"`
	}
	if err := pullStrict(b, &v); err != nil {
		return fmt.Errorf("window: %w", err)
	}
	switch {
	case v.ID != nil && v.Number != nil && *v.ID != *v.Number:
		return fmt.Errorf("window: id %d and number %d differ", *v.ID, *v.Number)
	case v.ID != nil:
		w.ID = *v.ID
	case v.Number != nil:
		w.ID = *v.Number
	default:
		return errors.New(`window: no "id"`)
	}
	w.Name, w.Categories = v.Name, v.Categories
	return nil
}

// OpeningHours is one line of the hall's hours: the days (e.g. "mon-fri", "sat",
// "mon,wed", "daily") and the hall-local times it opens and closes.
type OpeningHours struct {
	Days  string `json:"days"`
	Open  string `json:"open"`
	Close string `json:"close"`
}

var pullDays = map[string]int{"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}

// pullCheckDays checks a days expression: "daily", or day names and ranges joined by ','.
func pullCheckDays(s string) bool {
	if s == "daily" {
		return true
	}
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(strings.TrimSpace(part), "-")
		da, oka := pullDays[a]
		db, okb := pullDays[b]
		if !oka || (isRange && (!okb || db < da)) {
			return false
		}
	}
	return true
}

// Location is the config's time zone.
func (c NodeConfig) Location() (*time.Location, error) { return time.LoadLocation(c.Timezone) }

var (
	pullCodeRe   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,16}$`)
	pullPrefixRe = regexp.MustCompile(`^[A-Z]{1,3}$`)
	pullHHMMRe   = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// ParseNodeConfig decodes and validates a node config. Every problem is reported, each
// naming the field, so that the platform's operator can fix them in one go.
func ParseNodeConfig(data []byte) (NodeConfig, error) {
	var c NodeConfig
	if err := pullStrict(data, &c); err != nil {
		return NodeConfig{}, fmt.Errorf("config is not the contract's shape: %w", err)
	}
	if err := c.Validate(); err != nil {
		return NodeConfig{}, err
	}
	return c, nil
}

// pullStrict decodes exactly one JSON value of v's shape with no unknown fields.
func pullStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// Validate checks the config as a whole: required fields, formats, and that windows and
// categories name each other consistently.
func (c NodeConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	for i, h := range c.OpeningHours {
		f := fmt.Sprintf("opening_hours[%d]", i)
		if !pullCheckDays(h.Days) {
			bad(f+".days", "%q: use day names mon..sun, ranges and commas, e.g. \"mon-fri\" or \"sat,sun\", or \"daily\"", h.Days)
		}
		switch {
		case !pullHHMMRe.MatchString(h.Open) || !pullHHMMRe.MatchString(h.Close):
			bad(f, "%q-%q: use HH:MM for open and close, e.g. 08:30 and 17:30", h.Open, h.Close)
		case h.Open >= h.Close:
			bad(f, "opens at %s, not before it closes at %s", h.Open, h.Close)
		}
	}
	if strings.TrimSpace(c.HallName) == "" {
		bad("hall_name", "is empty")
	}
	if c.Timezone == "" {
		bad("timezone", "is empty: use an IANA name such as Asia/Shanghai")
	} else if _, err := time.LoadLocation(c.Timezone); err != nil {
		bad("timezone", "%q is not a known time zone", c.Timezone)
	}
	if len(c.Categories) == 0 {
		bad("categories", "is empty: a hall needs at least one category")
	}
	if len(c.Windows) == 0 {
		bad("windows", "is empty: a hall needs at least one window")
	}
	windows := map[int][]string{}
	for i, w := range c.Windows {
		f := fmt.Sprintf("windows[%d]", i)
		if w.ID <= 0 {
			bad(f+".id", "%d is not a window number (1, 2, ...)", w.ID)
		} else if _, dup := windows[w.ID]; dup {
			bad(f+".id", "window %d appears twice", w.ID)
		}
		windows[w.ID] = w.Categories
	}
	codes, prefixes := map[string]bool{}, map[string]string{}
	for i, cat := range c.Categories {
		f := fmt.Sprintf("categories[%d]", i)
		switch {
		case !pullCodeRe.MatchString(cat.Code):
			bad(f+".code", "%q is not a category code (1-16 letters, digits, '_' or '-')", cat.Code)
		case codes[cat.Code]:
			bad(f+".code", "%q appears twice", cat.Code)
		}
		codes[cat.Code] = true
		switch {
		case !pullPrefixRe.MatchString(cat.Prefix):
			bad(f+".prefix", "%q is not a ticket prefix (1-3 capital letters)", cat.Prefix)
		case prefixes[cat.Prefix] != "":
			// Two categories with one prefix would print the same ticket number twice.
			bad(f+".prefix", "%q is also the prefix of category %q", cat.Prefix, prefixes[cat.Prefix])
		default:
			prefixes[cat.Prefix] = cat.Code
		}
		if strings.TrimSpace(cat.NameZH) == "" {
			bad(f+".name_zh", "is empty")
		}
		if len(cat.Windows) == 0 {
			bad(f+".windows", "is empty: no window would call this category")
		}
		for _, id := range cat.Windows {
			if _, ok := windows[id]; !ok {
				bad(f+".windows", "names window %d, which is not in windows", id)
			}
		}
		if cat.DailyCap < 0 {
			bad(f+".daily_cap", "%d is negative (0 means no cap)", cat.DailyCap)
		}
		if cat.AvgServiceS <= 0 || cat.AvgServiceS > 8*3600 {
			bad(f+".avg_service_s", "%d is not a service time in seconds (1 to 28800)", cat.AvgServiceS)
		}
		switch {
		case cat.Open == "" && cat.Close == "":
		case !pullHHMMRe.MatchString(cat.Open) || !pullHHMMRe.MatchString(cat.Close):
			bad(f+".open/close", "%q-%q: use HH:MM for both, e.g. 08:30 and 17:30, or leave both empty", cat.Open, cat.Close)
		case cat.Open >= cat.Close:
			bad(f+".open/close", "opens at %s, not before it closes at %s", cat.Open, cat.Close)
		}
	}
	for i, w := range c.Windows {
		for _, code := range w.Categories {
			if !codes[code] {
				bad(fmt.Sprintf("windows[%d].categories", i), "names category %q, which is not in categories", code)
			}
		}
	}
	for k, v := range c.ScreenTexts {
		if k == "" || !utf8.ValidString(v) || utf8.RuneCountInString(v) > 2000 {
			bad("screen_texts", "key %q: keys must be non-empty and texts valid UTF-8 of at most 2000 characters", k)
		}
	}
	for dev, prof := range c.Profiles {
		if dev == "" || prof == "" {
			bad("profiles", "%q = %q: name both the device and its profile", dev, prof)
		}
	}
	return errors.Join(errs...)
}

// PullConfig fetches the node config. A new valid config is handed to OnConfig and, if it
// accepts it, stored with its ETag; changed reports that. A 304 keeps the current one. A
// config that fails validation or OnConfig is refused (a *RefusedError, health
// uplink.config_refused) and the old one stays.
func (p *Puller) PullConfig(ctx context.Context) (changed bool, err error) {
	p.pullMu[pullConfig].Lock()
	defer p.pullMu[pullConfig].Unlock()
	changed, err = p.pullConfig(ctx)
	p.pullReport(ComponentConfig, err)
	return changed, err
}

func (p *Puller) pullConfig(ctx context.Context) (bool, error) {
	r, err := p.pullFresh(ctx, "config", "/v1/nodes/"+url.PathEscape(p.c.Client.Node)+"/config")
	if r == nil || err != nil {
		return false, err
	}
	cfg, err := ParseNodeConfig(r.Body)
	if err != nil {
		return false, &RefusedError{What: "config", Err: err}
	}
	if p.c.OnConfig != nil {
		if err := p.c.OnConfig(cfg); err != nil {
			return false, &RefusedError{What: "config", Err: fmt.Errorf("applying it failed: %w", err)}
		}
	}
	err = p.c.DB.Write(ctx, func(tx *store.Tx) error {
		return pullSave(tx, "config", r.Header.Get("ETag"), r.Body, p.clk.Now())
	})
	if err != nil {
		// Applied but not stored: the next pull sends the old ETag, gets it again and
		// applies it again, which is harmless.
		return true, fmt.Errorf("uplink: storing the new config: %w", err)
	}
	p.log.Info("uplink: applied a new node config", "hall_name", cfg.HallName,
		"categories", len(cfg.Categories), "windows", len(cfg.Windows), "etag", r.Header.Get("ETag"))
	return true, nil
}

// Config returns the stored node config: the last one applied. ok is false before the
// first one arrives. kioskd applies it at start, before the first pull.
func (p *Puller) Config(ctx context.Context) (cfg NodeConfig, ok bool, err error) {
	s, ok, err := p.pullLoad(ctx, "config")
	if err != nil || !ok {
		return NodeConfig{}, false, err
	}
	cfg, err = ParseNodeConfig(s.Body)
	if err != nil {
		return NodeConfig{}, false, fmt.Errorf("uplink: the stored config no longer validates: %w", err)
	}
	return cfg, true, nil
}
