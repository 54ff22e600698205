package escpossim

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
)

// startSim runs the simulator on a pty and opens its port as a driver does.
func startSim(t *testing.T, cfg Config, wt time.Duration) (*Sim, devices.Port) {
	t.Helper()
	cfg.Link = filepath.Join(t.TempDir(), "printer")
	s := New(cfg)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := devices.OpenSerial(devices.SerialConfig{Path: cfg.Link, Baud: 115200, WriteTimeout: wt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return s, p
}

// readFor returns what the port gives within d.
func readFor(t *testing.T, p devices.Port, d time.Duration) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 64)
	for end := time.Now().Add(d); time.Now().Before(end); {
		n, err := p.Read(buf)
		if err != nil && !errors.Is(err, devices.ErrTimeout) {
			t.Fatalf("Read: %v", err)
		}
		got = append(got, buf[:n]...)
	}
	return got
}

func exec(t *testing.T, s *Sim, cmd string) {
	t.Helper()
	if ans := s.Exec(cmd); !strings.HasPrefix(ans, "ok") {
		t.Fatalf("Exec(%q) = %q", cmd, ans)
	}
}

var (
	gsr1 = []byte{0x1D, 0x72, 0x01}
	eot4 = []byte{0x10, 0x04, 0x04}
	cut  = []byte{0x1D, 0x56, 0x42, 0x03}
)

// DEVICES.md 3.3: DLE EOT is answered at once, GS r only after the data before it was
// processed, and a printer without paper processes nothing: it keeps the job.
func TestQueuedStatusWaitsForPaper(t *testing.T) {
	s, p := startSim(t, Config{}, 0)
	exec(t, s, "paper out")
	req := bytes.Join([][]byte{[]byte("\x1b@hello\n"), cut, gsr1, eot4}, nil)
	if _, err := p.Write(req); err != nil {
		t.Fatal(err)
	}
	if got := readFor(t, p, 300*time.Millisecond); !bytes.Equal(got, []byte{0x7E}) {
		t.Fatalf("answers with the paper out = % x; want only 7e (DLE EOT 4: no paper), GS r 1 held", got)
	}
	if n := len(s.Printed()); n != 0 {
		t.Fatalf("%d tickets cut with the paper out", n)
	}
	exec(t, s, "paper ok")
	if got := readFor(t, p, 300*time.Millisecond); !bytes.Equal(got, []byte{0x00}) {
		t.Fatalf("answers once paper is back = % x; want 00 (GS r 1: paper present)", got)
	}
	if pr := s.Printed(); len(pr) != 1 || !strings.Contains(pr[0].Text, "hello") {
		t.Fatalf("tickets once paper is back = %+v; want the held one", pr)
	}
}

// With its buffer full of a job it cannot print the printer takes no more bytes: the
// host's write times out instead of blocking, and the printer answers again once it
// could print what it held.
func TestFullBufferStopsTakingData(t *testing.T) {
	s, p := startSim(t, Config{Buffer: 1024}, 300*time.Millisecond)
	exec(t, s, "paper out")
	start := time.Now()
	_, err := p.Write(bytes.Repeat([]byte("x"), 1<<20))
	if !errors.Is(err, devices.ErrWriteTimeout) {
		t.Fatalf("Write of 1 MiB to a full printer = %v; want ErrWriteTimeout", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("the write timed out after %s; want about 300 ms", el)
	}
	exec(t, s, "paper ok")
	if _, err := p.Write(eot4); err != nil {
		t.Fatal(err)
	}
	if got := readFor(t, p, 2*time.Second); !bytes.Contains(got, []byte{0x12}) {
		t.Fatalf("after paper ok, DLE EOT 4 answered % x; want 12", got)
	}
}

func TestAnswerDelay(t *testing.T) {
	s, p := startSim(t, Config{}, 0)
	exec(t, s, "delay 300")
	start := time.Now()
	if _, err := p.Write(eot4); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	for {
		n, err := p.Read(buf)
		if n > 0 {
			break
		}
		if !errors.Is(err, devices.ErrTimeout) || time.Since(start) > 2*time.Second {
			t.Fatalf("no answer: %v", err)
		}
	}
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Errorf("answer came after %s; want 300 ms", el)
	}
	for deadline := time.Now().Add(time.Second); s.Answered() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Answered() = %d; want 1", s.Answered())
		}
	}
}

func TestRealtimeScanAcrossReads(t *testing.T) {
	stream := []byte{0x1B, 0x40, 'A', 0x10, 0x04, 0x01, 0x10, 0x10, 0x04, 0x04, 0x10, 0x04, 0x31, 0x04, 0x10, 0x04, 0x02}
	want := []byte{1, 4, 2} // not 10 04 31: n is 1..4
	for size := 1; size <= len(stream); size++ {
		var r rtScanner
		var got []byte
		for off := 0; off < len(stream); off += size {
			r.scan(stream[off:min(off+size, len(stream))], func(n byte) { got = append(got, n) })
		}
		if !bytes.Equal(got, want) {
			t.Errorf("scan in %d-byte reads = % x; want % x", size, got, want)
		}
	}
}
