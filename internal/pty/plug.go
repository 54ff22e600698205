package pty

import (
	"os"
	"sync"
)

// Plug is a simulated device's cable: a pty at a stable link path that can be pulled out
// and put back in, with Serve running on the master while it is plugged in.
type Plug struct {
	Link  string
	Serve func(master *os.File)

	mu   sync.Mutex
	pair *Pair
	done chan struct{}
}

// In plugs in: it unplugs any current pty, opens a new one, links it at Link and starts
// Serve on its master.
func (p *Plug) In() (*Pair, error) {
	p.Out()
	pair, err := Open()
	if err != nil {
		return nil, err
	}
	if err := pair.Link(p.Link); err != nil {
		pair.Close()
		return nil, err
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.pair, p.done = pair, done
	p.mu.Unlock()
	go func() {
		defer close(done)
		p.Serve(pair.Master)
	}()
	return pair, nil
}

// Out unplugs, as pulling the USB cable does: it removes the link, closes the pty (which
// ends Serve's pending read) and waits for Serve to return.
func (p *Plug) Out() error {
	p.mu.Lock()
	pair, done := p.pair, p.done
	p.pair = nil
	p.mu.Unlock()
	if pair == nil {
		return nil
	}
	os.Remove(p.Link)
	err := pair.Close()
	<-done
	return err
}

// Master is the plugged-in pty's master, or nil when unplugged.
func (p *Plug) Master() *os.File {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pair == nil {
		return nil
	}
	return p.pair.Master
}

// Plugged reports whether the device is plugged in.
func (p *Plug) Plugged() bool { return p.Master() != nil }
