package devices

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
)

// closeCounter is a port that only counts Close calls.
type closeCounter struct{ closed atomic.Int32 }

func (p *closeCounter) Read([]byte) (int, error)    { return 0, ErrTimeout }
func (p *closeCounter) Write(b []byte) (int, error) { return len(b), nil }
func (p *closeCounter) Close() error                { p.closed.Add(1); return nil }
func (p *closeCounter) String() string              { return "counter" }

// A driver whose session panics must not leak the port: the supervisor recovers the
// panic and restarts the driver, which opens the port again.
func TestReconnectClosesPortWhenSessionPanics(t *testing.T) {
	port := &closeCounter{}
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Errorf("the session's panic did not reach the caller")
			}
		}()
		Reconnect(context.Background(), clock.Real{}, time.Millisecond,
			func() (Port, error) { return port, nil },
			func(context.Context, Port, func()) error { panic("driver bug") },
			func(bool, error) {})
	}()
	if n := port.closed.Load(); n != 1 {
		t.Errorf("port closed %d times after a panicking session; want 1", n)
	}
}

// Each session's port is closed once, before the next open.
func TestReconnectClosesEachPort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var ports []*closeCounter
	sessions := 0
	Reconnect(ctx, clock.Real{}, time.Millisecond,
		func() (Port, error) {
			for i, p := range ports {
				if p.closed.Load() != 1 {
					t.Errorf("port %d not closed before the next open", i)
				}
			}
			ports = append(ports, &closeCounter{})
			return ports[len(ports)-1], nil
		},
		func(context.Context, Port, func()) error {
			if sessions++; sessions == 3 {
				cancel()
			}
			return errors.New("link lost")
		},
		func(bool, error) {})
	for i, p := range ports {
		if n := p.closed.Load(); n != 1 {
			t.Errorf("port %d closed %d times; want 1", i, n)
		}
	}
}
