package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/devices/idcard"
	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

func idcardCmd(args []string) error { return idcardRun(args, os.Stdout, os.Stderr) }

// idcardRun runs an idcard command, writing its result to stdout and prompts to stderr.
// A returned error is the one line main prints.
func idcardRun(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: kioskctl idcard read|sam --port PATH ..."}
	}
	fs := flag.NewFlagSet("kioskctl idcard "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.String("port", "", "serial port of the reader, e.g. /dev/ttyUSB0 (required)")
	baud := fs.Int("baud", 115200, "baud rate")
	asJSON := fs.Bool("json", false, "print one JSON object")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for a card (read)")
	fp := fs.Bool("fingerprint", false, "also read the fingerprint templates (read)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *port == "" {
		return usageError{"--port is required"}
	}
	p, err := devices.OpenSerial(devices.SerialConfig{Path: *port, Baud: *baud})
	if err != nil {
		return fmt.Errorf("no reader: %w", err)
	}
	defer p.Close()
	// A fixed second cannot carry a read's 1295 bytes at 9600 baud (1.35 s on the wire).
	c := idcard.NewConn(p, idcard.CommandTimeoutFor(*baud, *fp))
	switch args[0] {
	case "sam":
		return samCmd(c, *port, *asJSON, stdout)
	case "read":
		return readCmd(c, *port, *timeout, *fp, *asJSON, stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown idcard command %q: use read or sam", args[0])}
}

// checkReader turns the first exchange's failure into a one-line reason.
func checkReader(c *idcard.Conn, port string) error {
	err := c.SAMStatus()
	var st *idcard.StatusError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, idcard.ErrNoResponse):
		return fmt.Errorf("bad reader: no answer from %s (wrong port or baud rate?)", port)
	case errors.As(err, &st):
		return fmt.Errorf("bad reader: SAM fault: %w", err)
	}
	return fmt.Errorf("bad reader: %w", err)
}

func samCmd(c *idcard.Conn, port string, asJSON bool, stdout io.Writer) error {
	if err := checkReader(c, port); err != nil {
		return err
	}
	id, err := c.SAMID()
	if err != nil {
		return fmt.Errorf("bad reader: SAM id: %w", err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"status": "ok", "sam_id": id, "port": port})
	}
	fmt.Fprintf(stdout, "SAM status: ok\nSAM id:     %s\n", id)
	return nil
}

// readCmd polls for a card until one is read or timeout passes. With --json nothing but
// the card reaches stdout and nothing at all stderr: a failure is the returned error,
// which names the last reason. Without it, a person at the reader is told to place a card
// again whenever the reason a read failed changes.
func readCmd(c *idcard.Conn, port string, timeout time.Duration, fp, asJSON bool, stdout, stderr io.Writer) error {
	if err := checkReader(c, port); err != nil {
		return err
	}
	if !asJSON {
		fmt.Fprintln(stderr, "place the card on the reader...")
	}
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		card, err := c.ReadCard(fp)
		if err == nil {
			defer card.Wipe()
			return printCard(card, asJSON, stdout)
		}
		var st *idcard.StatusError
		switch {
		case errors.Is(err, idcard.ErrNoCard):
		case errors.As(err, &st), errors.Is(err, idcard.ErrBadCardData):
			if !asJSON && (lastErr == nil || lastErr.Error() != err.Error()) {
				fmt.Fprintln(stderr, "card could not be read; lift it and place it again:", err)
			}
			lastErr = err
		case errors.Is(err, idcard.ErrChecksum), errors.Is(err, idcard.ErrFrameLength), errors.Is(err, idcard.ErrNoResponse):
			lastErr = err
			c.Drain()
		default:
			return fmt.Errorf("reader lost: %w", err)
		}
		time.Sleep(400 * time.Millisecond)
	}
	if lastErr != nil {
		return fmt.Errorf("timeout after %s: no card read (last error: %v)", timeout, lastErr)
	}
	return fmt.Errorf("timeout after %s: no card on the reader", timeout)
}

// cardView is kioskctl's masked rendering of a card; the JSON keys are a public interface.
type cardView struct {
	CardType   string `json:"card_type"`
	Name       string `json:"name"`
	Sex        string `json:"sex"`
	Nation     string `json:"nation"`
	Birth      string `json:"birth"`
	Address    string `json:"address"`
	IDNumber   string `json:"id_number"`
	IDValid    bool   `json:"id_valid"`
	Issuer     string `json:"issuer"`
	ValidFrom  string `json:"valid_from"`
	ValidTo    string `json:"valid_to"`
	PhotoBytes int    `json:"photo_bytes"`
}

func maskedView(c *idcard.Card) cardView {
	name := c.Name
	if name == "" {
		name = c.NameEN
	}
	nation := c.Nation
	if c.Type == idcard.CardType("resident") {
		nation = idcard.NationName(c.Nation)
	}
	return cardView{CardType: string(c.Type), Name: idnum.MaskName(name), Sex: idcard.SexName(c.Sex), Nation: nation,
		Birth: c.Birth, Address: idnum.MaskAddress(c.Address), IDNumber: idnum.MaskID(c.IDNumber), IDValid: c.IDValid(),
		Issuer: c.Issuer, ValidFrom: c.ValidFrom, ValidTo: c.ValidTo, PhotoBytes: len(c.Photo)}
}

func printCard(c *idcard.Card, asJSON bool, stdout io.Writer) error {
	v := maskedView(c)
	if asJSON {
		return json.NewEncoder(stdout).Encode(v)
	}
	valid := "valid"
	if !v.IDValid {
		valid = "CHECK FAILED"
	}
	fmt.Fprintf(stdout, "card type:  %s\nname:       %s\nsex:        %s\nnation:     %s\nbirth:      %s\naddress:    %s\nid number:  %s (%s)\nissuer:     %s\nvalid:      %s to %s\nphoto:      %d bytes\n",
		v.CardType, v.Name, v.Sex, v.Nation, v.Birth, v.Address, v.IDNumber, valid, v.Issuer, v.ValidFrom, v.ValidTo, v.PhotoBytes)
	return nil
}
