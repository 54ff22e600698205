package devices_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/internal/pty"
)

func TestSerialOverPTY(t *testing.T) {
	pair, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	p, err := devices.OpenSerial(devices.SerialConfig{Path: pair.SlavePath, Baud: 115200, ReadTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	// Every byte value passes unchanged both ways, CR/LF and XON/XOFF included.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if _, err := p.Write(all); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 256)
	if _, err := io.ReadFull(pair.Master, got); err != nil || !bytes.Equal(got, all) {
		t.Fatalf("host->device bytes changed: %v", err)
	}
	if _, err := pair.Master.Write(all); err != nil {
		t.Fatal(err)
	}
	var back []byte
	buf := make([]byte, 512)
	for len(back) < 256 {
		n, err := p.Read(buf)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		back = append(back, buf[:n]...)
	}
	if !bytes.Equal(back, all) {
		t.Fatalf("device->host bytes changed")
	}

	// No data: the read timeout is "no data yet", not an error.
	if n, err := p.Read(buf); n != 0 || !errors.Is(err, devices.ErrTimeout) {
		t.Fatalf("idle Read = %d, %v; want 0, ErrTimeout", n, err)
	}

	// The device goes away: reads fail with a real error, never a timeout.
	pair.Close()
	if _, err := p.Read(buf); !errors.Is(err, devices.ErrHangup) {
		t.Fatalf("Read after hang-up = %v; want ErrHangup", err)
	}
	if _, err := p.Write([]byte{1}); err == nil {
		t.Fatalf("Write after hang-up succeeded; want an error")
	}
}

func TestOpenSerialMissingPort(t *testing.T) {
	_, err := devices.OpenSerial(devices.SerialConfig{Path: t.TempDir() + "/absent", Baud: 115200})
	if err == nil {
		t.Fatal("OpenSerial of a missing path succeeded")
	}
}

// A device file (here a pty slave, as /dev/usb/lp0 would be) reads and times out like a port.
func TestFilePortOverPTY(t *testing.T) {
	pair, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	p, err := devices.OpenFile(pair.SlavePath, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Write([]byte{0x10, 0x04, 0x01}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 3)
	if _, err := io.ReadFull(pair.Master, got); err != nil || !bytes.Equal(got, []byte{0x10, 0x04, 0x01}) {
		t.Fatalf("device got %x, %v", got, err)
	}
	buf := make([]byte, 8)
	if _, err := p.Read(buf); !errors.Is(err, devices.ErrTimeout) {
		t.Fatalf("idle Read = %v; want ErrTimeout", err)
	}
	pair.Master.Write([]byte{0x12})
	if n, err := p.Read(buf); n != 1 || buf[0] != 0x12 || err != nil {
		t.Fatalf("Read = %d %x %v; want the status byte", n, buf[:n], err)
	}
	pair.Close()
	if _, err := p.Read(buf); err == nil || errors.Is(err, devices.ErrTimeout) {
		t.Fatalf("Read after hang-up = %v; want an error", err)
	}
}
