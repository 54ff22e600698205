package devices

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// OpenFile opens a device file such as a USB printer class device (/dev/usb/lp0). Reads
// wait at most readTimeout (poll(2) on the descriptor) and then return ErrTimeout; the usblp
// driver answers status commands through read when the printer is bidirectional.
func OpenFile(path string, readTimeout time.Duration) (Port, error) {
	if readTimeout <= 0 {
		readTimeout = 100 * time.Millisecond
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("devices: open %s: %w", path, err)
	}
	return &filePort{fd: fd, path: path, rt: readTimeout}, nil
}

type filePort struct {
	fd   int
	path string
	rt   time.Duration
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
	if err != nil {
		return 0, fmt.Errorf("devices: read %s: %w", f.path, err)
	}
	if r == 0 {
		return 0, fmt.Errorf("devices: read %s: %w", f.path, ErrHangup)
	}
	return r, nil
}

func (f *filePort) Write(b []byte) (int, error) {
	n, err := unix.Write(f.fd, b)
	if err != nil {
		return max(n, 0), fmt.Errorf("devices: write %s: %w", f.path, err)
	}
	return n, nil
}

func (f *filePort) Close() error   { return unix.Close(f.fd) }
func (f *filePort) String() string { return "file:" + f.path }
