package devices

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

// Device is a running device driver.
type Device interface {
	// String names the device for logs and health (the config's device name).
	String() string
	// Run drives the device until ctx ends. It recovers from transport faults itself and
	// returns nil on a clean stop; an error return means the driver gave up and the
	// supervisor will restart it.
	Run(ctx context.Context) error
	// Halt releases the device's resources. It is safe to call after a failed or partial start.
	Halt() error
}

// Spec describes one configured device for Start.
type Spec struct {
	Name string // config name, e.g. "idcard"
	Kind string // driver name, e.g. "idcard"
	// Skip, when not empty, says why the device is not started (disabled in config, no
	// GPIO on this machine...). It is reported, not treated as a fault.
	Skip string
	// Build makes the device; it must not do I/O that can block.
	Build func() (Device, error)
}

// Outcome is what happened to one Spec at start-up.
type Outcome struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Reason string `json:"reason,omitempty"`
}

// Report lists what loaded, what was skipped and what failed at start-up.
type Report struct {
	Loaded  []Outcome `json:"loaded"`
	Skipped []Outcome `json:"skipped"`
	Failed  []Outcome `json:"failed"`
}

func (r Report) String() string {
	names := func(os []Outcome) string {
		var s []string
		for _, o := range os {
			if o.Reason != "" {
				s = append(s, o.Name+" ("+o.Reason+")")
			} else {
				s = append(s, o.Name)
			}
		}
		if len(s) == 0 {
			return "none"
		}
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("loaded: %s; skipped: %s; failed: %s", names(r.Loaded), names(r.Skipped), names(r.Failed))
}

// Manager starts devices, supervises their Run loops and halts them.
type Manager struct {
	log    *slog.Logger
	health health.Reporter
	clock  clock.Clock

	mu      sync.Mutex
	devices map[string]Device
	wg      sync.WaitGroup
}

// NewManager returns a manager; it starts nothing.
func NewManager(log *slog.Logger, rep health.Reporter, clk clock.Clock) *Manager {
	return &Manager{log: log, health: rep, clock: clk, devices: map[string]Device{}}
}

// Start builds every spec and runs each built device under supervision until ctx ends.
// It never fails as a whole: a device that cannot be built is reported failed and down.
func (m *Manager) Start(ctx context.Context, specs []Spec) Report {
	var rep Report
	for _, s := range specs {
		o := Outcome{Name: s.Name, Kind: s.Kind}
		if s.Skip != "" {
			o.Reason = s.Skip
			rep.Skipped = append(rep.Skipped, o)
			m.health.Report(s.Name, health.Skipped, s.Kind+".skipped", s.Skip)
			continue
		}
		d, err := s.Build()
		if err != nil {
			o.Reason = err.Error()
			rep.Failed = append(rep.Failed, o)
			m.health.Report(s.Name, health.Down, s.Kind+".failed", err.Error())
			m.log.Error("device failed to start", "device", s.Name, "kind", s.Kind, "err", err)
			continue
		}
		m.mu.Lock()
		m.devices[s.Name] = d
		m.mu.Unlock()
		rep.Loaded = append(rep.Loaded, o)
		m.wg.Add(1)
		go m.supervise(ctx, s, d)
	}
	sort.Slice(rep.Loaded, func(i, j int) bool { return rep.Loaded[i].Name < rep.Loaded[j].Name })
	m.log.Info("devices started", "loaded", len(rep.Loaded), "skipped", len(rep.Skipped), "failed", len(rep.Failed), "report", rep.String())
	return rep
}

// supervise restarts a driver whose Run gave up, with capped backoff, until ctx ends.
func (m *Manager) supervise(ctx context.Context, s Spec, d Device) {
	defer m.wg.Done()
	b := Backoff{Base: time.Second, Cap: time.Minute}
	for {
		start := m.clock.Now()
		err := runSafely(ctx, d)
		if ctx.Err() != nil {
			return
		}
		if m.clock.Now().Sub(start) > 5*time.Minute {
			b.Reset()
		}
		wait := b.Next()
		m.health.Report(s.Name, health.Down, s.Kind+".crashed", fmt.Sprintf("driver stopped: %v; restarting in %s", err, wait.Round(time.Millisecond)))
		m.log.Error("device driver stopped; restarting", "device", s.Name, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-m.clock.After(wait):
		}
	}
}

// runSafely turns a driver panic into an error so one bad driver cannot kill the daemon.
func runSafely(ctx context.Context, d Device) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return d.Run(ctx)
}

// Device returns a started device by name.
func (m *Manager) Device(name string) (Device, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.devices[name]
	return d, ok
}

// Wait blocks until every Run loop has returned (after ctx ends), then halts every device.
func (m *Manager) Wait() {
	m.wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, d := range m.devices {
		if err := d.Halt(); err != nil {
			m.log.Warn("device halt", "device", name, "err", err)
		}
	}
}
