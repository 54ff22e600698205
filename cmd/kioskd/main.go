// Command kioskd runs a Hallkiosk node: devices, store, admin API, hall queue and its LAN
// API, and the citizen touch screen (and, in a later issue, the uplink). It is the only place
// that wires concrete parts together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // the hall's zone must resolve even on a minimal image

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/devices/escpos"
	hkgpio "github.com/hallkiosk/hallkiosk/devices/gpio"
	profiles "github.com/hallkiosk/hallkiosk/firmware-profiles"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/config"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/logging"
	"github.com/hallkiosk/hallkiosk/internal/platformsim"
	"github.com/hallkiosk/hallkiosk/internal/sdnotify"
	"github.com/hallkiosk/hallkiosk/internal/store"
	"github.com/hallkiosk/hallkiosk/kiosk"
	"github.com/hallkiosk/hallkiosk/kiosk/uplink"
	"github.com/hallkiosk/hallkiosk/queue"
	"github.com/hallkiosk/hallkiosk/ui"
	glfwui "github.com/hallkiosk/hallkiosk/ui/glfw"
	"github.com/hallkiosk/hallkiosk/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// GLFW must be called from the main OS thread: the window runs on main's goroutine, which
// this pins to the thread the process started on.
func init() { runtime.LockOSThread() }

// processStart is when the Go program started, for the time to the first frame.
var processStart = time.Now()

func main() {
	cfgPath := flag.String("config", "", "config file (TOML); see configs/kioskd.example.toml")
	sim := flag.Bool("sim", false, "simulate every configured device on a pty (with no -config: one simulated ID-card reader)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	checkOnly := flag.Bool("check", false, "validate the config and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("kioskd", version)
		return
	}
	err := run(*cfgPath, *sim, *checkOnly)
	if errors.Is(err, errRestart) {
		err = execSelf()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kioskd:", err)
		os.Exit(1)
	}
}

func run(cfgPath string, sim, checkOnly bool) error {
	set, err := profiles.Load()
	if err != nil {
		return err
	}
	var cfg *config.Config
	switch {
	case cfgPath != "":
		if cfg, err = config.Load(cfgPath, set); err != nil {
			return err
		}
	case sim:
		cfg = config.Default()
		if err := cfg.Validate(set); err != nil {
			return err
		}
	default:
		return errors.New("give -config FILE, or -sim to run on simulated devices")
	}
	if checkOnly {
		if _, err := queueConfig(cfg); err != nil {
			return err
		}
		fmt.Println("config ok")
		return nil
	}
	log, err := logging.New(os.Stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, a second one ends the process at once (the default action),
	// for a shutdown that hangs.
	context.AfterFunc(ctx, stop)
	ctx, restart := context.WithCancelCause(ctx)
	defer restart(nil)
	n := &node{cfg: cfg, profiles: set, log: log, sim: sim, clock: clock.Real{}, inputs: make(chan kiosk.Input, 64)}
	n.restart = func(reason string) {
		log.Info("kioskd restarting", "reason", reason)
		restart(errRestart)
	}
	scr := &screen{pointer: make(chan ui.Pointer, 256)}
	scr.size = func() (int, int) { return cfg.UI.Width, cfg.UI.Height }
	win, err := wantWindow(cfg.UI.Display, cfg.Node.Roles)
	if err != nil {
		return err
	}
	if !win {
		return restarting(ctx, n.runUntilStopped(ctx, scr))
	}
	// The window takes the main goroutine; the node runs beside it. Full screen draws at the
	// monitor's own resolution (crisp); ui.width and ui.height size a window.
	wcfg := glfwui.Config{Fullscreen: cfg.UI.Fullscreen, Width: cfg.UI.Width, Height: cfg.UI.Height,
		HideCursor: cfg.UI.HideCursor, Present: cfg.UI.Present, Title: "Hallkiosk " + cfg.Node.HallName}
	if wcfg.Fullscreen {
		wcfg.Width, wcfg.Height = 0, 0
	}
	scr.window = glfwui.New(wcfg)
	scr.size = func() (int, int) {
		<-scr.window.Ready()
		if sz := scr.window.Size(); sz.X > 0 && sz.Y > 0 {
			return sz.X, sz.Y
		}
		return cfg.UI.Width, cfg.UI.Height
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.runUntilStopped(ctx, scr); cancel() }()
	go func() {
		if scr.window.WaitPresented(ctx, 1) == nil {
			log.Info("first frame on screen", "since_start_ms", time.Since(processStart).Milliseconds())
		}
	}()
	werr := scr.window.Run(ctx, &scr.frames, func(p ui.Pointer) {
		select {
		case scr.pointer <- p:
		default: // a stalled session must not stall the window
		}
	})
	if werr != nil && ctx.Err() == nil {
		if cfg.UI.Display == "window" {
			cancel()
			return errors.Join(fmt.Errorf("ui: %w", werr), <-done)
		}
		log.Error("ui: the window could not be opened; running headless (/api/screen.png)", "err", werr)
	}
	return restarting(ctx, <-done)
}

type node struct {
	cfg      *config.Config
	profiles *profiles.Set
	log      *slog.Logger
	sim      bool
	clock    clock.Clock

	health   *health.Registry
	printers map[string]*escpos.Printer
	readers  []string    // enabled ID-card readers, in config order
	sims     *simulators // simulator mode only
	db       *store.DB
	manager  *devices.Manager
	report   devices.Report
	light    atomic.Pointer[hkgpio.StatusLight] // set once the status light is up
	inputs   chan kiosk.Input                   // to the citizen session
	// restart stops the node cleanly and starts it again in place (restart.go).
	restart func(reason string)
	// appliedConfig is the platform's node config the running queue was built from (nil:
	// the TOML [queue]); configPending is set when the platform has sent a different one.
	appliedConfig atomic.Pointer[uplink.NodeConfig]
	configPending atomic.Bool
	// configStarting is set while start-up pulls the config it is about to apply.
	configStarting atomic.Bool
	// screenName is the citizen screen shown now; unset on nodes without one.
	screenName atomic.Pointer[func() string]
	// platformSim is the embedded reference platform in -sim mode.
	platformSim *platformsim.Sim
	// idKey is the deployment key of id_hash (HMAC-SHA256 of ID numbers).
	idKey []byte
	// appointments feed check-in; from a file (appointmentsFixed) or from the uplink.
	appointments      *kiosk.AppointmentBook
	appointmentsFixed bool
}

// runUntilStopped is run, except that a stop asked for while the node was still starting
// (SIGINT during an enrolment, say) is a clean stop, not a failure.
func (n *node) runUntilStopped(ctx context.Context, scr *screen) error {
	err := n.run(ctx, scr)
	if err != nil && ctx.Err() != nil {
		n.log.Info("stopped while starting", "err", err)
		return nil
	}
	return err
}

func (n *node) run(ctx context.Context, scr *screen) error {
	started := n.clock.Now()
	n.health = health.NewRegistry(n.clock.Now)
	n.printers = map[string]*escpos.Printer{}
	n.log.Info("kioskd starting", "version", version, "node", n.cfg.Node.ID, "roles", n.cfg.Node.Roles, "sim", n.sim)

	db, err := store.Open(ctx, n.cfg.Store.Path, n.log)
	if err != nil {
		return err
	}
	n.db = db
	defer db.Close()
	if moved, ok := db.Corrupt(); ok {
		n.health.Report("store", health.Degraded, "store.corrupt",
			"the database failed its integrity check and was moved to "+moved+"; a new one was started")
	} else {
		n.health.Report("store", health.OK, "store.ok", "database "+n.cfg.Store.Path)
	}
	stopLog := n.logHealthTransitions(ctx)
	defer stopLog()
	var local bool
	if n.idKey, local, err = deploymentKey(n.cfg); err != nil {
		return err
	}
	if local && !n.sim { // the embedded simulated platform takes the node's own key
		n.health.Report("keys", health.Degraded, "keys.deployment_key_local",
			"id_hash uses this node's own key: the platform cannot match ID cards to its pickups and appointments; set uplink.deployment_key_file to the deployment's key")
	}
	if n.appointments, err = n.appointmentBook(); err != nil {
		return err
	}

	// The admin API comes up first, so a technician can see what failed while devices start.
	admin := &web.Admin{NodeID: n.cfg.Node.ID, Version: version, Started: started, Health: n.health,
		Devices: func() devices.Report { return n.report }, Now: n.clock.Now, Screen: scr.screenPNG, Layout: scr.screenLayout}
	if n.sim {
		admin.Tap = scr.screenTap
		// The simulators start before the admin API serves, so its handlers never see
		// admin.Sim change.
		n.sims, err = startSimulators(n.cfg, n.profiles, n.log)
		if err != nil {
			return err
		}
		defer n.sims.Close()
		admin.Sim = n.sims.controls()
	}
	up := &link{n: n}
	up.routes(admin)
	admin.Restart = n.restartHandler
	ln, err := net.Listen("tcp", n.cfg.Admin.Listen)
	if err != nil {
		return fmt.Errorf("admin.listen %s: %w", n.cfg.Admin.Listen, err)
	}
	srv := &http.Server{Handler: admin.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	n.log.Info("admin page", "url", "http://"+ln.Addr().String()+"/")

	stopUplink, err := n.startUplink(ctx, up)
	if err != nil {
		return err
	}
	defer stopUplink()
	n.applyPlatformConfig(ctx, up)
	go n.applyConfigAtNight(ctx)

	hallAPI, stopHall, err := n.startHall()
	if err != nil {
		return err
	}
	defer stopHall()

	issuer, err := n.issuer(hallAPI)
	if err != nil {
		return err
	}
	devCtx, cancelDevices := context.WithCancel(context.Background())
	n.manager = devices.NewManager(n.log, n.health, n.clock)
	specs, metrics := n.deviceSpecs(devCtx)
	specs = append(specs, n.gpioSpecs(devCtx)...)
	admin.Metrics = append(metrics, up.metrics)
	admin.Tests = n.printerTests()
	disp, cats := n.dispenser(issuer)
	if d := disp; d != nil {
		admin.Categories = cats
		admin.Dispense = func(ctx context.Context, category string) (any, error) {
			got, err := d.Take(ctx, queue.IssueRequest{Category: category, Source: queue.SourceWalkIn}, "")
			if err != nil {
				return nil, err
			}
			res := map[string]any{"ticket": got.Ticket.Number, "category": got.Ticket.Category, "printed": got.Printed,
				"state": got.Ticket.State, "ahead": got.Estimate.Ahead, "estimated_wait_s": int64(got.Estimate.Wait.Seconds())}
			if got.PrintErr != nil {
				res["print_error"] = got.PrintErr.Error()
				res["reason"] = got.Ticket.Reason
			}
			return res, nil
		}
	}
	n.report = n.manager.Start(devCtx, specs)
	if err := n.startSession(devCtx, scr, issuer, disp); err != nil {
		cancelDevices()
		n.manager.Wait()
		return fmt.Errorf("ui: %w", err)
	}

	if ok, err := sdnotify.Notify("READY=1"); err != nil {
		n.log.Warn("sd_notify", "err", err)
	} else if ok {
		n.log.Info("told systemd we are ready")
	}
	var watchdog <-chan time.Time
	if iv := sdnotify.WatchdogInterval(); iv > 0 {
		n.petWatchdog(iv) // at once: after an in-place restart the old timer still runs
		t := time.NewTicker(iv)
		defer t.Stop()
		watchdog = t.C
	}
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-watchdog:
			n.petWatchdog(sdnotify.WatchdogInterval())
		}
	}

	n.log.Info("kioskd stopping")
	sdnotify.Notify("STOPPING=1")
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutCtx)
	cancelDevices()
	n.manager.Wait()
	n.log.Info("kioskd stopped")
	return nil
}

// petWatchdog tells systemd the node is alive, only if the main loop runs (it calls this)
// and the store answers a read within the interval: a stuck disk or writer gets kioskd
// restarted instead of pinging on over a node that cannot issue tickets.
func (n *node) petWatchdog(iv time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), iv)
	defer cancel()
	var one int
	if err := n.db.Read().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		n.log.Error("watchdog: the store does not answer; not telling systemd we are alive", "err", err)
		return
	}
	sdnotify.Notify("WATCHDOG=1")
}

// deviceEventsKept is how many health transitions device_events keeps: the technician's
// history, bounded so a device that flaps for years cannot grow the database without end.
var deviceEventsKept int64 = 20000

// logHealthTransitions records every change of a component's state in the store and the log.
// Writes go through a buffered channel so a slow disk never stalls a device loop.
func (n *node) logHealthTransitions(ctx context.Context) (stop func()) {
	ch := make(chan health.Status, 256)
	cancel := n.health.Subscribe(func(st health.Status) {
		select {
		case ch <- st:
		default:
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for st := range ch {
			lvl := slog.LevelInfo
			if st.State == health.Down || st.State == health.Degraded {
				lvl = slog.LevelWarn
			}
			n.log.Log(ctx, lvl, "health", "component", st.Component, "state", st.State, "code", st.Code, "message", st.Message)
			err := n.db.Write(context.Background(), func(tx *store.Tx) error {
				res, err := tx.Exec(`INSERT INTO device_events(at, component, state, code, message) VALUES(?,?,?,?,?)`,
					store.FormatTime(st.Since), st.Component, string(st.State), st.Code, st.Message)
				if err != nil {
					return err
				}
				id, err := res.LastInsertId()
				if err != nil {
					return err
				}
				_, err = tx.Exec(`DELETE FROM device_events WHERE id <= ?`, id-deviceEventsKept)
				return err
			})
			if err != nil {
				n.log.Warn("recording health transition", "err", err)
			}
		}
	}()
	return func() {
		cancel()
		close(ch)
		<-done
	}
}
