package devices

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/tarm/serial"
)

var (
	// ErrTimeout is returned by Port.Read when no byte arrived within the read timeout. It
	// means "no data yet", not a closed port.
	ErrTimeout = errors.New("devices: read timeout")
	// ErrHangup is returned by Port.Read when the line was hung up: the device was unplugged
	// or its pty closed.
	ErrHangup = errors.New("devices: port hung up (device unplugged?)")
)

// Port is an open byte transport to a device.
type Port interface {
	// Read returns at least one byte, or ErrTimeout when the read timeout passed with no
	// data, or another error when the transport failed (unplugged, closed).
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	Close() error
	String() string
}

// SerialConfig is a serial line's settings. The line is always 8 data bits, no parity,
// one stop bit unless said otherwise, as every device we drive uses.
type SerialConfig struct {
	Path        string
	Baud        int
	ReadTimeout time.Duration // rounded up to 0.1 s by the OS; 0 means 100 ms
	Parity      string        // "none" (default), "odd", "even"
	StopBits    int           // 1 (default) or 2
}

// OpenSerial opens a serial port through github.com/tarm/serial. A read timeout is always
// set: without one, Close blocks while a Read is pending.
func OpenSerial(c SerialConfig) (Port, error) {
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 100 * time.Millisecond
	}
	cfg := &serial.Config{Name: c.Path, Baud: c.Baud, ReadTimeout: c.ReadTimeout, Size: 8}
	switch c.Parity {
	case "", "none":
		cfg.Parity = serial.ParityNone
	case "odd":
		cfg.Parity = serial.ParityOdd
	case "even":
		cfg.Parity = serial.ParityEven
	default:
		return nil, fmt.Errorf("devices: %s: unknown parity %q", c.Path, c.Parity)
	}
	switch c.StopBits {
	case 0, 1:
		cfg.StopBits = serial.Stop1
	case 2:
		cfg.StopBits = serial.Stop2
	default:
		return nil, fmt.Errorf("devices: %s: unsupported stop bits %d", c.Path, c.StopBits)
	}
	p, err := serial.OpenPort(cfg)
	if err != nil {
		return nil, fmt.Errorf("devices: open %s: %w", c.Path, err)
	}
	return &serialPort{p: p, path: c.Path, timeout: c.ReadTimeout}, nil
}

type serialPort struct {
	p       *serial.Port
	path    string
	timeout time.Duration

	closeOnce sync.Once
	closeErr  error
}

func (s *serialPort) Read(b []byte) (int, error) {
	start := time.Now()
	n, err := s.p.Read(b)
	if n == 0 && err == io.EOF {
		// tarm/serial reports a VTIME timeout as (0, io.EOF), and a hung-up tty (unplugged
		// USB adapter, closed pty) reads as end of file, which it reports the same way. A
		// timeout cannot come before the timeout has run; an EOF comes at once.
		if time.Since(start) < s.timeout/2 {
			return 0, fmt.Errorf("devices: read %s: %w", s.path, ErrHangup)
		}
		return 0, ErrTimeout
	}
	if err != nil && n == 0 {
		return 0, fmt.Errorf("devices: read %s: %w", s.path, err)
	}
	return n, nil
}

func (s *serialPort) Write(b []byte) (int, error) {
	n, err := s.p.Write(b)
	if err != nil {
		return n, fmt.Errorf("devices: write %s: %w", s.path, err)
	}
	return n, nil
}

func (s *serialPort) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.p.Close() })
	return s.closeErr
}

func (s *serialPort) String() string { return "serial:" + s.path }
