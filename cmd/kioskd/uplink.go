package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/platformsim"
	"github.com/hallkiosk/hallkiosk/kiosk"
	"github.com/hallkiosk/hallkiosk/kiosk/uplink"
	"github.com/hallkiosk/hallkiosk/web"
)

// link is the node's uplink: the senders draining the outbox and the pullers, for the
// platform the node is enrolled with. Enrolling again replaces it (events still in the
// outbox go to the new platform).
type link struct {
	n  *node
	mu sync.Mutex
	// Set while enrolled:
	platform string
	sender   *uplink.Sender
	puller   *uplink.Puller
	stop     func()
}

// startUplink starts the uplink if the node is enrolled; in -sim mode it first starts the
// embedded reference platform and enrols with it.
func (n *node) startUplink(ctx context.Context, l *link) (func(), error) {
	var stopSim func()
	if n.sim && n.cfg.Sim.Platform != "off" {
		url, stop, err := n.startPlatformSim(ctx)
		if err != nil {
			return nil, err
		}
		stopSim = stop
		if _, platform, err := uplink.LoadEnrolment(n.cfg.Uplink.EnrolmentFile); err == nil && platform != url {
			// A technician enrolled this node elsewhere (kioskctl enrol): keep that.
			if err := l.start(); err != nil {
				stop()
				return nil, err
			}
		} else if err := l.enrol(ctx, url, ""); err != nil {
			stop()
			return nil, fmt.Errorf("enrolling with the embedded platform: %w", err)
		}
	} else if err := l.start(); errors.Is(err, os.ErrNotExist) {
		n.health.Report("uplink", health.Degraded, "uplink.not_enrolled", err.Error())
		n.log.Warn("uplink: not enrolled; events wait in the outbox", "err", err)
	} else if err != nil {
		// Enrolled, but the uplink cannot start (a bad CA file, an unreadable key...).
		n.health.Report("uplink", health.Down, "uplink.broken", err.Error())
		n.log.Error("uplink: cannot start; events wait in the outbox", "err", err)
	}
	return func() {
		l.halt()
		if stopSim != nil {
			stopSim()
		}
	}, nil
}

// startPlatformSim runs platformsim on [sim] platform, with its own database beside the
// node's, and returns its URL.
func (n *node) startPlatformSim(ctx context.Context) (string, func(), error) {
	// The platform hashes its seeded pickups and appointments with this node's deployment
	// key, so the demonstration people's ID cards match them.
	sim, err := platformsim.Open(ctx, platformsim.Config{DBPath: filepath.Join(filepath.Dir(n.cfg.Store.Path), "platformsim.db"),
		Log: n.log, DeploymentKey: n.idKey})
	if err != nil {
		return "", nil, fmt.Errorf("platformsim: %w", err)
	}
	ln, err := net.Listen("tcp", n.cfg.Sim.Platform)
	if err != nil {
		sim.Close()
		return "", nil, fmt.Errorf("sim.platform %s: %w (set [sim] platform to a free port, or \"off\")", n.cfg.Sim.Platform, err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	url := "http://" + ln.Addr().String()
	n.log.Info("embedded platform (platformsim)", "url", url, "control", url+"/control/faults")
	for _, a := range demoAppointments(n.clock.Now(), n.cfg.Location()) {
		sim.AddAppointment(n.cfg.Node.ID, a)
	}
	body, err := platformConfigOf(n.cfg)
	if err == nil {
		err = sim.SetConfig(n.cfg.Node.ID, body)
	}
	if err != nil {
		n.log.Warn("platformsim serves its own node config", "err", err)
	}
	n.platformSim = sim
	return url, func() {
		c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(c)
		sim.Close()
	}, nil
}

// enrol enrols the node with the platform at base with code ("" in -sim: the embedded
// platform makes one), saves the enrolment and restarts the uplink on it.
func (l *link) enrol(ctx context.Context, base, code string) error {
	n := l.n
	if code == "" {
		if n.platformSim == nil {
			return errors.New("an enrolment code is required")
		}
		code = n.platformSim.NewEnrolCode(n.cfg.Node.Hall)
	}
	if err := uplink.CheckPlatformURL(base); err != nil {
		return err
	}
	var pool *x509.CertPool
	if n.cfg.Uplink.CAFile != "" {
		var err error
		if pool, err = uplink.LoadCA(n.cfg.Uplink.CAFile); err != nil {
			return err
		}
	}
	inv := map[string]any{"version": version, "roles": n.cfg.Node.Roles}
	var devs []string
	for _, d := range n.cfg.Devices {
		devs = append(devs, d.Name+"="+d.Profile)
	}
	inv["devices"] = devs
	e, err := uplink.Enrol(ctx, base, code, n.cfg.Node.ID, n.cfg.Node.Hall, inv, pool)
	if err != nil {
		return err
	}
	if err := uplink.SaveEnrolment(n.cfg.Uplink.EnrolmentFile, e, base); err != nil {
		return err
	}
	n.log.Info("enrolled", "platform", base, "enrolment", e)
	l.halt()
	return l.start()
}

// start runs senders and pullers for the saved enrolment.
func (l *link) start() error {
	n := l.n
	e, platform, err := uplink.LoadEnrolment(n.cfg.Uplink.EnrolmentFile)
	if err != nil {
		return err
	}
	if err := uplink.CheckPinned(platform, n.cfg.Uplink.CAFile); err != nil {
		return err
	}
	hc, err := uplink.HTTPClient(n.cfg.Uplink.CAFile, 35*time.Second)
	if err != nil {
		return err
	}
	key, err := loadKeyFile(n.cfg.Uplink.DocumentKeyFile)
	if err != nil {
		return err
	}
	client := &uplink.Client{Base: platform, Node: n.cfg.Node.ID, Token: e.Token, HTTP: hc}
	pull, heartbeat := n.cfg.Uplink.Intervals()
	p, err := uplink.NewPuller(uplink.PullerConfig{Client: client, DB: n.db, Clock: n.clock, Health: n.health,
		Log: n.log, DocKey: key, Interval: pull, Location: n.cfg.Location(),
		OnConfig: n.nodeConfig})
	if err != nil {
		return err
	}
	s := uplink.NewSender(uplink.SenderConfig{Client: client, DB: n.db, Clock: n.clock, Health: n.health,
		Log: n.log, HealthList: n.health.All, Hold: p.HoldForMaterials, Settled: p.Settled,
		DrainRate: n.cfg.Uplink.DrainRate,
		// At most one second's worth at once, so the pace holds from the first batch on.
		DrainBurst: int(max(1, min(uplink.MaxBatchEvents, n.cfg.Uplink.DrainRate)))})
	// A pull (or any request) the platform answers with the token it refused the sender
	// ends the refusal: a 401 from a proxy or an auth blip must not stop sending for good.
	client.Accepted = s.TokenAccepted
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(6)
	go func() { defer wg.Done(); n.healthTelemetry(ctx, s) }()
	go func() { defer wg.Done(); n.followAppointments(ctx, p) }()
	go func() { defer wg.Done(); n.watchDisk(ctx, s) }()
	go func() { defer wg.Done(); s.Run(ctx) }()
	go func() { defer wg.Done(); p.Run(ctx) }()
	go func() {
		defer wg.Done()
		started := n.clock.Now()
		for {
			if err := s.Heartbeat(ctx, version, n.clock.Now().Sub(started)); err != nil && ctx.Err() == nil {
				n.log.Debug("heartbeat not recorded", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-n.clock.After(heartbeat):
			}
		}
	}()
	l.mu.Lock()
	l.platform, l.sender, l.puller = platform, s, p
	l.stop = func() { cancel(); wg.Wait() }
	l.mu.Unlock()
	n.log.Info("uplink", "platform", platform, "drain_rate", n.cfg.Uplink.DrainRate)
	return nil
}

func (l *link) halt() {
	l.mu.Lock()
	stop := l.stop
	l.stop, l.sender, l.puller = nil, nil, nil
	l.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (l *link) current() (*uplink.Sender, *uplink.Puller, string) {
	if l == nil {
		return nil, nil, ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sender, l.puller, l.platform
}

// followAppointments keeps the session's check-in data on the appointments the puller
// stored (so check-in works offline), unless a fixture file was configured.
func (n *node) followAppointments(ctx context.Context, p *uplink.Puller) {
	if n.appointmentsFixed {
		return
	}
	for {
		now := n.clock.Now().In(n.cfg.Location())
		var appts []kiosk.Appointment
		for _, day := range []time.Time{now, now.AddDate(0, 0, 1)} {
			list, err := p.Appointments(ctx, day)
			if err != nil {
				n.log.Debug("appointments not read", "err", err)
				continue
			}
			for _, a := range list {
				if a.Status != "cancelled" {
					appts = append(appts, kiosk.Appointment{ID: a.AppointmentID, Code: a.Code, Category: a.Category,
						Start: a.SlotStart, End: a.SlotEnd, NameMasked: a.HolderMasked})
				}
			}
		}
		if err := n.appointments.Replace(appts); err != nil {
			n.log.Warn("appointments from the platform refused", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-n.clock.After(5 * time.Second):
		}
	}
}

// diskLowBytes: below this much free space on the store's file system, new telemetry is
// refused (queue and business events keep the room) and uplink.disk_low is raised.
const diskLowBytes = 256 << 20

func (n *node) watchDisk(ctx context.Context, s *uplink.Sender) {
	dir := filepath.Dir(n.cfg.Store.Path)
	for {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err == nil {
			s.SetDiskLow(st.Bavail*uint64(st.Bsize) < diskLowBytes)
		}
		select {
		case <-ctx.Done():
			return
		case <-n.clock.After(30 * time.Second):
		}
	}
}

// online is what the citizen screen's offline badge shows: false while the platform is
// unreachable (or the node is not enrolled).
func (n *node) online() bool {
	if n.cfg.UI.Offline {
		return false
	}
	// Degraded (a stale backlog, dead letters) still reaches the platform; down (offline,
	// unauthorized) or not enrolled does not.
	st, ok := n.health.Get("uplink")
	return ok && st.State != health.Down && st.Code != "uplink.not_enrolled"
}

// nodeConfig judges a new node config from the platform. One that makes no valid queue is
// refused (the puller reports it and keeps the old one). The queue and the screens are
// built from the config at start (applyPlatformConfig), so a new valid one is stored and
// applies, whole, at the next start: after the hall's midnight by itself
// (applyConfigAtNight), or at once with kioskctl restart.
func (n *node) nodeConfig(c uplink.NodeConfig) error {
	if _, err := n.platformQueue(c); err != nil {
		return err
	}
	if cur := n.appliedConfig.Load(); n.configStarting.Load() || cur != nil && reflect.DeepEqual(*cur, c) {
		return nil
	}
	n.configPending.Store(true)
	n.log.Info("platform node config stored; it applies at the next start: after midnight by itself, or now with kioskctl restart",
		"hall_name", c.HallName, "categories", len(c.Categories))
	return nil
}

// loadKeyFile reads a 32-byte key, making a random one (mode 0600) at first use.
func loadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("key file %s is %d bytes; want 32", path, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k := make([]byte, 32)
	rand.Read(k)
	return k, writeFileAtomic(path, k, 0o600)
}

// routes serves /api/uplink (state and dead letters), requeue, resume and enrolment on the
// admin API.
func (l *link) routes(a *web.Admin) {
	a.Uplink = func(w http.ResponseWriter, r *http.Request) {
		s, _, platform := l.current()
		w.Header().Set("Content-Type", "application/json")
		if s == nil {
			json.NewEncoder(w).Encode(map[string]any{"enrolled": false, "overall": "offline", "code": "uplink.not_enrolled"})
			return
		}
		st, err := s.State(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		dead, _ := s.ListDead(r.Context())
		json.NewEncoder(w).Encode(map[string]any{"enrolled": true, "platform": platform, "state": st, "dead": dead,
			"config_pending": l.n.configPending.Load()})
	}
	a.Requeue = func(w http.ResponseWriter, r *http.Request) {
		s, _, _ := l.current()
		if s == nil {
			http.Error(w, "not enrolled", http.StatusConflict)
			return
		}
		err := s.Requeue(r.Context(), r.PathValue("id"))
		switch {
		case errors.Is(err, uplink.ErrNoDead):
			http.Error(w, err.Error(), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}
	a.Resume = func(w http.ResponseWriter, r *http.Request) {
		s, _, _ := l.current()
		if s == nil {
			http.Error(w, "not enrolled", http.StatusConflict)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]bool{"resumed": s.Resume()})
	}
	a.Enrol = func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Platform, Code string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.Platform == "" || req.Code == "" {
			http.Error(w, `body must be {"platform": "https://...", "code": "..."}`, http.StatusBadRequest)
			return
		}
		if err := l.enrol(r.Context(), req.Platform, req.Code); err != nil {
			status := http.StatusBadGateway
			if errors.Is(err, uplink.ErrEnrolCode) {
				status = http.StatusUnauthorized
			}
			http.Error(w, err.Error(), status)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// metrics writes the uplink's metrics (backlog, oldest age, last success, dead letters).
func (l *link) metrics(w io.Writer) {
	s, _, _ := l.current()
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if st, err := s.State(ctx); err == nil {
		uplink.WriteMetrics(w, st)
	}
}
