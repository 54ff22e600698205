package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/devices/escpos"
	profiles "github.com/hallkiosk/hallkiosk/firmware-profiles"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

func printerCmd(args []string) error {
	if len(args) == 0 || (args[0] != "status" && args[0] != "test") {
		return usageError{"usage: kioskctl printer status|test --port PATH | --tcp HOST:PORT | --file /dev/usb/lpN [--json]"}
	}
	fs := flag.NewFlagSet("kioskctl printer "+args[0], flag.ContinueOnError)
	port := fs.String("port", "", "serial port of the printer")
	tcp := fs.String("tcp", "", "network printer, HOST:PORT (raw, usually 9100)")
	file := fs.String("file", "", "USB printer class device, e.g. /dev/usb/lp0")
	baud := fs.Int("baud", 115200, "baud rate (--port)")
	paper := fs.Int("paper", 80, "paper width in mm: 58 or 80 (test)")
	profile := fs.String("profile", "", "lay the test ticket out for this firmware profile (paper, columns, cutter, QR); overrides --paper")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	var open escpos.Opener
	target := ""
	switch {
	case *port != "" && *tcp == "" && *file == "":
		target = *port
		open = func() (devices.Port, error) {
			return devices.OpenSerial(devices.SerialConfig{Path: *port, Baud: *baud})
		}
	case *tcp != "" && *port == "" && *file == "":
		target = *tcp
		open = func() (devices.Port, error) { return devices.OpenTCP(*tcp, 0, 0) }
	case *file != "" && *port == "" && *tcp == "":
		target = *file
		open = func() (devices.Port, error) { return devices.OpenFile(*file, 0) }
	default:
		return usageError{"give exactly one of --port, --tcp, --file"}
	}
	reg := health.NewRegistry(nil)
	p := escpos.NewPrinter(escpos.Config{Name: "printer", Target: target}, open, reg,
		slog.New(slog.DiscardHandler), clock.Real{})
	defer p.Halt()

	if args[0] == "status" {
		st, err := p.Check()
		h, _ := reg.Get("printer")
		if *asJSON {
			json.NewEncoder(os.Stdout).Encode(map[string]any{"target": target, "state": h.State, "code": h.Code,
				"message": h.Message, "faults": st.Faults(), "ok": err == nil})
		} else {
			fmt.Printf("printer %s: %s (%s) %s\n", target, h.State, h.Code, h.Message)
		}
		if err != nil {
			return fmt.Errorf("printer not ready: %w", err)
		}
		return nil
	}
	layout := escpos.Layout{Paper: escpos.Paper80}
	if *paper == 58 {
		layout.Paper = escpos.Paper58
	}
	if *profile != "" {
		set, err := profiles.Load()
		if err != nil {
			return err
		}
		prof, err := set.Get(*profile)
		if err != nil {
			return err
		}
		if prof.Driver != "escpos" {
			return usageError{fmt.Sprintf("profile %s is for driver %q, not a ticket printer", prof.ID, prof.Driver)}
		}
		layout = escpos.ModelLayout(prof.Quirks.PaperMM, prof.Quirks.Columns, prof.Quirks.Cutter, prof.Quirks.NativeQR)
	}
	job, err := escpos.EncodeTicketFor(escpos.TestTicket("", time.Now()), layout)
	if err != nil {
		return err
	}
	if err := p.Print(context.Background(), job); err != nil {
		return fmt.Errorf("test ticket not printed: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"target": target, "printed": true, "bytes": len(job)})
	}
	fmt.Printf("test ticket A001 printed on %s (%d bytes)\n", target, len(job))
	return nil
}
