package queue

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Category is a kind of business (业务类别) with its own numbers and windows.
type Category struct {
	Code       string // key used in requests and events, e.g. "A"
	Prefix     string // one capital letter printed before the number
	NameZH     string
	NameEN     string
	RangeFrom  int // first number of the day; 0 with RangeTo 0 means 1..999
	RangeTo    int // last number of the day (inclusive)
	Windows    []int
	AvgService time.Duration // seeds estimates before anyone was served today; 0 means 5 minutes
	DailyCap   int           // tickets per day; 0 means no cap
	Open       string        // "08:30" hall-local; empty means always open
	Close      string        // "17:30" hall-local; issuing stops at this minute
}

// Policy is how one window chooses whom to call.
type Policy struct {
	// Categories the window serves. Empty means: the categories whose Windows name it.
	Categories []string
	// Weights per category for smooth weighted round robin between categories that have
	// someone waiting. Empty means no round robin: the best ticket across all categories.
	Weights map[string]int
}

// Window is a service window (窗口).
type Window struct {
	ID     int
	Policy Policy
}

// Config is the hall's queue configuration.
type Config struct {
	Categories []Category
	Windows    []Window
	MaxRecalls int           // recalls after the first call before no_show; 0 means 3
	LongWait   time.Duration // anyone waiting longer is called first; 0 disables
	Location   *time.Location
}

const (
	defaultMaxRecalls = 3
	defaultAvgService = 5 * time.Minute
)

// withDefaults returns a copy with zero values replaced (Caddy's Provision step).
func (c Config) withDefaults() Config {
	if c.MaxRecalls == 0 {
		c.MaxRecalls = defaultMaxRecalls
	}
	if c.Location == nil {
		c.Location = hallZone()
	}
	cats := make([]Category, len(c.Categories))
	copy(cats, c.Categories)
	for i := range cats {
		if cats[i].RangeFrom == 0 && cats[i].RangeTo == 0 {
			cats[i].RangeFrom, cats[i].RangeTo = 1, 999
		}
		if cats[i].AvgService == 0 {
			cats[i].AvgService = defaultAvgService
		}
	}
	c.Categories = cats
	return c
}

// hallZone is Asia/Shanghai, or UTC+8 where the system has no zone database: China has
// kept a fixed +08:00 without daylight saving since 1991, so business dates agree.
func hallZone() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// Validate reports every problem in c (after defaults), each naming the field and the fix.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("queue: config: "+format, args...))
	}
	if len(c.Categories) == 0 {
		bad("Categories is empty: configure at least one category, e.g. {Code: \"A\", Prefix: \"A\"}")
	}
	if c.MaxRecalls < 0 {
		bad("MaxRecalls is %d: use 0 for the default of %d, or a positive number", c.MaxRecalls, defaultMaxRecalls)
	}
	if c.LongWait < 0 {
		bad("LongWait is %v: use 0 to disable, or a positive duration such as 30*time.Minute", c.LongWait)
	}
	windows := map[int]*Window{}
	for i := range c.Windows {
		w := &c.Windows[i]
		if w.ID <= 0 {
			bad("Windows[%d].ID is %d: window ids are positive numbers as shown above the window", i, w.ID)
		}
		if windows[w.ID] != nil {
			bad("Windows[%d].ID %d appears twice: give each window its own id", i, w.ID)
		}
		windows[w.ID] = w
	}
	codes := map[string]bool{}
	for i, cat := range c.Categories {
		name := fmt.Sprintf("Categories[%d] (%q)", i, cat.Code)
		if cat.Code == "" || strings.ContainsAny(cat.Code, " ,") {
			bad("%s.Code %q: set a short code without spaces or commas, e.g. \"A\"", name, cat.Code)
		}
		if codes[cat.Code] {
			bad("%s.Code appears twice: category codes must be unique", name)
		}
		codes[cat.Code] = true
		if len(cat.Prefix) != 1 || cat.Prefix[0] < 'A' || cat.Prefix[0] > 'Z' {
			bad("%s.Prefix %q: set one capital letter A-Z", name, cat.Prefix)
		}
		if cat.RangeFrom < 1 || cat.RangeTo < cat.RangeFrom || cat.RangeTo > 9999 {
			bad("%s range %d..%d: set 1 <= RangeFrom <= RangeTo <= 9999, or both 0 for 1..999", name, cat.RangeFrom, cat.RangeTo)
		}
		if cat.AvgService < 0 {
			bad("%s.AvgService is %v: set a positive duration, or 0 for %v", name, cat.AvgService, defaultAvgService)
		}
		if cat.DailyCap < 0 {
			bad("%s.DailyCap is %d: set 0 for no cap, or a positive number", name, cat.DailyCap)
		}
		open, errO := parseClock(cat.Open)
		closeAt, errC := parseClock(cat.Close)
		switch {
		case errO != nil:
			bad("%s.Open %q: write the hall-local time as \"08:30\", or leave empty for always open", name, cat.Open)
		case errC != nil:
			bad("%s.Close %q: write the hall-local time as \"17:30\", or leave empty for always open", name, cat.Close)
		case (cat.Open == "") != (cat.Close == ""):
			bad("%s: set both Open and Close, or neither", name)
		case cat.Open != "" && open >= closeAt:
			bad("%s: Open %s is not before Close %s: opening hours may not cross midnight", name, cat.Open, cat.Close)
		}
		for _, id := range cat.Windows {
			if windows[id] == nil {
				bad("%s.Windows names window %d, which is not in Windows: add {ID: %d} to Windows or remove it here", name, id, id)
			}
		}
	}
	// Categories that share a prefix must not share numbers, or "A023" would be ambiguous.
	for i, a := range c.Categories {
		for _, b := range c.Categories[i+1:] {
			if a.Prefix == b.Prefix && a.RangeFrom <= b.RangeTo && b.RangeFrom <= a.RangeTo {
				bad("Categories %q and %q share prefix %q and their ranges %d..%d and %d..%d overlap: give them disjoint ranges or different prefixes",
					a.Code, b.Code, a.Prefix, a.RangeFrom, a.RangeTo, b.RangeFrom, b.RangeTo)
			}
		}
	}
	for i, w := range c.Windows {
		for _, code := range w.Policy.Categories {
			if !codes[code] {
				bad("Windows[%d] (window %d).Policy.Categories names unknown category %q: use one of the Categories' codes", i, w.ID, code)
			}
		}
		for code, wt := range w.Policy.Weights {
			if !codes[code] {
				bad("Windows[%d] (window %d).Policy.Weights names unknown category %q: use one of the Categories' codes", i, w.ID, code)
			}
			if wt < 0 {
				bad("Windows[%d] (window %d).Policy.Weights[%q] is %d: weights are 0 (never by rotation) or positive", i, w.ID, code, wt)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	served := servedBy(c)
	for i, w := range c.Windows {
		for code := range w.Policy.Weights {
			if !slices.Contains(served[w.ID], code) {
				bad("Windows[%d] (window %d).Policy.Weights names %q, which the window does not serve (%q): add it to Policy.Categories or drop the weight", i, w.ID, code, served[w.ID])
			}
		}
	}
	for _, cat := range c.Categories {
		n := 0
		for _, cats := range served {
			for _, code := range cats {
				if code == cat.Code {
					n++
				}
			}
		}
		if n == 0 {
			bad("category %q is served by no window: list a window in its Windows or in a window's Policy.Categories", cat.Code)
		}
	}
	return errors.Join(errs...)
}

// servedBy maps each window to the categories it calls, in the configured order: its
// Policy.Categories if set, else every category whose Windows name it.
func servedBy(c Config) map[int][]string {
	m := map[int][]string{}
	for _, w := range c.Windows {
		if len(w.Policy.Categories) > 0 {
			m[w.ID] = append([]string(nil), w.Policy.Categories...)
			continue
		}
		m[w.ID] = nil
		for _, cat := range c.Categories {
			for _, id := range cat.Windows {
				if id == w.ID {
					m[w.ID] = append(m[w.ID], cat.Code)
				}
			}
		}
	}
	return m
}

// parseClock turns "08:30" into minutes after midnight; "" is 0.
func parseClock(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}
