package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/gpio"
	"github.com/hallkiosk/hallkiosk/internal/health"
	"github.com/hallkiosk/hallkiosk/internal/platformsim"
	"github.com/hallkiosk/hallkiosk/internal/store"
	"github.com/hallkiosk/hallkiosk/kiosk"
	"github.com/hallkiosk/hallkiosk/queue"
	"github.com/hallkiosk/hallkiosk/ui"
	glfwui "github.com/hallkiosk/hallkiosk/ui/glfw"
	"github.com/hallkiosk/hallkiosk/web/hall"
)

// screen is the terminal's citizen screen: frames for whichever presenter shows them, and the
// pointer input that presenter reports.
type screen struct {
	frames  ui.Frames
	pointer chan ui.Pointer
	size    func() (w, h int)
	window  *glfwui.Window // nil: headless
	name    atomic.Value   // string: the Name of the screen shown
}

// wantWindow decides between the GLFW window and headless from [ui] display and $DISPLAY.
func wantWindow(display string, roles []string) (bool, error) {
	if !slices.Contains(roles, "terminal") {
		return false, nil
	}
	switch display {
	case "window":
		if os.Getenv("DISPLAY") == "" {
			return false, errors.New("ui.display = \"window\" but there is no display ($DISPLAY is unset): start kioskd in the kiosk's X session, or set ui.display = \"auto\"")
		}
		return true, nil
	case "auto":
		return os.Getenv("DISPLAY") != "", nil
	}
	return false, nil
}

// localHall is HallInfo over this node's queue.
type localHall struct{ q *queue.Queue }

func (h localHall) Categories() []queue.Category { return h.q.Config().Categories }
func (h localHall) Estimate(ctx context.Context, c string) (queue.Estimate, error) {
	return h.q.Estimate(ctx, c)
}

// remoteHall is HallInfo over the hall node's API; categories are read once and kept.
type remoteHall struct {
	c    *hall.Client
	mu   sync.Mutex
	cats []queue.Category
}

func (h *remoteHall) Categories() []queue.Category {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cats == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		h.cats, _ = h.c.Categories(ctx)
	}
	return h.cats
}

func (h *remoteHall) Estimate(ctx context.Context, c string) (queue.Estimate, error) {
	return h.c.Estimate(ctx, c)
}

// helpLight blinks the status light while staff are called, then returns it to health.
type helpLight struct{ n *node }

func (h helpLight) Help(on bool) {
	l := h.n.light.Load()
	if l == nil {
		return
	}
	if on {
		l.Set(gpio.LightStaffCalled)
		return
	}
	l.Set(h.n.healthState())
}

// outboxAlerts records hall.help_requested in the outbox, so the request reaches the
// platform and the dashboard even after a network outage.
type outboxAlerts struct{ n *node }

func (a outboxAlerts) HelpRequested(ctx context.Context, terminal, screen string) error {
	return a.n.db.Write(ctx, func(tx *store.Tx) error {
		_, _, err := store.AppendOutbox(tx, "business", "hall.help_requested", a.n.clock.Now(),
			map[string]string{"terminal": terminal, "screen": screen})
		return err
	})
}

// espeakVoice speaks elderly-mode prompts with espeak-ng on the default sound device, one at a
// time: a new prompt interrupts the one still speaking.
type espeakVoice struct {
	n   *node
	mu  sync.Mutex
	cmd *exec.Cmd
	bad bool
}

func (v *espeakVoice) Prompt(lang, text string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.bad {
		return
	}
	if v.cmd != nil && v.cmd.Process != nil {
		v.cmd.Process.Kill()
	}
	voice := "cmn"
	if lang == "en" {
		voice = "en"
	}
	v.cmd = exec.Command("espeak-ng", "-v", voice, "-s", "140", text)
	if err := v.cmd.Start(); err != nil {
		v.bad = true
		v.n.log.Warn("ui: voice prompts are off: espeak-ng cannot run", "err", err)
		return
	}
	go v.cmd.Wait()
}

// startSession runs the citizen session on this node's devices and queue: it renders every
// screen the session shows into frames and turns pointer input into session input.
func (n *node) startSession(ctx context.Context, scr *screen, issuer kiosk.Issuer, disp *kiosk.Dispenser) error {
	if !slices.Contains(n.cfg.Node.Roles, "terminal") {
		return nil
	}
	fonts, err := ui.LoadFonts(n.cfg.UI.Font)
	if err != nil {
		return err
	}
	d := kiosk.Deps{Clock: n.clock, Health: n.health.All, Log: n.log, IDKey: n.idKey, Appointments: n.appointments,
		Light: helpLight{n}, Alerts: outboxAlerts{n}, Voice: &espeakVoice{n: n},
		Online: n.online}
	if disp != nil {
		d.Tickets = disp
	}
	switch c := issuer.(type) {
	case *hall.API:
		d.Hall = localHall{c.Queue}
	case *hall.Client:
		d.Hall = &remoteHall{c: c}
	}
	idle, elderly := n.cfg.UI.IdleTimeouts()
	req := map[string]bool{}
	for _, c := range n.cfg.UI.RequireID {
		req[c] = true
	}
	printer := ""
	if disp != nil {
		for _, dev := range n.cfg.Devices {
			if _, ok := n.printers[dev.Name]; ok {
				printer = dev.Name
				break
			}
		}
	}
	kc := kiosk.Config{Terminal: n.cfg.Node.ID, HallName: n.cfg.Node.HallName, HallNameEN: n.cfg.Node.HallNameEN, RequireID: req,
		Idle: idle, ElderlyIdle: elderly, TicketQR: n.cfg.UI.TicketQR, PrinterComponent: printer, Location: n.cfg.Location(),
		NoReader: len(n.readers) == 0, GreenAge: n.cfg.UI.GreenAge}
	if len(n.readers) > 0 {
		kc.ReaderComponent = n.readers[0]
	}
	sess := kiosk.NewSession(kc, d)

	w, h := scr.size()
	r := ui.NewRenderer(fonts, ui.Options{Size: image.Pt(w, h), DPI: n.cfg.UI.DPI})
	// A screen that does not fit the panel (content cut off, text shortened, a target under
	// 15 mm) is logged once per screen and mode, not at every repaint.
	misfits := map[string]bool{}
	show := func(s ui.Screen, m ui.Mode) {
		img, l := r.Render(s, m)
		if err := l.Err(); err != nil {
			if key := fmt.Sprintf("%s/%s/%t", s.Name, m.Lang, m.Elderly); !misfits[key] {
				misfits[key] = true
				n.log.Warn("screen does not fit the panel", "screen", s.Name, "lang", m.Lang, "elderly", m.Elderly, "err", err)
			}
		}
		scr.name.Store(s.Name)
		scr.frames.Put(img, l)
	}
	go func() {
		var g ui.Gestures
		for {
			select {
			case <-ctx.Done():
				return
			case p := <-scr.pointer:
				_, l, _ := scr.frames.Latest()
				for _, ev := range g.Feed(p, l) {
					n.sessionInput(kiosk.UIEvent{Event: ev})
				}
			}
		}
	}()
	// A device's health shows on screen (the ticket tile, the card prompts) as soon as it
	// changes, not at the next touch or minute: a change makes the session look again. A
	// look already queued is enough, so a full queue drops it quietly.
	cancel := n.health.Subscribe(func(health.Status) {
		select {
		case n.inputs <- kiosk.Tick{}:
		default:
		}
	})
	context.AfterFunc(ctx, cancel)
	name := func() string { s, _ := scr.name.Load().(string); return s }
	n.screenName.Store(&name)
	go sess.Run(ctx, n.inputs, show)
	n.log.Info("citizen screen", "presenter", presenterName(scr), "size", fmt.Sprintf("%dx%d", w, h), "font", fonts.String())
	if scr.window == nil {
		n.log.Info("no display: the screen is served at /api/screen.png (headless)")
	}
	return nil
}

func presenterName(s *screen) string {
	if s.window != nil {
		return s.window.String()
	}
	return "headless"
}

// sessionInput hands a device or screen event to the session; when the session is busy
// (printing) and its queue is full the event is dropped rather than stall a device loop.
func (n *node) sessionInput(in kiosk.Input) {
	select {
	case n.inputs <- in:
	default:
		n.log.Warn("session busy; input dropped", "input", fmt.Sprintf("%T", in))
	}
}

// screenPNG serves the latest frame: what the citizen sees, for technicians and tests.
func (scr *screen) screenPNG(w http.ResponseWriter, r *http.Request) {
	if _, _, seq := scr.frames.Latest(); seq == 0 {
		http.Error(w, "no screen drawn yet", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	scr.frames.WritePNG(w)
}

// screenLayout serves the name of the screen shown and its touch targets, so technicians
// and tests can find a button without guessing coordinates.
func (scr *screen) screenLayout(w http.ResponseWriter, r *http.Request) {
	_, l, seq := scr.frames.Latest()
	if seq == 0 || l == nil {
		http.Error(w, "no screen drawn yet", http.StatusServiceUnavailable)
		return
	}
	type target struct {
		ID string `json:"id"`
		X  int    `json:"x"`
		Y  int    `json:"y"`
		W  int    `json:"w"`
		H  int    `json:"h"`
	}
	name, _ := scr.name.Load().(string)
	doc := struct {
		Screen  string   `json:"screen"`
		Seq     uint64   `json:"seq"`
		Targets []target `json:"targets"`
	}{Screen: name, Seq: seq}
	for _, t := range l.Targets {
		doc.Targets = append(doc.Targets, target{t.ID, t.Rect.Min.X, t.Rect.Min.Y, t.Rect.Dx(), t.Rect.Dy()})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

// screenTap presses and releases at x,y as if a finger did (-sim only: POST
// /api/screen/tap?x=&y=), so the headless screen can be driven from a script.
func (scr *screen) screenTap(w http.ResponseWriter, r *http.Request) {
	x, errX := strconv.Atoi(r.FormValue("x"))
	y, errY := strconv.Atoi(r.FormValue("y"))
	sw, sh := scr.size()
	if errX != nil || errY != nil || x < 0 || y < 0 || x >= sw || y >= sh {
		http.Error(w, fmt.Sprintf("x and y must be pixel coordinates inside the %dx%d screen", sw, sh), http.StatusBadRequest)
		return
	}
	for _, k := range []ui.PointerKind{ui.PointerDown, ui.PointerUp} {
		select {
		case scr.pointer <- ui.Pointer{Kind: k, X: x, Y: y}:
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// demoAppointments are the demonstration appointments -sim books at the embedded platform
// (which the node then pulls like any other): one due now, one later today, one that ended
// an hour ago.
func demoAppointments(now time.Time, loc *time.Location) []platformsim.Appointment {
	now = now.In(loc).Truncate(time.Minute)
	return []platformsim.Appointment{
		{AppointmentID: "sim-appt-1", Code: "880001", Category: "A", SlotStart: now.Add(-10 * time.Minute), SlotEnd: now.Add(50 * time.Minute), HolderMasked: "张*"},
		{AppointmentID: "sim-appt-2", Code: "880002", Category: "C", SlotStart: now.Add(3 * time.Hour), SlotEnd: now.Add(4 * time.Hour), HolderMasked: "李*"},
		{AppointmentID: "sim-appt-3", Code: "880003", Category: "B", SlotStart: now.Add(-3 * time.Hour), SlotEnd: now.Add(-time.Hour), HolderMasked: "王*"},
	}
}

// appointmentBook is the check-in data of the session: the [ui] appointments file, or
// (empty at first) what the uplink pulls from the platform.
func (n *node) appointmentBook() (*kiosk.AppointmentBook, error) {
	if n.cfg.UI.Appointments != "" {
		b, err := kiosk.LoadAppointments(n.cfg.UI.Appointments)
		if err != nil {
			return nil, fmt.Errorf("ui.appointments: %w", err)
		}
		n.appointmentsFixed = true
		return b, nil
	}
	return kiosk.NewAppointmentBook(nil)
}
