package devices

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// OpenTCP connects to a raw TCP device port (JetDirect-style printers on 9100). Reads
// return ErrTimeout after readTimeout with no data, as serial ports do; writes fail after
// writeTimeout so a printer that stopped reading cannot hang its caller.
func OpenTCP(addr string, readTimeout, writeTimeout time.Duration) (Port, error) {
	if readTimeout <= 0 {
		readTimeout = 100 * time.Millisecond
	}
	if writeTimeout <= 0 {
		writeTimeout = 5 * time.Second
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
	t.c.SetWriteDeadline(time.Now().Add(t.wt))
	n, err := t.c.Write(b)
	if err != nil {
		return n, fmt.Errorf("devices: write %s: %w", t.addr, err)
	}
	return n, nil
}

func (t *tcpPort) Close() error   { return t.c.Close() }
func (t *tcpPort) String() string { return "tcp:" + t.addr }
