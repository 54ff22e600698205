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
	"slices"
	"strconv"
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
	return q, q.Validate()
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
	tokens, err := loadTokens(n.cfg.Hall.TokensFile, qcfg.Windows)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", n.cfg.Hall.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("hall.listen %s: %w", n.cfg.Hall.Listen, err)
	}
	api = &hall.API{Queue: q, Tokens: tokens, Hub: &hall.Hub{}, HallName: n.cfg.Node.HallName, Speaker: &voice.Speaker{}}
	srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	n.log.Info("hall LAN API", "url", base+"/hall/v1/", "display", base+"/hall/display", "console", base+"/hall/console?window=1", "tokens", n.cfg.Hall.TokensFile,
		"categories", len(qcfg.Categories), "windows", len(qcfg.Windows))
	return api, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// dispenser is the ticket dispenser of a standalone node: this node's queue and its first
// enabled ticket printer. A terminal-only node (queue on another machine) has none yet.
func (n *node) dispenser(api *hall.API) (*kiosk.Dispenser, []string) {
	if api == nil || !slices.Contains(n.cfg.Node.Roles, "terminal") {
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
			names[c.Code] = c.NameZH
			codes = append(codes, c.Code)
		}
		return &kiosk.Dispenser{Queue: api, Printer: p, Layout: layout, HallName: n.cfg.Node.HallName, Names: names,
			Footer: "请留意叫号 Please wait for your number", Location: n.cfg.Location(), Log: n.log}, codes
	}
	return nil, nil
}
