package devices

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tarm/serial"
	"golang.org/x/sys/unix"
)

var (
	// ErrTimeout is returned by Port.Read when no byte arrived within the read timeout. It
	// means "no data yet", not a closed port.
	ErrTimeout = errors.New("devices: read timeout")
	// ErrHangup is returned by Port.Read when the line was hung up: the device was unplugged
	// or its pty closed.
	ErrHangup = errors.New("devices: port hung up (device unplugged?)")
	// ErrWriteTimeout is returned by Port.Write when the device took no byte for the write
	// timeout: it stopped reading (buffer full, flow control held, firmware hung). The
	// rest of the bytes were not sent; close the port, the device is out of step.
	ErrWriteTimeout = errors.New("devices: write timeout (device not taking data)")
)

// DefaultWriteTimeout is how long a write waits for a device that takes no byte. Writes
// that make progress go on: only a stall counts.
const DefaultWriteTimeout = 2 * time.Second

// Port is an open byte transport to a device.
type Port interface {
	// Read returns at least one byte, or ErrTimeout when the read timeout passed with no
	// data, or another error when the transport failed (unplugged, closed).
	Read(p []byte) (int, error)
	// Write writes all of p or fails. A device that takes no byte for the port's write
	// timeout makes it return ErrWriteTimeout (wrapped): no write blocks for ever.
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
	// WriteTimeout: a write fails when the device took no byte for this long; 0 means
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	Parity       string // "none" (default), "odd", "even"
	StopBits     int    // 1 (default) or 2
}

// OpenSerial opens a serial port through github.com/tarm/serial. A read timeout is always
// set: without one, Close blocks while a Read is pending.
//
// tarm/serial writes on a blocking descriptor it does not expose, so a device that stops
// reading would block Write for ever. Writes therefore go through a second, non-blocking
// descriptor of the same tty, under Go's poller with a deadline; the termios settings
// belong to the tty, not the descriptor, so both share them.
func OpenSerial(c SerialConfig) (Port, error) {
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 100 * time.Millisecond
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
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
	wfd, err := unix.Open(c.Path, unix.O_WRONLY|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("devices: open %s for writing: %w", c.Path, err)
	}
	w := os.NewFile(uintptr(wfd), c.Path) // non-blocking, so Go's poller takes it
	return &serialPort{p: p, w: w, path: c.Path, timeout: c.ReadTimeout, wt: c.WriteTimeout}, nil
}

type serialPort struct {
	p       *serial.Port
	w       *os.File // the tty again, non-blocking: writes with a deadline
	path    string
	timeout time.Duration
	wt      time.Duration
	stalled atomic.Bool // a write timed out: output is still queued for a device not reading

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
	n, err := writeWithin(s.w, b, s.wt)
	if err != nil {
		if errors.Is(err, ErrWriteTimeout) {
			s.stalled.Store(true)
		}
		return n, fmt.Errorf("devices: write %s: %w", s.path, err)
	}
	return n, nil
}

// FlushInput discards what the device sent and nobody read yet, without waiting.
func (s *serialPort) FlushInput() error { return s.flush(unix.TCIFLUSH) }

// flush discards the tty's input (TCIFLUSH) or unsent output (TCOFLUSH).
func (s *serialPort) flush(queue int) error {
	rc, err := s.w.SyscallConn()
	if err != nil {
		return err
	}
	if cerr := rc.Control(func(fd uintptr) { err = unix.IoctlSetInt(int(fd), unix.TCFLSH, queue) }); cerr != nil {
		return cerr
	}
	return err
}

func (s *serialPort) Close() error {
	s.closeOnce.Do(func() {
		if s.stalled.Load() {
			// The last close of a tty waits (up to closing_wait, 30 s on serial drivers)
			// for queued output to go out; a device that stopped reading never takes it.
			s.flush(unix.TCOFLUSH)
		}
		s.w.Close()
		s.closeErr = s.p.Close()
	})
	return s.closeErr
}

func (s *serialPort) String() string { return "serial:" + s.path }
