package barcode_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices"
	"github.com/hallkiosk/hallkiosk/devices/barcode"
	"github.com/hallkiosk/hallkiosk/internal/clock"
	"github.com/hallkiosk/hallkiosk/internal/health"
)

// scriptPort replays reads, then times out forever; it records writes.
type scriptPort struct {
	mu      sync.Mutex
	reads   [][]byte
	written []byte
}

func (p *scriptPort) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.reads) == 0 {
		time.Sleep(time.Millisecond)
		return 0, devices.ErrTimeout
	}
	n := copy(b, p.reads[0])
	p.reads = p.reads[1:]
	return n, nil
}

func (p *scriptPort) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.written = append(p.written, b...)
	return len(b), nil
}

func (p *scriptPort) Close() error   { return nil }
func (p *scriptPort) String() string { return "script" }

func TestDroppedWhenNobodyReads(t *testing.T) {
	port := &scriptPort{}
	for i := 0; i < 20; i++ {
		port.reads = append(port.reads, []byte("CODE\r"))
	}
	reg := health.NewRegistry(nil)
	s := barcode.NewScanner(barcode.Config{Model: barcode.ModelHoneywell}, func() (devices.Port, error) { return port, nil },
		reg, logs.Logger().With("test", t.Name()), clock.Real{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	eventually(t, 3*time.Second, "20 codes read", func() bool { return s.Stats().Codes == 20 })
	if st := s.Stats(); st.DroppedEvents != 4 {
		t.Errorf("Stats() = %+v; want 4 dropped (16 buffered)", st)
	}
	if err := s.Trigger(true); err != nil {
		t.Fatal(err)
	}
	port.mu.Lock()
	got := string(port.written)
	port.mu.Unlock()
	if got != "\x16T\r" {
		t.Errorf("Trigger(true) wrote %q; want SYN T CR", got)
	}
}

func TestTriggerGenericModel(t *testing.T) {
	s := barcode.NewScanner(barcode.Config{}, nil, health.NewRegistry(nil), logs.Logger(), clock.Real{})
	if err := s.Trigger(true); !errors.Is(err, barcode.ErrNoTrigger) {
		t.Errorf("Trigger on a generic scanner = %v; want ErrNoTrigger", err)
	}
}
