package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/hallkiosk/hallkiosk/devices/barcode/barcodesim"
)

func runScanner(args []string) error {
	fs := flag.NewFlagSet("devsim scanner", flag.ContinueOnError)
	link := fs.String("link", "", "symlink path for the pty slave (required)")
	suffix := fs.String("suffix", "cr", "suffix after each code: cr, lf, crlf or none")
	ctl := fs.String("control", "", "control socket path (default LINK.ctl)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *link == "" {
		return fmt.Errorf("--link is required")
	}
	if *ctl == "" {
		*ctl = *link + ".ctl"
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sim := barcodesim.New(barcodesim.Config{Link: *link, Suffix: barcodesim.Suffix(*suffix), Log: log})
	if err := sim.Start(); err != nil {
		return err
	}
	defer sim.Close()
	return serveUntilSignal(log, *ctl, sim.Exec, "scanner simulator running", "link", *link)
}
