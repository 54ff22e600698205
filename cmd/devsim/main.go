// Command devsim runs device simulators that speak each device's real wire protocol on a
// pseudo-terminal, for tests and for trying Hallkiosk without hardware.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hallkiosk/hallkiosk/devices/idcard/idcardsim"
	"github.com/hallkiosk/hallkiosk/internal/simctl"
)

const usage = `usage:
  devsim idcard --link PATH [--cards FILE] [--baud 115200] [--control PATH]
      simulate a GA 467 ID-card reader on a pty linked at PATH; control socket at
      PATH.ctl unless --control is given
  devsim printer [--link PATH] [--listen 127.0.0.1:9100] --out DIR [--paper 80] [--baud 115200] [--control PATH]
      simulate an ESC/POS ticket printer on a pty and/or TCP; every cut ticket is
      written to DIR as NNN.txt and NNN.png
  devsim scanner --link PATH [--suffix cr|lf|crlf|none] [--control PATH]
      simulate a serial barcode/QR scanner on a pty; "scan TEXT" on the control
      socket sends a code
  devsim ctl --control PATH COMMAND...
      send one control command (e.g. "place 0", "fault readfail", "unplug") and print
      the answer; "devsim ctl --control PATH help" lists them
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "idcard":
		err = runIDCard(os.Args[2:])
	case "printer":
		err = runPrinter(os.Args[2:])
	case "scanner":
		err = runScanner(os.Args[2:])
	case "ctl":
		err = runCtl(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		err = fmt.Errorf("unknown simulator %q\n%s", os.Args[1], usage)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devsim:", err)
		os.Exit(1)
	}
}

func runIDCard(args []string) error {
	fs := flag.NewFlagSet("devsim idcard", flag.ContinueOnError)
	link := fs.String("link", "", "path of the symlink to the pty slave (required)")
	cardsPath := fs.String("cards", "", "card fixture file (JSON); default: built-in fictitious cards")
	baud := fs.Int("baud", 115200, "pace answers at this baud rate (0: unpaced)")
	ctl := fs.String("control", "", "control socket path (default LINK.ctl)")
	place := fs.Int("place", -1, "place this fixture card at start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *link == "" {
		return fmt.Errorf("--link is required")
	}
	if *ctl == "" {
		*ctl = *link + ".ctl"
	}
	cards, err := idcardsim.DefaultCards()
	if *cardsPath != "" {
		cards, err = idcardsim.LoadCards(*cardsPath)
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sim := idcardsim.New(idcardsim.Config{Link: *link, Baud: *baud, Cards: cards, Log: log})
	if err := sim.Start(); err != nil {
		return err
	}
	defer sim.Close()
	if *place >= 0 {
		if err := sim.Place(*place); err != nil {
			return err
		}
	}
	return serveUntilSignal(log, *ctl, sim.Exec, "ID-card reader simulator running", "link", *link, "cards", len(cards), "baud", *baud)
}

// serveUntilSignal serves a simulator's control socket and runs until SIGINT or SIGTERM.
func serveUntilSignal(log *slog.Logger, ctl string, exec func(string) string, msg string, attrs ...any) error {
	ln, err := simctl.Listen(ctl, exec)
	if err != nil {
		return err
	}
	defer ln.Close()
	log.Info(msg, append(attrs, "control", ctl)...)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

func runCtl(args []string) error {
	fs := flag.NewFlagSet("devsim ctl", flag.ContinueOnError)
	ctl := fs.String("control", "", "control socket path (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ctl == "" || fs.NArg() == 0 {
		return fmt.Errorf("usage: devsim ctl --control PATH COMMAND...")
	}
	answer, err := simctl.Call(*ctl, strings.Join(fs.Args(), " "))
	if err != nil {
		return err
	}
	fmt.Println(strings.ReplaceAll(answer, " | ", "\n"))
	return nil
}
