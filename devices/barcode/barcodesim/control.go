package barcodesim

import (
	"encoding/hex"
	"fmt"
	"github.com/hallkiosk/hallkiosk/internal/simctl"
	"net"
	"strconv"
	"strings"
)

// ControlHelp documents the control protocol: one command a line, one answer line back
// ("ok ..." or "err ...").
const ControlHelp = `commands:
  scan TEXT             send TEXT (the rest of the line) and the suffix
  scanhex HEX           send raw bytes, no suffix (e.g. scanhex c3280d for bad UTF-8 + CR)
  suffix cr|lf|crlf|none  set the suffix sent after scan
  triggers              list trigger commands received from the host
  unplug                close the pty and remove the link
  replug                open a new pty and relink
  state                 show plugged, suffix, counts
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
	case "scan":
		text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "scan"))
		if text == "" {
			return "err usage: scan TEXT"
		}
		if err := s.Scan(text); err != nil {
			return fail(err)
		}
		return fmt.Sprintf("ok sent %d bytes", len(text))
	case "scanhex":
		if len(f) != 2 {
			return "err usage: scanhex HEX"
		}
		b, err := hex.DecodeString(f[1])
		if err != nil || len(b) == 0 {
			return "err usage: scanhex HEX (even number of hex digits)"
		}
		if err := s.Send(b); err != nil {
			return fail(err)
		}
		return fmt.Sprintf("ok sent %d bytes", len(b))
	case "suffix":
		if len(f) != 2 {
			return "err usage: suffix cr|lf|crlf|none"
		}
		if err := s.SetSuffix(Suffix(f[1])); err != nil {
			return fail(err)
		}
		return "ok suffix " + f[1]
	case "triggers":
		t := s.Triggers()
		if len(t) == 0 {
			return "ok none"
		}
		return "ok " + strings.Join(t, " ")
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
		return fmt.Sprintf("ok plugged=%v suffix=%s sent=%d triggers=%d", s.plug.Plugged(), s.suffix, s.scans, len(s.triggers))
	}
	return "err unknown command " + strconv.Quote(f[0]) + " (try help)"
}

// ServeControl answers control commands on ln until it is closed.
func (s *Sim) ServeControl(ln net.Listener) error { return simctl.Serve(ln, s.Exec) }
