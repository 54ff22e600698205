// Package pty opens Linux pseudo-terminal pairs for device simulators and tests.
package pty

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Pair is an open pseudo-terminal: the simulator owns Master; drivers open SlavePath.
type Pair struct {
	Master    *os.File
	SlavePath string
	// hold keeps one slave descriptor open so reads on the master do not fail with EIO
	// while no driver has the port open (between an unplug and a driver's reopen).
	hold *os.File
}

// Open creates a pty pair in raw mode (no echo, no line editing, no CR/LF mapping), so
// binary frames pass unchanged even before a driver sets its own termios.
func Open() (*Pair, error) {
	// Non-blocking, so Go's poller owns the descriptor and Close ends a pending Read even
	// while a driver holds the slave open and sends nothing.
	fd0, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("pty: open /dev/ptmx: %w", err)
	}
	m := os.NewFile(uintptr(fd0), "/dev/ptmx")
	fd := fd0 // not m.Fd(): that would switch the descriptor back to blocking mode
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, fmt.Errorf("pty: unlock: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("pty: get number: %w", err)
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("pty: get termios: %w", err)
	}
	makeRaw(t)
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		m.Close()
		return nil, fmt.Errorf("pty: set raw: %w", err)
	}
	hold, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("pty: open %s: %w", path, err)
	}
	return &Pair{Master: m, SlavePath: path, hold: hold}, nil
}

func makeRaw(t *unix.Termios) {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
}

// Close closes both ends: to a driver holding the slave this looks like an unplugged device.
func (p *Pair) Close() error {
	err := p.Master.Close()
	if p.hold != nil {
		p.hold.Close()
	}
	return err
}

// Link points the symlink at path to the slave, replacing any old link atomically, so a
// driver configured with a stable path finds the new pty after a replug.
func (p *Pair) Link(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("pty: %w", err)
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(p.SlavePath, tmp); err != nil {
		return fmt.Errorf("pty: link %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pty: link %s: %w", path, err)
	}
	return nil
}
