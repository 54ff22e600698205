package idcardsim

import (
	"fmt"
	"github.com/hallkiosk/hallkiosk/internal/simctl"
	"net"
	"strconv"
	"strings"
)

// ControlHelp documents the control protocol: one command a line, one answer line back
// ("ok ..." or "err ...").
const ControlHelp = `commands:
  cards                 list fixture cards (index, type, masked name)
  place N               put fixture card N on the reader
  remove                take the card away
  fault KIND [N|on]     next N answers (default 1; "on" = until cleared) misbehave:
                        checksum  wrong XOR byte
                        readfail  card read answers SW3 0x41
                        junk      junk bytes before the answer
                        garbage   random bytes instead of the answer
                        truncate  only the first half of the answer
                        silence   no answer
                        sam       SAM self-test failed: every command answers SW3 0x60
  clear                 remove all faults
  unplug                close the pty and remove the link
  replug                open a new pty and relink
  state                 show card, faults, plugged, RF frame size set by the host
  help                  this text`

// Exec runs one control command and returns its answer line.
func (s *Sim) Exec(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return "err empty command"
	}
	fail := func(err error) string { return "err " + err.Error() }
	switch f[0] {
	case "help":
		return "ok " + strings.ReplaceAll(ControlHelp, "\n", " | ")
	case "cards":
		var parts []string
		for i, c := range s.cfg.Cards {
			parts = append(parts, fmt.Sprintf("%d:%s:%s", i, c.Type, c.String()))
		}
		return "ok " + strings.Join(parts, " ")
	case "place":
		if len(f) != 2 {
			return "err usage: place N"
		}
		i, err := strconv.Atoi(f[1])
		if err != nil {
			return "err usage: place N"
		}
		if err := s.Place(i); err != nil {
			return fail(err)
		}
		return "ok placed " + f[1]
	case "remove":
		s.Remove()
		return "ok removed"
	case "fault":
		if len(f) < 2 || len(f) > 3 {
			return "err usage: fault KIND [N|on]"
		}
		n := 1
		if len(f) == 3 {
			if f[2] == "on" {
				n = -1
			} else if v, err := strconv.Atoi(f[2]); err == nil && v >= 0 {
				n = v
			} else {
				return "err usage: fault KIND [N|on]"
			}
		}
		if err := s.Inject(Fault(f[1]), n); err != nil {
			return fail(err)
		}
		return "ok fault " + f[1]
	case "clear":
		s.Clear()
		return "ok cleared"
	case "unplug":
		if err := s.Unplug(); err != nil {
			return fail(err)
		}
		return "ok unplugged"
	case "replug":
		if err := s.Replug(); err != nil {
			return fail(err)
		}
		return "ok replugged"
	case "state":
		s.mu.Lock()
		defer s.mu.Unlock()
		card := "none"
		if s.card != nil {
			card = s.card.String()
		}
		return fmt.Sprintf("ok plugged=%v card=%s faults=%v rf_frame=%d", s.plug.Plugged(), card, s.faults, s.rfFrame)
	}
	return "err unknown command " + strconv.Quote(f[0]) + " (try help)"
}

// ServeControl answers control commands on ln until it is closed.
func (s *Sim) ServeControl(ln net.Listener) error { return simctl.Serve(ln, s.Exec) }
