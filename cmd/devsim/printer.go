package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/devices/escpos/escpossim"
)

func runPrinter(args []string) error {
	fs := flag.NewFlagSet("devsim printer", flag.ContinueOnError)
	link := fs.String("link", "", "symlink path for the pty slave")
	listen := fs.String("listen", "", "TCP address, e.g. 127.0.0.1:9100")
	out := fs.String("out", "", "directory for the printed tickets (required)")
	paper := fs.Int("paper", 80, "paper width in mm: 58 or 80")
	baud := fs.Int("baud", 115200, "pty pacing (0: unpaced)")
	ctl := fs.String("control", "", "control socket path (default LINK.ctl, or OUT/printer.ctl)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || (*link == "" && *listen == "") {
		return fmt.Errorf("--out and at least one of --link, --listen are required")
	}
	pp := escpos.Paper80
	if *paper == 58 {
		pp = escpos.Paper58
	}
	if *ctl == "" {
		*ctl = *out + "/printer.ctl"
		if *link != "" {
			*ctl = *link + ".ctl"
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sim := escpossim.New(escpossim.Config{Link: *link, Listen: *listen, Out: *out, Paper: pp, Baud: *baud, Log: log})
	if err := sim.Start(); err != nil {
		return err
	}
	defer sim.Close()
	return serveUntilSignal(log, *ctl, sim.Exec, "printer simulator running", "link", *link, "tcp", sim.Addr(), "out", *out)
}
