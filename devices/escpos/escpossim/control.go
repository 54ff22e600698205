package escpossim

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/simctl"
)

// ControlHelp documents the printer simulator's control protocol (one command a line, one
// answer line back: "ok ..." or "err ...").
const ControlHelp = `commands:
  paper ok|low|out      paper present, near end, or out
  cover open|closed     open or close the cover
  offline on|off        take the printer offline
  failafter N           paper runs out after N more data bytes (mid-job failure)
  delay MS              send every status answer MS milliseconds late (0: at once)
  hang on|off           stop processing and answering entirely
  unplug | replug       remove or restore the pty link and TCP listener
  tickets               number of tickets cut
  last                  text of the last ticket
  state                 current state
  help                  this text`

// Exec runs one control command.
func (s *Sim) Exec(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return "err empty command"
	}
	arg := ""
	if len(f) > 1 {
		arg = f[1]
	}
	set := func(p *bool, on, off string) string {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch arg {
		case on:
			*p = true
		case off:
			*p = false
		default:
			return fmt.Sprintf("err usage: %s %s|%s", f[0], on, off)
		}
		s.notifyLocked()
		return "ok " + line
	}
	switch f[0] {
	case "help":
		return "ok " + strings.ReplaceAll(ControlHelp, "\n", " | ")
	case "paper":
		s.mu.Lock()
		defer s.mu.Unlock()
		switch arg {
		case "ok":
			s.paperLow, s.paperOut = false, false
		case "low":
			s.paperLow, s.paperOut = true, false
		case "out":
			s.paperOut = true
		default:
			return "err usage: paper ok|low|out"
		}
		s.notifyLocked()
		return "ok paper " + arg
	case "cover":
		return set(&s.coverOpen, "open", "closed")
	case "offline":
		return set(&s.offline, "on", "off")
	case "hang":
		return set(&s.hang, "on", "off")
	case "failafter":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			return "err usage: failafter N"
		}
		s.mu.Lock()
		s.failAfter = n
		s.mu.Unlock()
		return "ok failafter " + arg
	case "delay":
		ms, err := strconv.Atoi(arg)
		if err != nil || ms < 0 {
			return "err usage: delay MS"
		}
		s.mu.Lock()
		s.delay = time.Duration(ms) * time.Millisecond
		s.mu.Unlock()
		return "ok delay " + arg
	case "unplug":
		s.Unplug()
		return "ok unplugged"
	case "replug":
		if err := s.Replug(); err != nil {
			return "err " + err.Error()
		}
		return "ok replugged"
	case "tickets":
		return fmt.Sprintf("ok %d", len(s.Printed()))
	case "last":
		p := s.Printed()
		if len(p) == 0 {
			return "err no ticket yet"
		}
		return "ok " + strings.ReplaceAll(strings.TrimSpace(p[len(p)-1].Text), "\n", " | ")
	case "state":
		s.mu.Lock()
		defer s.mu.Unlock()
		return fmt.Sprintf("ok plugged=%v paper_low=%v paper_out=%v cover_open=%v offline=%v hang=%v fail_after=%d delay_ms=%d tickets=%d",
			s.plugged, s.paperLow, s.paperOut, s.coverOpen, s.offline, s.hang, s.failAfter, s.delay.Milliseconds(), len(s.printed))
	}
	return "err unknown command " + strconv.Quote(f[0]) + " (try help)"
}

// ServeControl answers control commands on ln until it is closed.
func (s *Sim) ServeControl(ln net.Listener) error { return simctl.Serve(ln, s.Exec) }
