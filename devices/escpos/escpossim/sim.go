package escpossim

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/internal/pty"
)

// Config sets up a simulated ticket printer.
type Config struct {
	Link   string // pty symlink path; empty: no pty
	Listen string // TCP address, e.g. 127.0.0.1:9100; empty: no TCP
	Out    string // directory for NNN.txt and NNN.png; empty: keep tickets in memory only
	Paper  escpos.Paper
	Baud   int // pty pacing: the simulator takes bytes no faster than this; 0 = unpaced
	// Buffer is the receive buffer: how many bytes the printer keeps while it cannot print
	// before it stops taking more. 0 means 4096, the size of an Epson TM receive buffer [U].
	Buffer int
	Log    *slog.Logger
}

// Printed is one ticket the simulator cut.
type Printed struct {
	Seq     int
	Ticket  *Ticket
	Text    string
	TxtPath string
	PNGPath string
}

// Sim is a simulated ESC/POS printer on a pty and/or a TCP port.
type Sim struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	paperLow  bool
	paperOut  bool
	coverOpen bool
	offline   bool
	hang      bool
	failAfter int           // paper runs out after this many more data bytes; -1 = never
	delay     time.Duration // every answer is sent this late (slow firmware or link)
	changed   chan struct{} // closed and replaced at every change of the state above
	printed   []Printed
	bytesIn   int64
	answered  atomic.Int64
	pair      *pty.Pair
	ptyDone   chan struct{}
	quit      chan struct{} // closed by Unplug
	ln        net.Listener
	conns     map[net.Conn]bool
	wg        sync.WaitGroup
	plugged   bool
}

// New returns a simulator; Start opens its pty and listener.
func New(cfg Config) *Sim {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Paper == 0 {
		cfg.Paper = escpos.Paper80
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 4096
	}
	return &Sim{cfg: cfg, log: cfg.Log.With("sim", "printer"), failAfter: -1, conns: map[net.Conn]bool{},
		changed: make(chan struct{})}
}

// Start plugs the printer in.
func (s *Sim) Start() error {
	if s.cfg.Out != "" {
		if err := os.MkdirAll(s.cfg.Out, 0o755); err != nil {
			return fmt.Errorf("escpossim: %w", err)
		}
	}
	return s.Replug()
}

// Addr is the TCP address the simulator listens on, if any.
func (s *Sim) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Replug (re)opens the pty and the TCP listener.
func (s *Sim) Replug() error {
	s.Unplug()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quit = make(chan struct{})
	quit := s.quit
	if s.cfg.Link != "" {
		pair, err := pty.Open()
		if err != nil {
			return err
		}
		if err := pair.Link(s.cfg.Link); err != nil {
			pair.Close()
			return err
		}
		s.pair, s.ptyDone = pair, make(chan struct{})
		go func(done chan struct{}) {
			defer close(done)
			s.serve(pair.Master, s.cfg.Baud, quit)
		}(s.ptyDone)
	}
	if s.cfg.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.Listen)
		if err != nil {
			return fmt.Errorf("escpossim: listen: %w", err)
		}
		s.ln = ln
		if s.cfg.Listen != ln.Addr().String() {
			s.cfg.Listen = ln.Addr().String() // keep the chosen port across replugs
		}
		s.wg.Add(1)
		go s.accept(ln, quit)
	}
	s.plugged = true
	s.log.Info("printer plugged in", "link", s.cfg.Link, "tcp", s.cfg.Listen)
	return nil
}

// Unplug closes the pty (removing its link) and the TCP listener and connections.
func (s *Sim) Unplug() error {
	s.mu.Lock()
	pair, done, ln := s.pair, s.ptyDone, s.ln
	s.pair, s.ln, s.plugged = nil, nil, false
	if s.quit != nil {
		close(s.quit)
		s.quit = nil
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	if pair != nil {
		os.Remove(s.cfg.Link)
		pair.Close()
		<-done
	}
	if ln != nil {
		ln.Close()
	}
	s.wg.Wait()
	return nil
}

// Close unplugs for good.
func (s *Sim) Close() error { return s.Unplug() }

func (s *Sim) accept(ln net.Listener, quit <-chan struct{}) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c, 0, quit)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// intake counts b in and applies the fault state: with the printer hung it discards b;
// when the paper is due to run out inside b, head is what comes before that point and
// tail the rest, to be fed after runOut.
func (s *Sim) intake(b []byte) (head, tail []byte, ranOut, discard bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bytesIn += int64(len(b))
	if s.hang {
		return nil, nil, false, true
	}
	if s.failAfter >= 0 {
		if len(b) <= s.failAfter {
			s.failAfter -= len(b)
		} else {
			keep := s.failAfter
			s.failAfter = -1
			s.log.Info("paper runs out mid-job", "after_bytes", keep)
			return b[:keep], b[keep:], true, false
		}
	}
	return b, nil, false, false
}

// runOut is the paper running out under the head.
func (s *Sim) runOut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paperOut = true
	s.notifyLocked()
}

// printing reports whether the mechanism can run: paper in, cover closed, online.
func (s *Sim) printing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.paperOut && !s.coverOpen && !s.offline
}

// changes returns a channel closed at the next change of the printer's state.
func (s *Sim) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Sim) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Sim) answerDelay() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delay
}

// Answered counts the answer bytes sent to hosts.
func (s *Sim) Answered() int64 { return s.answered.Load() }

func (s *Sim) realtime(n byte) byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.realtimeLocked(n)
}

func (s *Sim) realtimeLocked(n byte) byte {
	b := byte(0x12)
	off := s.offline || s.coverOpen || s.paperOut
	switch n {
	case 1:
		if off {
			b |= 0x08
		}
	case 2:
		if s.coverOpen {
			b |= 0x04
		}
		if s.paperOut {
			b |= 0x20
		}
		if off {
			b |= 0x40
		}
	case 4:
		if s.paperLow || s.paperOut {
			b |= 0x0C
		}
		if s.paperOut {
			b |= 0x60
		}
	}
	return b
}

func (s *Sim) store(t *Ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Printed{Seq: len(s.printed) + 1, Ticket: t, Text: string(RenderText(t))}
	if s.cfg.Out != "" {
		base := filepath.Join(s.cfg.Out, fmt.Sprintf("%03d", p.Seq))
		p.TxtPath, p.PNGPath = base+".txt", base+".png"
		if err := os.WriteFile(p.TxtPath, []byte(p.Text), 0o644); err != nil {
			s.log.Error("writing ticket text", "err", err)
		}
		png, err := RenderPNG(t, s.cfg.Paper.Dots())
		if err == nil {
			err = os.WriteFile(p.PNGPath, png, 0o644)
		}
		if err != nil {
			s.log.Error("writing ticket image", "err", err)
		}
	}
	s.printed = append(s.printed, p)
	s.log.Info("ticket cut", "seq", p.Seq, "txt", p.TxtPath)
}

// Printed returns the tickets cut so far.
func (s *Sim) Printed() []Printed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Printed(nil), s.printed...)
}

// BytesIn counts every byte received.
func (s *Sim) BytesIn() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytesIn
}
