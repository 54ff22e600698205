package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/internal/config"
	"github.com/hallkiosk/hallkiosk/internal/voice"
	"github.com/hallkiosk/hallkiosk/kiosk"
	"github.com/hallkiosk/hallkiosk/queue"
	"github.com/hallkiosk/hallkiosk/web/hall"
)

// queueConfig turns the [queue] section into the engine's configuration.
func queueConfig(c *config.Config) (queue.Config, error) {
	q := queue.Config{MaxRecalls: c.Queue.MaxRecalls, Location: c.Location()}
	var err error
	if q.LongWait, err = time.ParseDuration(c.Queue.LongWait); err != nil {
		return q, fmt.Errorf("queue.long_wait: %w", err)
	}
	windows := map[int]bool{}
	for _, cat := range c.Queue.Categories {
		qc := queue.Category{Code: cat.Code, Prefix: cat.Prefix, NameZH: cat.NameZH, NameEN: cat.NameEN,
			Windows: cat.Windows, DailyCap: cat.DailyCap, Open: cat.Open, Close: cat.Close}
		if len(cat.Range) == 2 {
			qc.RangeFrom, qc.RangeTo = cat.Range[0], cat.Range[1]
		}
		if cat.AvgService != "" {
			qc.AvgService, _ = time.ParseDuration(cat.AvgService) // checked by config.Validate
		}
		for _, w := range cat.Windows {
			windows[w] = true
		}
		q.Categories = append(q.Categories, qc)
	}
	for _, w := range c.Queue.Windows {
		q.Windows = append(q.Windows, queue.Window{ID: w.ID, Policy: queue.Policy{Categories: w.Categories, Weights: w.Weights}})
		delete(windows, w.ID)
	}
	// Windows named only by categories get the default policy.
	var rest []int
	for w := range windows {
		rest = append(rest, w)
	}
	slices.Sort(rest)
	for _, w := range rest {
		q.Windows = append(q.Windows, queue.Window{ID: w})
	}
	if err := q.Validate(); err != nil {
		return q, errors.New(configKeys(err.Error()))
	}
	return q, nil
}

// The engine names its fields as Go does (Categories[0].Windows); a technician edits TOML
// (queue.category[0].windows). configKeys rewrites one into the other.
var (
	configKeyRes = []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`add \{ID: (\d+)\} to Windows or remove it here`), `add a [[queue.window]] with id = $1 or remove it here`},
		{regexp.MustCompile(`Categories is empty: configure at least one category, e\.g\. \{Code: "A", Prefix: "A"\}`), `no [[queue.category]]: configure at least one, e.g. code = "A"`},
		{regexp.MustCompile(`\b(\d+)\*time\.Minute`), `"${1}m"`},
	}
	configKeyWords = strings.NewReplacer(
		"Categories[", "queue.category[", "Windows[", "queue.window[",
		".Policy.Categories", ".categories", ".Policy.Weights", ".weights", "Policy.Categories", "categories",
		".Code", ".code", ".Prefix", ".prefix", ".AvgService", ".avg_service", ".DailyCap", ".daily_cap",
		".Open", ".open", ".Close", ".close", ".Windows", ".windows", ".ID", ".id", " range ", ".range ",
		"MaxRecalls", "queue.max_recalls", "LongWait", "queue.long_wait",
		"RangeFrom <= RangeTo <= 9999, or both 0 for 1..999", "range = [first, last] with 1 <= first <= last <= 9999, or leave it out for 1..999",
		"in its Windows or in a window's categories", "in its windows or in a [[queue.window]]'s categories",
		"the Categories' codes", "the [[queue.category]] codes", "Categories \"", "categories \"",
		"both Open and Close", "both open and close", ": Open ", ": open ", " before Close ", " before close ",
	)
)

func configKeys(msg string) string {
	for _, r := range configKeyRes {
		msg = r.re.ReplaceAllString(msg, r.with)
	}
	return configKeyWords.Replace(msg)
}

// tokensFile is the JSON of hall.tokens_file.
type tokensFile struct {
	Terminal []string          `json:"terminal"`
	Manager  []string          `json:"manager"`
	Windows  map[string]string `json:"windows"`
}

func newToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// loadTokens reads the hall API's tokens, making the file (mode 0600, written atomically)
// with fresh random tokens when it does not exist, and adding tokens for new windows.
func loadTokens(path string, windows []queue.Window) (hall.Tokens, error) {
	var f tokensFile
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		f = tokensFile{Terminal: []string{newToken()}, Manager: []string{newToken()}}
	case err != nil:
		return hall.Tokens{}, fmt.Errorf("hall.tokens_file: %w", err)
	default:
		if err := json.Unmarshal(b, &f); err != nil {
			return hall.Tokens{}, fmt.Errorf("hall.tokens_file %s: %w", path, err)
		}
	}
	if f.Windows == nil {
		f.Windows = map[string]string{}
	}
	changed := err != nil
	t := hall.Tokens{Terminal: f.Terminal, Manager: f.Manager, Windows: map[int]string{}}
	for _, w := range windows {
		key := strconv.Itoa(w.ID)
		if f.Windows[key] == "" {
			f.Windows[key] = newToken()
			changed = true
		}
		t.Windows[w.ID] = f.Windows[key]
	}
	if changed {
		out, _ := json.MarshalIndent(f, "", "  ")
		if err := writeFileAtomic(path, out, 0o600); err != nil {
			return hall.Tokens{}, fmt.Errorf("hall.tokens_file: %w", err)
		}
	}
	return t, nil
}

// writeFileAtomic writes via a synced temporary file and a rename, so a power cut leaves
// the old file or the new one, never half of one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// startHall starts the queue and the hall LAN API when this node has the hall role.
func (n *node) startHall() (api *hall.API, stop func(), err error) {
	if !slices.Contains(n.cfg.Node.Roles, "hall") {
		return nil, func() {}, nil
	}
	qcfg, err := queueConfig(n.cfg)
	if err != nil {
		return nil, nil, err
	}
	q, err := queue.New(n.db, qcfg, n.clock)
	if err != nil {
		return nil, nil, err
	}
	// Yesterday's open tickets end now if the node was off at midnight, later at each midnight.
	if k, err := q.EndDay(context.Background()); err != nil {
		return nil, nil, fmt.Errorf("queue: ending the previous business day: %w", err)
	} else if k > 0 {
		n.log.Info("queue: ended the previous business day's open tickets", "tickets", k)
	}
	ended := q.NextDay(n.clock.Now())
	tokens, err := loadTokens(n.cfg.Hall.TokensFile, qcfg.Windows)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", n.cfg.Hall.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("hall.listen %s: %w", n.cfg.Hall.Listen, err)
	}
	api = &hall.API{Queue: q, Tokens: tokens, Hub: &hall.Hub{}, HallName: n.cfg.Node.HallName, Speaker: &voice.Speaker{},
		ShowNames: n.cfg.Hall.ShowMaskedName}
	srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	dayCtx, stopDays := context.WithCancel(context.Background())
	go n.endDays(dayCtx, q, api.Hub, ended)
	base := "http://" + ln.Addr().String()
	n.log.Info("hall LAN API", "url", base+"/hall/v1/", "display", base+"/hall/display", "console", base+"/hall/console?window=1", "tokens", n.cfg.Hall.TokensFile,
		"categories", len(qcfg.Categories), "windows", len(qcfg.Windows))
	return api, func() {
		stopDays()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// endDayCheck is how often endDays looks at the wall clock: a clock that steps (NTP after a
// boot without a real-time clock) is followed within this long.
const endDayCheck = time.Minute

// endDays runs EndDay at every hall-local midnight: the hall reset at end of day. It looks at
// the wall clock at least every endDayCheck and ends the day whenever the business day is
// not the one it last ended at, never trusting one long timer: timers run on the monotonic
// clock, and a wall clock that steps after start would move midnight away from the timer.
//
// ended is the next midnight as of the last EndDay (the one at start-up); zero runs EndDay
// at once.
func (n *node) endDays(ctx context.Context, q *queue.Queue, hub *hall.Hub, ended time.Time) {
	for {
		now := n.clock.Now()
		if next := q.NextDay(now); !next.Equal(ended) {
			ended = next
			k, err := q.EndDay(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				n.log.Error("queue: end of day", "err", err)
				ended = time.Time{} // try again at the next check
			case k > 0:
				n.log.Info("queue: business day ended; open tickets reset", "tickets", k)
				hub.Publish(hall.Event{Type: "reset"})
			}
		}
		wait := endDayCheck
		if !ended.IsZero() {
			wait = max(min(ended.Sub(now), endDayCheck), time.Millisecond)
		}
		select {
		case <-ctx.Done():
			return
		case <-n.clock.After(wait):
		}
	}
}

// issuer is where this terminal takes tickets: the queue in this process (hall role), or
// the hall node named by hall.url over the LAN.
func (n *node) issuer(api *hall.API) (kiosk.Issuer, error) {
	if api != nil {
		return api, nil
	}
	if n.cfg.Hall.URL == "" {
		return nil, nil
	}
	b, err := os.ReadFile(n.cfg.Hall.TerminalTokenFile)
	if err != nil {
		return nil, fmt.Errorf("hall.terminal_token_file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return nil, fmt.Errorf("hall.terminal_token_file %s is empty: put a terminal token of the hall node in it", n.cfg.Hall.TerminalTokenFile)
	}
	n.log.Info("queue on the hall node", "url", n.cfg.Hall.URL)
	return &hall.Client{Base: n.cfg.Hall.URL, Token: tok}, nil
}

// dispenser is the ticket dispenser of a terminal: its queue (see issuer) and its first
// enabled ticket printer.
func (n *node) dispenser(q kiosk.Issuer) (*kiosk.Dispenser, []string) {
	if q == nil || !slices.Contains(n.cfg.Node.Roles, "terminal") {
		return nil, nil
	}
	for _, d := range n.cfg.Devices {
		p, ok := n.printers[d.Name]
		if !ok {
			continue
		}
		layout := escpos.Layout{Paper: escpos.Paper80}
		if prof, err := n.profiles.Get(d.Profile); err == nil {
			layout = ticketLayout(prof)
		}
		names := map[string]string{}
		var codes []string
		for _, c := range n.cfg.Queue.Categories {
			// The paper serves whoever takes it: both names, as the ticket layout has them.
			names[c.Code] = strings.TrimSpace(c.NameZH + " " + c.NameEN)
			codes = append(codes, c.Code)
		}
		return &kiosk.Dispenser{Queue: q, Printer: p, Layout: layout, HallName: n.cfg.Node.HallName, Names: names,
			Footer: "请留意叫号 Please wait for your number", Location: n.cfg.Location(), Log: n.log}, codes
	}
	return nil, nil
}
