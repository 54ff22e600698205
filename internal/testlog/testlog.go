// Package testlog collects the logs of a test binary and checks them for leaked ID numbers.
package testlog

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/hallkiosk/hallkiosk/internal/idnum"
)

// Sink is an io.Writer that keeps everything written to it.
type Sink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *Sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// Bytes returns a copy of what was written.
func (s *Sink) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.buf.Bytes())
}

// Logger returns a debug-level JSON logger writing to the sink, the format kioskd uses
// when it does not run on a terminal.
func (s *Sink) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Leaks returns every full identity number found in the logs: 18-character and legacy
// 15-digit citizen numbers and foreign permanent resident numbers (see idnum.FindIDs).
func (s *Sink) Leaks() []string { return idnum.FindIDs(string(s.Bytes())) }

// Main runs the tests of a package, then fails the run if any log written to sink holds a
// full ID number. It also saves the logs to $HALLKIOSK_TESTLOG_DIR when that is set.
func Main(m *testing.M, sink *Sink, name string) {
	code := m.Run()
	logs := sink.Bytes()
	if dir := os.Getenv("HALLKIOSK_TESTLOG_DIR"); dir != "" {
		os.MkdirAll(dir, 0o755)
		os.WriteFile(dir+"/"+name+".log", logs, 0o644)
	}
	if leaks := idnum.FindIDs(string(logs)); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d full ID number(s) reached the logs of %s (first: %s...); mask them\n",
			len(leaks), name, idnum.MaskID(leaks[0]))
		code = 1
	} else if len(logs) == 0 && fullRun() {
		fmt.Fprintf(os.Stderr, "FAIL: no logs were collected from %s; the leak check saw nothing\n", name)
		code = 1
	} else {
		fmt.Fprintf(os.Stderr, "testlog: %s: %d bytes of logs checked, no full ID number\n", name, len(logs))
	}
	os.Exit(code)
}

// fullRun reports whether every test of the package ran (no -run filter, no fuzzing), so
// an empty log means the check saw nothing rather than that a filter skipped the tests.
func fullRun() bool {
	for _, name := range []string{"test.run", "test.fuzz", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return true
}

// Tee returns a writer that writes to the sink and to w.
func (s *Sink) Tee(w io.Writer) io.Writer { return io.MultiWriter(s, w) }
