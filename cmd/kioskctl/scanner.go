package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/devices/barcode"
)

// scanCode is the JSON line printed per code with --json; the keys are a public interface.
type scanCode struct {
	Text      string `json:"text"`
	Symbology string `json:"symbology"`
}

func scannerCmd(args []string) error {
	if len(args) == 0 || args[0] != "listen" {
		return usageError{"usage: kioskctl scanner listen --port PATH [--baud 9600] [--count N] [--timeout 0] [--strip-aim] [--json]"}
	}
	fs := flag.NewFlagSet("kioskctl scanner listen", flag.ContinueOnError)
	port := fs.String("port", "", "serial port of the scanner, e.g. /dev/ttyACM0 (required)")
	baud := fs.Int("baud", 9600, "baud rate (ignored by USB CDC scanners)")
	count := fs.Int("count", 0, "exit after N codes (0: until interrupted or --timeout)")
	timeout := fs.Duration("timeout", 0, "give up after this long (0: no limit)")
	stripAIM := fs.Bool("strip-aim", false, "the scanner sends AIM symbology prefixes (]Q1...): strip and report them")
	maxLen := fs.Int("max-len", barcode.DefaultMaxLen, "longest accepted code in bytes")
	suffix := fs.String("suffix", string(barcode.DefaultSuffix), "what the scanner sends after a code: cr, lf, crlf or none (codes then end at the pause)")
	asJSON := fs.Bool("json", false, `print one JSON object a line: {"text":...,"symbology":...}`)
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	switch {
	case *port == "":
		return usageError{"--port is required"}
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case *count < 0 || *timeout < 0 || *maxLen <= 0:
		return usageError{"--count and --timeout must not be negative, --max-len must be positive"}
	case !slices.Contains(barcode.Suffixes, barcode.Suffix(*suffix)):
		return usageError{fmt.Sprintf("--suffix %q: use cr, lf, crlf or none", *suffix)}
	}
	p, err := devices.OpenSerial(devices.SerialConfig{Path: *port, Baud: *baud, ReadTimeout: 100 * time.Millisecond})
	if err != nil {
		return fmt.Errorf("no scanner: %w", err)
	}
	defer p.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	// On stderr even with --json: it tells a person, or a script, that the port is open.
	fmt.Fprintln(os.Stderr, "scan codes now (Ctrl-C to stop)...")
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	f := barcode.Framer{MaxLen: *maxLen, Suffix: barcode.Suffix(*suffix), StripAIM: *stripAIM}
	buf := make([]byte, 1024)
	got := 0
	for ctx.Err() == nil {
		n, err := p.Read(buf)
		var rs []barcode.Result
		switch {
		case errors.Is(err, devices.ErrTimeout):
			rs = f.Flush(time.Now())
		case err != nil:
			return fmt.Errorf("scanner lost: %w", err)
		default:
			rs = f.Feed(buf[:n], time.Now())
		}
		for _, r := range rs {
			if r.Err != nil {
				// The content is not shown: it may be personal data and is not printable anyway.
				fmt.Fprintf(os.Stderr, "rejected a code of %d bytes: %v\n", r.Len, r.Err)
				continue
			}
			if *asJSON {
				if err := enc.Encode(scanCode{Text: r.Code, Symbology: r.Symbology}); err != nil {
					return err
				}
			} else {
				fmt.Println(r.Code)
			}
			got++
			if *count > 0 && got >= *count {
				return nil
			}
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && *count > 0 {
		return fmt.Errorf("timeout after %s: %d of %d codes scanned", *timeout, got, *count)
	}
	return nil
}
