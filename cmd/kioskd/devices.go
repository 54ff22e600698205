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
	"github.com/hallkiosk/hallkiosk/devices/barcode"
	"github.com/hallkiosk/hallkiosk/devices/barcode/barcodesim"
	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/devices/escpos/escpossim"
	"github.com/hallkiosk/hallkiosk/devices/idcard"
	"github.com/hallkiosk/hallkiosk/devices/idcard/idcardsim"
	profiles "github.com/hallkiosk/hallkiosk/firmware-profiles"
	"github.com/hallkiosk/hallkiosk/internal/config"
	"github.com/hallkiosk/hallkiosk/internal/simctl"
	"github.com/hallkiosk/hallkiosk/kiosk"
	"github.com/hallkiosk/hallkiosk/web"
)

// deviceSpecs turns the configured devices into start-up specs, and returns the metrics
// of the drivers it built.
func (n *node) deviceSpecs(ctx context.Context) ([]devices.Spec, []web.MetricsFunc) {
	var specs []devices.Spec
	var metrics []sampler
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
		if err == nil && p.Transport.Type == "usb-hid" {
			err = fmt.Errorf("transport usb-hid is not supported: switch the device to its serial (USB CDC) mode")
		}
		switch {
		case err != nil:
			spec.Build = func() (devices.Device, error) { return nil, err }
		case p.Driver == "idcard":
			cfg := idcard.Config{Name: d.Name, Port: d.Port, Baud: p.Transport.Baud,
				ReadTimeout: p.Transport.ReadTimeout.Std(), PollInterval: p.Timing.PollInterval.Std(),
				// At least what the longest answer takes on the wire at this baud rate: a
				// profile's timeout may be meant for a faster link than an override gives.
				CommandTimeout:  max(p.Timing.CommandTimeout.Std(), idcard.CommandTimeoutFor(p.Transport.Baud, p.Quirks.ReadFingerprint)),
				ReadFingerprint: p.Quirks.ReadFingerprint, MaxRFFrame: p.Quirks.MaxRFFrame}
			r := idcard.NewReader(cfg, idcard.Opener(opener(p, d.Port)), n.health, n.log, n.clock)
			if d.IsEnabled() {
				n.readers = append(n.readers, d.Name)
			}
			metrics = append(metrics, idcardMetrics(r))
			spec.Build = func() (devices.Device, error) {
				go n.consumeCards(ctx, r)
				return r, nil
			}
		case p.Driver == "escpos":
			pr := escpos.NewPrinter(escpos.Config{Name: d.Name, Target: d.Port, PollInterval: p.Timing.PollInterval.Std(),
				StatusTimeout: p.Timing.CommandTimeout.Std()}, escpos.Opener(opener(p, d.Port)), n.health, n.log, n.clock)
			if d.IsEnabled() {
				n.printers[d.Name] = pr
			}
			metrics = append(metrics, printerMetrics(pr))
			spec.Build = func() (devices.Device, error) { return pr, nil }
		case p.Driver == "barcode":
			sc := barcode.NewScanner(barcode.Config{Name: d.Name, Port: d.Port, Baud: p.Transport.Baud,
				ReadTimeout: p.Transport.ReadTimeout.Std(), Model: barcode.Model(triggerModel(p.Quirks.Trigger)),
				Suffix: barcode.Suffix(p.Quirks.Suffix), StripAIM: p.Quirks.AIMPrefix},
				barcode.Opener(opener(p, d.Port)), n.health, n.log, n.clock)
			metrics = append(metrics, scannerMetrics(sc))
			spec.Build = func() (devices.Device, error) {
				go n.consumeCodes(ctx, sc)
				return sc, nil
			}
		default:
			spec.Build = func() (devices.Device, error) {
				return nil, fmt.Errorf("driver %q is not supported by this build", p.Driver)
			}
		}
		specs = append(specs, spec)
	}
	return specs, []web.MetricsFunc{deviceMetrics(metrics)}
}

// consumeCards hands each card to the citizen session (which keeps only its hash and masked
// forms) and wipes the driver's copy at once, so no personal data outlives the event.
func (n *node) consumeCards(ctx context.Context, r *idcard.Reader) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.Events():
			switch ev := ev.(type) {
			case idcard.CardPresented:
				n.log.Info("card presented", "device", r.String(), "card", ev.Card)
				n.sessionInput(kiosk.CardPlaced{IDNumber: ev.Card.IDNumber, Name: ev.Card.Name})
				ev.Card.Wipe()
			case idcard.CardRemoved:
				n.log.Info("card removed", "device", r.String())
				n.sessionInput(kiosk.CardRemoved{})
			case idcard.CardReadFailed:
				n.log.Warn("card could not be read; place it again", "device", r.String(), "err", ev.Err)
				n.sessionInput(kiosk.CardFailed{})
			}
		}
	}
}

// printerTests are the printers' self-tests: a test ticket with Chinese text, number A001
// and a QR code, printed and confirmed.
func (n *node) printerTests() map[string]func(context.Context) error {
	m := map[string]func(context.Context) error{}
	for name, p := range n.printers {
		layout := escpos.Layout{Paper: escpos.Paper80}
		if dev, ok := n.deviceConfig(name); ok {
			if prof, err := n.profiles.Get(dev.Profile); err == nil {
				layout = ticketLayout(prof)
			}
		}
		m[name] = func(ctx context.Context) error {
			job, err := escpos.EncodeTicketFor(escpos.TestTicket(n.cfg.Node.HallName, n.clock.Now()), layout)
			if err != nil {
				return err
			}
			return p.Print(ctx, job)
		}
	}
	return m
}

// ticketLayout is how a printer model's profile lays out a ticket.
func ticketLayout(p profiles.Profile) escpos.Layout {
	return escpos.ModelLayout(p.Quirks.PaperMM, p.Quirks.Columns, p.Quirks.Cutter, p.Quirks.NativeQR)
}

func (n *node) deviceConfig(name string) (config.Device, bool) {
	for _, d := range n.cfg.Devices {
		if d.Name == name {
			return d, true
		}
	}
	return config.Device{}, false
}

// opener opens a device over the transport its profile names.
func opener(p profiles.Profile, port string) func() (devices.Port, error) {
	rt := p.Transport.ReadTimeout.Std()
	switch p.Transport.Type {
	case "tcp":
		return func() (devices.Port, error) { return devices.OpenTCP(port, rt, 0) }
	case "file":
		return func() (devices.Port, error) { return devices.OpenFile(port, rt) }
	}
	return func() (devices.Port, error) {
		return devices.OpenSerial(devices.SerialConfig{Path: port, Baud: p.Transport.Baud, ReadTimeout: rt,
			Parity: p.Transport.Parity, StopBits: p.Transport.StopBits})
	}
}

// triggerModel maps a profile's trigger quirk to the scanner driver's command set.
func triggerModel(t string) string {
	if t == "none" {
		return "generic"
	}
	return t
}

// consumeCodes hands each scanned code to the citizen session. A code may carry personal
// data (an appointment's QR code), so only its length and symbology are logged.
func (n *node) consumeCodes(ctx context.Context, s *barcode.Scanner) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-s.Events():
			if c, ok := ev.(barcode.CodeScanned); ok {
				n.log.Info("code scanned", "device", s.String(), "bytes", len(c.Text), "symbology", c.Symbology)
				n.sessionInput(kiosk.CodeScanned{Code: c.Text})
			}
		}
	}
}

// sample is one device's value of a counter family.
type sample struct {
	name, help, device string
	v                  int64
}

// sampler reads one device's counters.
type sampler func() []sample

// deviceMetrics writes the devices' counters with each family's HELP and TYPE once, its
// samples together: Prometheus refuses a scrape that repeats a family's header, as two
// readers of one kind would.
func deviceMetrics(samplers []sampler) web.MetricsFunc {
	return func(w io.Writer) {
		var order []string
		byName := map[string][]sample{}
		for _, f := range samplers {
			for _, s := range f() {
				if _, ok := byName[s.name]; !ok {
					order = append(order, s.name)
				}
				byName[s.name] = append(byName[s.name], s)
			}
		}
		for _, name := range order {
			ss := byName[name]
			fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, ss[0].help, name)
			for _, s := range ss {
				fmt.Fprintf(w, "%s{device=%q} %d\n", name, s.device, s.v)
			}
		}
	}
}

func printerMetrics(p *escpos.Printer) sampler {
	return func() []sample {
		s, d := p.Stats(), p.String()
		return []sample{
			{"hallkiosk_printer_jobs_total", "Print jobs sent.", d, int64(s.Jobs)},
			{"hallkiosk_printer_jobs_failed_total", "Print jobs that did not complete.", d, int64(s.Failed)},
		}
	}
}

func scannerMetrics(sc *barcode.Scanner) sampler {
	return func() []sample {
		s, d := sc.Stats(), sc.String()
		return []sample{
			{"hallkiosk_scanner_codes_total", "Codes scanned and accepted.", d, int64(s.Codes)},
			{"hallkiosk_scanner_rejected_total", "Scanned codes rejected as unsafe input.", d, int64(s.Rejected())},
		}
	}
}

func idcardMetrics(r *idcard.Reader) sampler {
	return func() []sample {
		s, d := r.Stats(), r.String()
		return []sample{
			{"hallkiosk_idcard_reads_total", "Cards read successfully.", d, int64(s.Reads)},
			{"hallkiosk_idcard_read_errors_total", "Cards found but not read.", d, int64(s.ReadErrors)},
			{"hallkiosk_idcard_frame_errors_total", "Corrupt frames from the reader.", d, int64(s.FrameErrors)},
		}
	}
}

// simulators are the in-process device simulators of kioskd -sim.
type simulators struct {
	idcard  map[string]*idcardsim.Sim
	printer map[string]*escpossim.Sim
	scanner map[string]*barcodesim.Sim
	gpio    *gpioSim
	lns     []net.Listener
}

// startSimulators starts a simulator for every configured device it can simulate and
// points the device's port at the simulator's pty link under sim.dir.
func startSimulators(cfg *config.Config, set *profiles.Set, log *slog.Logger) (*simulators, error) {
	s := &simulators{idcard: map[string]*idcardsim.Sim{}, printer: map[string]*escpossim.Sim{}, scanner: map[string]*barcodesim.Sim{}}
	if err := os.MkdirAll(cfg.Sim.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("sim.dir: %w", err)
	}
	for i, d := range cfg.Devices {
		p, err := set.Get(d.Profile)
		if err != nil {
			continue
		}
		link := filepath.Join(cfg.Sim.Dir, d.Name)
		var exec func(string) string
		var start func() error
		switch p.Driver {
		case "idcard":
			cards, err := idcardsim.DefaultCards()
			if cfg.Sim.Cards != "" {
				cards, err = idcardsim.LoadCards(cfg.Sim.Cards)
			}
			if err != nil {
				s.Close()
				return nil, err
			}
			sim := idcardsim.New(idcardsim.Config{Link: link, Baud: cfg.Sim.Baud, Cards: cards, Log: log})
			s.idcard[d.Name], exec, start = sim, sim.Exec, sim.Start
		case "escpos":
			paper := escpos.Paper80
			if p.Quirks.PaperMM == 58 {
				paper = escpos.Paper58
			}
			sim := escpossim.New(escpossim.Config{Link: link, Out: link + "-out", Paper: paper, Baud: cfg.Sim.Baud, Log: log})
			s.printer[d.Name], exec, start = sim, sim.Exec, sim.Start
		case "barcode":
			// The simulated scanner sends the suffix the profile says the scanner is set to.
			sim := barcodesim.New(barcodesim.Config{Link: link, Suffix: barcodesim.Suffix(p.Quirks.Suffix), Log: log})
			s.scanner[d.Name], exec, start = sim, sim.Exec, sim.Start
		default:
			continue
		}
		if err := start(); err != nil {
			s.Close()
			return nil, err
		}
		ctl := link + ".ctl"
		ln, err := simctl.Listen(ctl, exec)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.lns = append(s.lns, ln)
		// The simulated device speaks over a pty whatever the profile's transport.
		cfg.Devices[i].Port = link
		cfg.Devices[i].Override.Transport = nil
		log.Info("simulated device", "device", d.Name, "driver", p.Driver, "link", link, "control", ctl)
	}
	if len(cfg.GPIO.Lines()) > 0 {
		s.gpio = newGPIOSim(cfg.GPIO)
		log.Info("simulated GPIO lines", "lines", cfg.GPIO.Lines())
	}
	return s, nil
}

func (s *simulators) controls() map[string]web.SimControl {
	m := map[string]web.SimControl{}
	for name, sim := range s.idcard {
		m[name] = web.SimControl{Kind: "idcard", Exec: sim.Exec}
	}
	for name, sim := range s.printer {
		m[name] = web.SimControl{Kind: "escpos", Exec: sim.Exec}
	}
	for name, sim := range s.scanner {
		m[name] = web.SimControl{Kind: "barcode", Exec: sim.Exec}
	}
	if s.gpio != nil {
		m["gpio"] = web.SimControl{Kind: "gpio", Exec: s.gpio.Exec}
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
	for _, sim := range s.printer {
		sim.Close()
	}
	for _, sim := range s.scanner {
		sim.Close()
	}
}
