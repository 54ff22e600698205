package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/devices/idcard"
	"github.com/hallkiosk/hallkiosk/devices/idcard/idcardsim"
	profiles "github.com/hallkiosk/hallkiosk/firmware-profiles"
	"github.com/hallkiosk/hallkiosk/internal/config"
	"github.com/hallkiosk/hallkiosk/web"
)

// deviceSpecs turns the configured devices into start-up specs, and returns the metrics
// of the drivers it built.
func (n *node) deviceSpecs(ctx context.Context) ([]devices.Spec, []web.MetricsFunc) {
	var specs []devices.Spec
	var metrics []web.MetricsFunc
	for _, d := range n.cfg.Devices {
		d := d
		p, err := n.profiles.Get(d.Profile)
		if err == nil {
			p, err = p.Apply(d.Override)
		}
		spec := devices.Spec{Name: d.Name, Kind: p.Driver}
		if !d.IsEnabled() {
			spec.Skip = "disabled in config"
		}
		switch {
		case err != nil:
			spec.Build = func() (devices.Device, error) { return nil, err }
		case p.Driver == "idcard":
			cfg := idcard.Config{Name: d.Name, Port: d.Port, Baud: p.Transport.Baud,
				ReadTimeout: p.Transport.ReadTimeout.Std(), PollInterval: p.Timing.PollInterval.Std(),
				CommandTimeout: p.Timing.CommandTimeout.Std(), ReadFingerprint: p.Quirks.ReadFingerprint}
			r := idcard.NewReader(cfg, nil, n.health, n.log, n.clock)
			metrics = append(metrics, idcardMetrics(r))
			spec.Build = func() (devices.Device, error) {
				go n.consumeCards(ctx, r)
				return r, nil
			}
		default:
			spec.Build = func() (devices.Device, error) {
				return nil, fmt.Errorf("driver %q is not supported by this build", p.Driver)
			}
		}
		specs = append(specs, spec)
	}
	return specs, metrics
}

// consumeCards stands in for the citizen session until the kiosk flows exist: it logs each
// card (masked) and wipes it at once, so no personal data outlives the event.
func (n *node) consumeCards(ctx context.Context, r *idcard.Reader) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.Events():
			switch ev := ev.(type) {
			case idcard.CardPresented:
				n.log.Info("card presented", "device", r.String(), "card", ev.Card)
				ev.Card.Wipe()
			case idcard.CardRemoved:
				n.log.Info("card removed", "device", r.String())
			case idcard.CardReadFailed:
				n.log.Warn("card could not be read; place it again", "device", r.String(), "err", ev.Err)
			}
		}
	}
}

func idcardMetrics(r *idcard.Reader) web.MetricsFunc {
	return func(w io.Writer) {
		s := r.Stats()
		name := r.String()
		fmt.Fprintf(w, "# HELP hallkiosk_idcard_reads_total Cards read successfully.\n# TYPE hallkiosk_idcard_reads_total counter\n")
		fmt.Fprintf(w, "hallkiosk_idcard_reads_total{device=%q} %d\n", name, s.Reads)
		fmt.Fprintf(w, "# HELP hallkiosk_idcard_read_errors_total Cards found but not read.\n# TYPE hallkiosk_idcard_read_errors_total counter\n")
		fmt.Fprintf(w, "hallkiosk_idcard_read_errors_total{device=%q} %d\n", name, s.ReadErrors)
		fmt.Fprintf(w, "# HELP hallkiosk_idcard_frame_errors_total Corrupt frames from the reader.\n# TYPE hallkiosk_idcard_frame_errors_total counter\n")
		fmt.Fprintf(w, "hallkiosk_idcard_frame_errors_total{device=%q} %d\n", name, s.FrameErrors)
	}
}

// simulators are the in-process device simulators of kioskd -sim.
type simulators struct {
	idcard map[string]*idcardsim.Sim
	lns    []net.Listener
}

// startSimulators starts a simulator for every configured device it can simulate and
// points the device's port at the simulator's pty link under sim.dir.
func startSimulators(cfg *config.Config, set *profiles.Set, log *slog.Logger) (*simulators, error) {
	s := &simulators{idcard: map[string]*idcardsim.Sim{}}
	if err := os.MkdirAll(cfg.Sim.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("sim.dir: %w", err)
	}
	for i, d := range cfg.Devices {
		p, err := set.Get(d.Profile)
		if err != nil || p.Driver != "idcard" {
			continue
		}
		cards, err := idcardsim.DefaultCards()
		if cfg.Sim.Cards != "" {
			cards, err = idcardsim.LoadCards(cfg.Sim.Cards)
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		link := filepath.Join(cfg.Sim.Dir, d.Name)
		sim := idcardsim.New(idcardsim.Config{Link: link, Baud: cfg.Sim.Baud, Cards: cards, Log: log})
		if err := sim.Start(); err != nil {
			s.Close()
			return nil, err
		}
		s.idcard[d.Name] = sim
		ctl := link + ".ctl"
		os.Remove(ctl)
		ln, err := net.Listen("unix", ctl)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sim control socket: %w", err)
		}
		s.lns = append(s.lns, ln)
		go sim.ServeControl(ln)
		cfg.Devices[i].Port = link
		log.Info("simulated ID-card reader", "device", d.Name, "link", link, "control", ctl)
	}
	return s, nil
}

func (s *simulators) controls() map[string]func(string) string {
	m := map[string]func(string) string{}
	for name, sim := range s.idcard {
		m[name] = sim.Exec
	}
	return m
}

func (s *simulators) Close() {
	for _, ln := range s.lns {
		ln.Close()
	}
	for _, sim := range s.idcard {
		sim.Close()
	}
}
