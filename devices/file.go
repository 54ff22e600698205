package devices

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// OpenFile opens a device file such as a USB printer class device (/dev/usb/lp0). Reads
// wait at most readTimeout (poll(2) on the descriptor) and then return ErrTimeout; the usblp
// driver answers status commands through read when the printer is bidirectional. Writes
// fail with ErrWriteTimeout when the device takes no byte for DefaultWriteTimeout.
func OpenFile(path string, readTimeout time.Duration) (Port, error) {
	if readTimeout <= 0 {
		readTimeout = 100 * time.Millisecond
	}
	// Non-blocking: a blocking write to a printer that stopped taking data never returns.
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("devices: open %s: %w", path, err)
	}
	// Writes go through Go's poller, which gives them a deadline and makes Close safe
	// during a Write; reads poll(2) the descriptor themselves.
	return &filePort{fd: fd, w: os.NewFile(uintptr(fd), path), path: path, rt: readTimeout, wt: DefaultWriteTimeout}, nil
}

type filePort struct {
	fd     int
	w      *os.File // owns fd
	path   string
	rt, wt time.Duration
}

func (f *filePort) Read(b []byte) (int, error) {
	fds := []unix.PollFd{{Fd: int32(f.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(f.rt.Milliseconds()))
	if errors.Is(err, unix.EINTR) || (err == nil && n == 0) {
		return 0, ErrTimeout
	}
	if err != nil {
		return 0, fmt.Errorf("devices: poll %s: %w", f.path, err)
	}
	if fds[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 && fds[0].Revents&unix.POLLIN == 0 {
		return 0, fmt.Errorf("devices: read %s: %w", f.path, ErrHangup)
	}
	r, err := unix.Read(f.fd, b)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
		return 0, ErrTimeout
	}
	if err != nil {
		return 0, fmt.Errorf("devices: read %s: %w", f.path, err)
	}
	if r == 0 {
		return 0, fmt.Errorf("devices: read %s: %w", f.path, ErrHangup)
	}
	return r, nil
}

func (f *filePort) Write(b []byte) (int, error) {
	n, err := writeWithin(f.w, b, f.wt)
	if err != nil {
		return n, fmt.Errorf("devices: write %s: %w", f.path, err)
	}
	return n, nil
}

// FlushInput discards what the device sent and nobody read yet, without waiting.
func (f *filePort) FlushInput() error {
	buf := make([]byte, 256)
	for range 64 {
		n, err := unix.Read(f.fd, buf)
		if n <= 0 || err != nil {
			return nil
		}
	}
	return nil
}

func (f *filePort) Close() error   { return f.w.Close() }
func (f *filePort) String() string { return "file:" + f.path }

// deadlineWriter is a pollable *os.File or a net.Conn.
type deadlineWriter interface {
	Write(b []byte) (int, error)
	SetWriteDeadline(t time.Time) error
}

// writeWithin writes all of b to w, failing with ErrWriteTimeout once the device took no
// byte for idle. It tries again at least every 50 ms rather than waiting for the whole
// idle time in one go: room can appear without a wake-up for the writer (a tty moves its
// queued bytes on asynchronously), and one long wait that missed it would make a device
// that still reads look stalled.
func writeWithin(w deadlineWriter, b []byte, idle time.Duration) (int, error) {
	off, last := 0, time.Now()
	for {
		if err := w.SetWriteDeadline(time.Now().Add(min(idle, 50*time.Millisecond))); errors.Is(err, os.ErrNoDeadline) {
			// Not a file the runtime can wait on (a regular file, /dev/null): its writes do
			// not block, so a plain write is safe.
			return w.Write(b)
		} else if err != nil {
			return off, err
		}
		n, err := w.Write(b[off:])
		off += n
		if n > 0 {
			last = time.Now()
		}
		switch {
		case err == nil:
			return off, nil
		case !errors.Is(err, os.ErrDeadlineExceeded):
			return off, err
		case time.Since(last) >= idle:
			return off, ErrWriteTimeout
		}
	}
}
