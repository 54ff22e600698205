package clock

import (
	"testing"
	"time"
)

func TestFakeTimerStop(t *testing.T) {
	f := NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	a, stopA := Timer(f, time.Second)
	b, _ := Timer(f, 2*time.Second)
	if n := f.Waiters(); n != 2 {
		t.Fatalf("Waiters = %d; want 2", n)
	}
	stopA()
	stopA() // twice is harmless
	if n := f.Waiters(); n != 1 {
		t.Fatalf("Waiters after stop = %d; want 1 (a stopped timer no longer waits)", n)
	}
	f.Advance(2 * time.Second)
	select {
	case <-a:
		t.Error("a stopped timer fired")
	default:
	}
	select {
	case got := <-b:
		if want := f.Now(); !got.Equal(want) {
			t.Errorf("fired at %v; want %v", got, want)
		}
	default:
		t.Error("the running timer did not fire")
	}
	if n := f.Waiters(); n != 0 {
		t.Errorf("Waiters after firing = %d; want 0", n)
	}
}

func TestRealTimer(t *testing.T) {
	ch, stop := Timer(Real{}, time.Millisecond)
	<-ch
	stop()
	// Stopped before it is due, even if it expires before stop returns: since Go 1.23 a
	// stopped time.Timer delivers nothing.
	ch, stop = Timer(Real{}, time.Millisecond)
	stop()
	select {
	case <-ch:
		t.Error("a stopped real timer fired")
	case <-time.After(20 * time.Millisecond):
	}
}
