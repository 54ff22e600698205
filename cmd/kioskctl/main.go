// Command kioskctl is the technician's and manager's tool: it talks to devices directly
// or to a running kioskd's local admin API.
package main

import (
	"errors"
	"fmt"
	"os"
)

const usage = `usage: kioskctl COMMAND [flags]

devices (talk to the device directly; stop kioskd first if it holds the port):
  idcard read --port PATH [--baud N] [--timeout 10s] [--fingerprint] [--json]
        wait for a card, read it once, print it masked
  idcard sam --port PATH [--baud N] [--json]
        SAM status and SAM id of the reader

  printer status --port PATH [--baud 115200] | --tcp HOST:PORT | --file /dev/usb/lpN [--json]
        the printer's state (paper, cover, online); exit 1 when it cannot print
  printer test   ...same target flags... [--paper 58|80 | --profile ID] [--json]
        print a test ticket (Chinese text, number A001, QR code HALLKIOSK-TEST)
  scanner listen --port PATH [--baud 9600] [--count N] [--timeout D] [--suffix cr|lf|crlf|none]
                 [--strip-aim] [--max-len N] [--json]
        print scanned codes, one a line

running kioskd:
  health [--admin http://127.0.0.1:8080] [--json]
        every component's health; exit 1 when anything is down
  restart [--admin http://127.0.0.1:8080] [--wait 60s]
        stop kioskd cleanly and start it again in place (applies a pending node config
        from the platform now rather than after midnight); waits until it answers

uplink (a running kioskd):
  enrol --platform URL --code CODE         enrol with the platform; kioskd stores the token
  uplink [status] [--json]                 platform, state, backlog per stream, last success
  uplink dead [--json]                     events the platform rejected
  uplink requeue ID                        send a dead letter again
  uplink resume                            send again after the platform refused the token
                                           (it also resumes by itself once a pull succeeds)
  (flag: --admin http://127.0.0.1:8080)

hall queue (a running kioskd with the hall role; defaults fit make run):
  queue issue --category A [--json]        take a ticket
  queue call --window 3 [--json]           call the next ticket to window 3
  queue finish --window 3 [--outcome served|no_show|cancelled] [--next B] [--json]
                                           (--next: the same ticket goes on to category B)
  queue status [--json]                    waiting per category, served, no-shows, windows
  (flags: --hall http://127.0.0.1:8081 --tokens var/hall-tokens.json)

profiles:
  profiles list              firmware profiles built into this kioskctl
  profiles show ID           one profile in full
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "idcard":
		err = idcardCmd(args)
	case "printer":
		err = printerCmd(args)
	case "scanner":
		err = scannerCmd(args)
	case "health":
		err = healthCmd(args)
	case "restart":
		err = restartCmd(args)
	case "queue":
		err = queueCmd(args)
	case "profiles":
		err = profilesCmd(args)
	case "enrol":
		err = enrolCmd(args)
	case "uplink":
		err = uplinkCmd(args)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		err = fmt.Errorf("unknown command %q (see kioskctl help)", os.Args[1])
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "kioskctl:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "kioskctl:", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
