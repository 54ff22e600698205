package main

import (
	"context"
	"errors"
	"sync"

	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/kiosk/uplink"
)

// healthTelemetry sends every health transition to the platform as device.health
// (UPLINK.md: device, state, code, message) until ctx ends, starting with the state of every
// component now. Transitions that come faster than they are written are coalesced to the
// latest per component, as the outbox's compaction would keep them anyway.
func (n *node) healthTelemetry(ctx context.Context, s *uplink.Sender) {
	var mu sync.Mutex
	pending := map[string]health.Status{}
	wake := make(chan struct{}, 1)
	put := func(st health.Status) {
		mu.Lock()
		pending[st.Component] = st
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	cancel := n.health.Subscribe(put)
	defer cancel()
	for _, st := range n.health.All() {
		put(st)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		mu.Lock()
		batch := pending
		pending = map[string]health.Status{}
		mu.Unlock()
		for _, st := range batch {
			err := s.AppendTelemetry(ctx, "device.health", map[string]any{"device": st.Component, "state": string(st.State),
				"code": st.Code, "message": st.Message})
			if err != nil && !errors.Is(err, uplink.ErrDiskLow) && ctx.Err() == nil {
				n.log.Warn("uplink: recording device.health", "component", st.Component, "err", err)
			}
		}
	}
}
