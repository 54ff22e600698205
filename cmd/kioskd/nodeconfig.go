package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/config"
	"github.com/hallkiosk/hallkiosk/kiosk/uplink"
)

// The platform owns a hall's categories and windows (UPLINK.md: GET /v1/nodes/{node}/config).
// The puller validates and stores what it sends; kioskd builds its queue and screens from the
// stored copy at start, so a new config applies whole at the next start or not at all (a bad
// one is refused by the puller and the stored one stays). Until the platform has sent one,
// the TOML [queue] section is used.

// platformConfigWait bounds how long start-up waits for a first pull of the node config.
const platformConfigWait = 3 * time.Second

// applyPlatformConfig replaces the hall name and [queue] of n.cfg by the platform's stored
// node config, when there is one and it makes a valid queue.
func (n *node) applyPlatformConfig(ctx context.Context, l *link) {
	_, p, _ := l.current()
	if p == nil {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, platformConfigWait)
	n.configStarting.Store(true) // what this pull brings applies now, not at the next start
	p.PullConfig(pctx)           // refusals and failures are reported by the puller; the stored copy counts
	n.configStarting.Store(false)
	cancel()
	nc, ok, err := p.Config(ctx)
	if err != nil || !ok {
		return
	}
	q, err := n.platformQueue(nc)
	if err != nil {
		n.log.Warn("the platform's node config makes no valid queue; keeping the local [queue]", "err", err)
		return
	}
	n.cfg.Queue.Categories, n.cfg.Queue.Windows = q.Categories, q.Windows
	if nc.HallName != "" {
		n.cfg.Node.HallName = nc.HallName
	}
	n.appliedConfig.Store(&nc)
	n.configPending.Store(false)
	n.log.Info("hall configuration from the platform", "hall_name", n.cfg.Node.HallName, "categories", len(q.Categories), "windows", len(q.Windows))
}

// platformQueue is the [queue] categories and windows of a node config, checked the way
// kioskd -check checks the TOML ones.
func (n *node) platformQueue(nc uplink.NodeConfig) (config.Queue, error) {
	q := queueFromPlatform(nc)
	trial := *n.cfg
	trial.Queue.Categories, trial.Queue.Windows = q.Categories, q.Windows
	if _, err := queueConfig(&trial); err != nil {
		return config.Queue{}, fmt.Errorf("it makes no valid queue: %w", err)
	}
	return q, nil
}

func queueFromPlatform(nc uplink.NodeConfig) config.Queue {
	var q config.Queue
	for _, c := range nc.Categories {
		qc := config.QueueCategory{Code: c.Code, Prefix: c.Prefix, NameZH: c.NameZH, NameEN: c.NameEN, Windows: c.Windows,
			DailyCap: c.DailyCap, Open: c.Open, Close: c.Close}
		if c.AvgServiceS > 0 {
			qc.AvgService = (time.Duration(c.AvgServiceS) * time.Second).String()
		}
		q.Categories = append(q.Categories, qc)
	}
	for _, w := range nc.Windows {
		q.Windows = append(q.Windows, config.QueueWindow{ID: w.ID, Categories: w.Categories})
	}
	return q
}

// platformConfigOf is the node config the embedded platform serves in -sim: this node's own
// hall, so that the demonstration's queue is the one its config describes.
func platformConfigOf(c *config.Config) ([]byte, error) {
	qc, err := queueConfig(c)
	if err != nil {
		return nil, err
	}
	nc := uplink.NodeConfig{Hall: c.Node.Hall, HallName: c.Node.HallName, Timezone: c.Node.Timezone,
		ScreenTexts: map[string]string{}, Profiles: map[string]string{}}
	for _, cat := range qc.Categories {
		nc.Categories = append(nc.Categories, uplink.ConfigCategory{Code: cat.Code, Prefix: cat.Prefix, NameZH: cat.NameZH,
			NameEN: cat.NameEN, Windows: cat.Windows, AvgServiceS: int(cat.AvgService / time.Second), Open: cat.Open,
			Close: cat.Close, DailyCap: cat.DailyCap})
	}
	for _, w := range qc.Windows {
		nc.Windows = append(nc.Windows, uplink.ConfigWindow{ID: w.ID, Categories: w.Policy.Categories})
	}
	for _, d := range c.Devices {
		nc.Profiles[d.Name] = d.Profile
	}
	if err := nc.Validate(); err != nil {
		return nil, fmt.Errorf("the node's own config is not a valid platform node config: %w", err)
	}
	return json.Marshal(nc)
}
