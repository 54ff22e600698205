package devices_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/internal/pty"
	"golang.org/x/sys/unix"
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

// A device that stops reading (its buffer full, flow control held) must not block a
// write for ever: each port gives up once it took no byte for its write timeout.
func TestWriteToDeviceThatStopsReadingTimesOut(t *testing.T) {
	big := bytes.Repeat([]byte{0x55}, 8<<20)
	cases := []struct {
		name string
		open func(t *testing.T) devices.Port
		want time.Duration
	}{
		{"serial", func(t *testing.T) devices.Port {
			pair := openPair(t)
			p, err := devices.OpenSerial(devices.SerialConfig{Path: pair.SlavePath, Baud: 115200, WriteTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}, 300 * time.Millisecond},
		{"file", func(t *testing.T) devices.Port {
			pair := openPair(t)
			p, err := devices.OpenFile(pair.SlavePath, 0)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}, devices.DefaultWriteTimeout},
		{"tcp", func(t *testing.T) devices.Port {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() {
				c, err := ln.Accept()
				if err == nil {
					t.Cleanup(func() { c.Close() }) // accepted, never read
				}
			}()
			p, err := devices.OpenTCP(ln.Addr().String(), 0, 300*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}, 300 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.open(t)
			start := time.Now()
			done := make(chan error, 1)
			go func() {
				_, err := p.Write(big)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(c.want + 5*time.Second):
				t.Fatalf("Write to a device that stopped reading still blocked after %s", time.Since(start))
			}
			if !errors.Is(err, devices.ErrWriteTimeout) {
				t.Fatalf("Write = %v; want ErrWriteTimeout", err)
			}
			if took := time.Since(start); took < c.want || took > c.want+2*time.Second {
				t.Errorf("Write gave up after %s; want about %s", took, c.want)
			}
			closed := make(chan struct{})
			go func() { p.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(2 * time.Second):
				t.Fatal("Close blocked on the unsent output")
			}
		})
	}
}

// FlushInput drops what the device sent and nobody read, at once.
func TestFlushInput(t *testing.T) {
	pair := openPair(t)
	for _, kind := range []string{"serial", "file"} {
		t.Run(kind, func(t *testing.T) {
			var p devices.Port
			var err error
			if kind == "serial" {
				p, err = devices.OpenSerial(devices.SerialConfig{Path: pair.SlavePath, Baud: 115200})
			} else {
				p, err = devices.OpenFile(pair.SlavePath, 0)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			pair.Master.Write([]byte{0x12, 0x12, 0x12})
			waitReadable(t, pair.SlavePath)
			f, ok := p.(interface{ FlushInput() error })
			if !ok {
				t.Fatalf("%T has no FlushInput", p)
			}
			if err := f.FlushInput(); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 8)
			if n, err := p.Read(buf); !errors.Is(err, devices.ErrTimeout) {
				t.Fatalf("Read after FlushInput = % x, %v; want ErrTimeout", buf[:n], err)
			}
		})
	}
}

func openPair(t *testing.T) *pty.Pair {
	t.Helper()
	pair, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pair.Close() })
	return pair
}

// waitReadable waits until the tty at path has input, without reading it.
func waitReadable(t *testing.T, path string) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 2000); n != 1 || err != nil {
		t.Fatalf("no input on %s within 2 s: %v", path, err)
	}
}

// TestFileWriteToPlainFiles: --file also takes a regular file or /dev/null (a dump of the
// job), whose writes the runtime cannot put a deadline on.
func TestFileWriteToPlainFiles(t *testing.T) {
	dump := filepath.Join(t.TempDir(), "job.bin")
	if err := os.WriteFile(dump, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dump, os.DevNull} {
		p, err := devices.OpenFile(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := p.Write([]byte("\x1b@hello\n")); err != nil || n != 8 {
			t.Errorf("Write to %s = %d, %v; want 8, nil", path, n, err)
		}
		p.Close()
	}
	if b, _ := os.ReadFile(dump); string(b) != "\x1b@hello\n" {
		t.Errorf("dump holds %q", b)
	}
}
