package idcard_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/devices/idcard"
	"github.com/hallkiosk/hallkiosk/internal/pty"
)

// Each command succeeds only with its documented SW3 (DEVICES.md 1.3, 1.4): 9F for find
// card, 90 for every other command.
func TestErrForAcceptsOnlyTheCommandsSuccess(t *testing.T) {
	cmds := []idcard.Command{idcard.CmdResetSAM, idcard.CmdSAMStatus, idcard.CmdSAMID, idcard.CmdFind, idcard.CmdSelect,
		idcard.CmdReadBase, idcard.CmdReadAppendedAddress, idcard.CmdReadWithFingerprint,
		{Cmd: 0x60, Para: 0x04}, idcard.CmdSetMaxRFFrame(80)}
	for _, cmd := range cmds {
		success := byte(0x90)
		if cmd.Cmd == 0x20 && cmd.Para == 0x01 {
			success = 0x9F
		}
		for _, sw3 := range []byte{0x90, 0x9F, 0x91, 0x80, 0x81, 0x41, 0x60, 0x21} {
			err := idcard.Response{SW3: sw3}.ErrFor(cmd)
			var st *idcard.StatusError
			switch {
			case sw3 == success && err != nil:
				t.Errorf("ErrFor(%v) of SW3 %02X = %v; want nil", cmd, sw3, err)
			case sw3 != success && (!errors.As(err, &st) || st.SW3 != sw3):
				t.Errorf("ErrFor(%v) of SW3 %02X = %v; want a StatusError with SW3 %02X", cmd, sw3, err, sw3)
			}
		}
	}
	if err := (idcard.Response{SW3: 0x9F}).ErrFor(idcard.CmdSAMStatus); err == nil || err.Error() != `idcard: unexpected "card found" answer (sw3=0x9F)` {
		t.Errorf("ErrFor(SAM status) of 9F = %v; want an unexpected-answer error", err)
	}
	if got, want := idcard.CmdSetMaxRFFrame(0x50).Bytes(), unhex(t, "AA AA AA 96 69 00 04 61 FF 50 CA"); !bytes.Equal(got, want) {
		t.Errorf("CmdSetMaxRFFrame(0x50) = % X; want % X", got, want)
	}
}

// scripted is a reader on a real pty that answers each command with a fixed SW3.
func scripted(t *testing.T, sw3 map[[2]byte]byte) *idcard.Conn {
	t.Helper()
	plug := &pty.Plug{Link: filepath.Join(t.TempDir(), "reader"), Serve: func(m *os.File) {
		var buf []byte
		rd := make([]byte, 256)
		for {
			n, err := m.Read(rd)
			if err != nil {
				return
			}
			buf = append(buf, rd[:n]...)
			for {
				cmd, used, err := idcard.ParseCommand(buf)
				buf = buf[used:]
				if errors.Is(err, idcard.ErrIncomplete) {
					break
				}
				var data []byte
				switch {
				case cmd.Cmd == 0x12:
					data = make([]byte, idcard.SAMIDSize)
				case sw3[[2]byte{cmd.Cmd, cmd.Para}] == 0x9F:
					data = make([]byte, 4)
				}
				m.Write(idcard.BuildResponse(0, 0, sw3[[2]byte{cmd.Cmd, cmd.Para}], data))
			}
		}
	}}
	if _, err := plug.In(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plug.Out() })
	p, err := devices.OpenSerial(devices.SerialConfig{Path: plug.Link, Baud: 115200})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return idcard.NewConn(p, 500*time.Millisecond)
}

// A reader that answers a command with another command's success code is not obeyed:
// "card found" does not mean the SAM is well, and "success" to find is not a card.
func TestConnRejectsAnotherCommandsSuccess(t *testing.T) {
	t.Run("SAM status answered 9F", func(t *testing.T) {
		c := scripted(t, map[[2]byte]byte{{0x11, 0xFF}: 0x9F})
		if err := c.SAMStatus(); err == nil {
			t.Errorf("SAMStatus() = nil on a 9F answer; want a StatusError")
		}
	})
	t.Run("SAM id answered 9F", func(t *testing.T) {
		c := scripted(t, map[[2]byte]byte{{0x12, 0xFF}: 0x9F})
		if id, err := c.SAMID(); err == nil {
			t.Errorf("SAMID() = %q, nil on a 9F answer; want a StatusError", id)
		}
	})
	t.Run("find answered 90", func(t *testing.T) {
		c := scripted(t, map[[2]byte]byte{{0x20, 0x01}: 0x90, {0x20, 0x02}: 0x90, {0x30, 0x01}: 0x41})
		_, err := c.ReadCard(false)
		var st *idcard.StatusError
		if !errors.As(err, &st) || st.SW3 != 0x90 {
			t.Errorf("ReadCard() after find answered 90 = %v; want a StatusError with SW3 90", err)
		}
	})
	t.Run("select answered 9F", func(t *testing.T) {
		c := scripted(t, map[[2]byte]byte{{0x20, 0x01}: 0x9F, {0x20, 0x02}: 0x9F, {0x30, 0x01}: 0x41})
		_, err := c.ReadCard(false)
		var st *idcard.StatusError
		if !errors.As(err, &st) || st.SW3 != 0x9F {
			t.Errorf("ReadCard() after select answered 9F = %v; want a StatusError with SW3 9F", err)
		}
	})
	t.Run("appended address answered 9F", func(t *testing.T) {
		c := scripted(t, map[[2]byte]byte{{0x30, 0x03}: 0x9F})
		if still, err := c.StillPresent(); err != nil || still {
			t.Errorf("StillPresent() on a 9F answer = %v, %v; want false, nil", still, err)
		}
	})
	t.Run("documented codes", func(t *testing.T) {
		c := scripted(t, map[[2]byte]byte{{0x11, 0xFF}: 0x90, {0x30, 0x03}: 0x91})
		if err := c.SAMStatus(); err != nil {
			t.Errorf("SAMStatus() on 90 = %v; want nil", err)
		}
		if still, err := c.StillPresent(); err != nil || !still {
			t.Errorf("StillPresent() on 91 = %v, %v; want true, nil", still, err)
		}
	})
}

// The command timeout leaves room for the longest answer at the line's speed: a fixed
// second cannot carry a 1295-byte answer at 9600 baud (1.35 s on the wire).
func TestCommandTimeoutFor(t *testing.T) {
	cases := []struct {
		baud int
		fp   bool
		want time.Duration
	}{
		{115200, false, time.Second + 1305*10*time.Second/115200},
		{0, false, time.Second + 1305*10*time.Second/115200},
		{9600, false, time.Second + 1305*10*time.Second/9600},
		{9600, true, time.Second + 2331*10*time.Second/9600},
	}
	for _, c := range cases {
		if got := idcard.CommandTimeoutFor(c.baud, c.fp); got != c.want {
			t.Errorf("CommandTimeoutFor(%d, %v) = %s; want %s", c.baud, c.fp, got, c.want)
		}
	}
	if wire := 1295 * 10 * time.Second / 9600; idcard.CommandTimeoutFor(9600, false) < wire+500*time.Millisecond {
		t.Errorf("CommandTimeoutFor(9600) leaves less than 0.5 s over the %s a read answer takes", wire)
	}
}
