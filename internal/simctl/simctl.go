// Package simctl serves and calls the line-based control protocol of the device simulators.
package simctl

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Serve answers control commands on ln until it is closed: one command a line in, the
// line exec returns ("ok ..." or "err ...") back.
func Serve(ln net.Listener, exec func(string) string) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer conn.Close()
			sc := bufio.NewScanner(conn)
			for sc.Scan() {
				if _, err := fmt.Fprintln(conn, exec(sc.Text())); err != nil {
					return
				}
			}
		}()
	}
}

// Listen serves exec on a Unix socket at path, replacing a stale socket left by a killed
// simulator. Closing the returned listener stops serving and removes the socket.
func Listen(path string, exec func(string) string) (net.Listener, error) {
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("simctl: %w", err)
	}
	go Serve(ln, exec)
	return ln, nil
}

// Call sends one command to the control socket at path and returns the answer without its
// "ok " prefix; an "err" answer is returned as an error.
func Call(path, cmd string) (string, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintln(c, cmd); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSpace(line)
	if rest, ok := strings.CutPrefix(line, "err"); ok {
		return "", fmt.Errorf("%s", strings.TrimSpace(rest))
	}
	return strings.TrimPrefix(line, "ok "), nil
}
