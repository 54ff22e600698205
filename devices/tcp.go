package devices

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// OpenTCP connects to a raw TCP device port (JetDirect-style printers on 9100). Reads
// return ErrTimeout after readTimeout with no data, as serial ports do; writes fail with
// ErrWriteTimeout when the device took no byte for writeTimeout (0: DefaultWriteTimeout),
// so a printer that stopped reading cannot hang its caller.
func OpenTCP(addr string, readTimeout, writeTimeout time.Duration) (Port, error) {
	if readTimeout <= 0 {
		readTimeout = 100 * time.Millisecond
	}
	if writeTimeout <= 0 {
		writeTimeout = DefaultWriteTimeout
	}
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return nil, fmt.Errorf("devices: connect %s: %w", addr, err)
	}
	return &tcpPort{c: c, addr: addr, rt: readTimeout, wt: writeTimeout}, nil
}

type tcpPort struct {
	c      net.Conn
	addr   string
	rt, wt time.Duration
}

func (t *tcpPort) Read(b []byte) (int, error) {
	t.c.SetReadDeadline(time.Now().Add(t.rt))
	n, err := t.c.Read(b)
	if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, ErrTimeout
	}
	if n == 0 && err != nil {
		return 0, fmt.Errorf("devices: read %s: %w", t.addr, err)
	}
	return n, nil
}

func (t *tcpPort) Write(b []byte) (int, error) {
	n, err := writeWithin(t.c, b, t.wt)
	if err != nil {
		return n, fmt.Errorf("devices: write %s: %w", t.addr, err)
	}
	return n, nil
}

// FlushInput discards what the device sent and nobody read yet, without waiting: it reads
// the socket (non-blocking under Go's poller) until it is empty.
func (t *tcpPort) FlushInput() error {
	sc, ok := t.c.(syscall.Conn)
	if !ok {
		return errors.ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	buf := make([]byte, 256)
	for range 64 {
		n := 0
		if err := rc.Read(func(fd uintptr) bool {
			n, _ = syscall.Read(int(fd), buf)
			return true // never wait for more
		}); err != nil {
			return err
		}
		if n <= 0 {
			break
		}
	}
	return nil
}

func (t *tcpPort) Close() error   { return t.c.Close() }
func (t *tcpPort) String() string { return "tcp:" + t.addr }
