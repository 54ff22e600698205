package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/hallkiosk/hallkiosk/devices/barcode/barcodesim"
	"github.com/hallkiosk/hallkiosk/internal/simctl"
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
	os.Remove(*ctl)
	ln, err := net.Listen("unix", *ctl)
	if err != nil {
		return err
	}
	defer ln.Close()
	go simctl.Serve(ln, sim.Exec)
	log.Info("scanner simulator running", "link", *link, "control", *ctl)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
