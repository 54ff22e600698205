package escpossim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
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
	failAfter int // paper runs out after this many more data bytes; -1 = never
	printed   []Printed
	bytesIn   int64
	pair      *pty.Pair
	ptyDone   chan struct{}
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
	return &Sim{cfg: cfg, log: cfg.Log.With("sim", "printer"), failAfter: -1, conns: map[net.Conn]bool{}}
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
			s.serve(pair.Master, s.cfg.Baud)
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
		go s.accept(ln)
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

func (s *Sim) accept(ln net.Listener) {
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
			s.serve(c, 0)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// serve decodes one connection's stream and answers its status requests.
func (s *Sim) serve(rw io.ReadWriter, baud int) {
	var d Decoder
	buf := make([]byte, 1024)
	var perByte time.Duration
	if baud > 0 {
		perByte = time.Second * 10 / time.Duration(baud)
		buf = buf[:max(1, baud/10/1000)] // about a millisecond of bytes per read
	}
	next := time.Now()
	dropping := false
	var carry []byte
	for {
		t0 := time.Now()
		n, err := rw.Read(buf)
		blocked := time.Since(t0) > blockedRead
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("printer read", "err", err)
			}
			return
		}
		if perByte > 0 {
			// A UART at this baud takes n bytes no faster than n*perByte; the pty's buffer
			// then pushes back on the host as a real line does. Bytes that were already
			// waiting when we read follow the previous ones back to back (the schedule is
			// absolute, so a timer that woke late does not add its lateness to the wire
			// time); bytes we had to wait for start when they came.
			if blocked {
				next = time.Now()
			}
			next = next.Add(time.Duration(n) * perByte)
			time.Sleep(time.Until(next))
		}
		printed, dropped := s.accept1(buf[:n])
		events := d.Feed(printed)
		if len(dropped) > 0 {
			if !dropping {
				// The job in progress is lost; what follows starts a fresh stream.
				d = Decoder{}
				dropping = true
			}
			var kept []byte
			kept, carry = statusOnly(append(carry, dropped...))
			events = append(events, d.Feed(kept)...)
		} else if len(printed) > 0 {
			dropping, carry = false, nil
		}
		for _, ev := range events {
			if ans, ok := s.handle(ev); ok {
				if _, err := rw.Write([]byte{ans}); err != nil {
					return
				}
			}
		}
	}
}

// blockedRead: a read that took longer than this waited for the host; one that returned
// sooner found bytes already queued.
const blockedRead = 100 * time.Microsecond

// accept1 applies the paper state to incoming bytes. It returns the bytes the printer
// processes and the bytes it drops: a printer that is out of paper, has its cover open or
// is offline (or runs out mid-job) prints nothing but still answers status requests.
func (s *Sim) accept1(b []byte) (printed, dropped []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bytesIn += int64(len(b))
	if s.hang {
		return nil, nil
	}
	if s.failAfter >= 0 {
		if len(b) <= s.failAfter {
			s.failAfter -= len(b)
		} else {
			keep := s.failAfter
			s.failAfter = -1
			s.paperOut = true
			s.log.Info("paper ran out mid-job", "after_bytes", keep)
			return b[:keep], b[keep:]
		}
	}
	if s.paperOut || s.coverOpen || s.offline {
		return nil, b
	}
	return b, nil
}

// statusOnly keeps the status requests in b (DLE EOT n, GS r n, ESC v). A request cut
// off at the end of b is returned as carry, to be put in front of the next bytes.
func statusOnly(b []byte) (kept, carry []byte) {
	for i := 0; i < len(b); i++ {
		var n int
		switch {
		case b[i] == 0x10 && (i+1 >= len(b) || b[i+1] == 0x04):
			n = 3
		case b[i] == 0x1D && (i+1 >= len(b) || b[i+1] == 0x72):
			n = 3
		case b[i] == 0x1B && (i+1 >= len(b) || b[i+1] == 0x76):
			n = 2
		default:
			continue
		}
		if i+n > len(b) {
			return kept, append([]byte(nil), b[i:]...)
		}
		kept = append(kept, b[i:i+n]...)
		i += n - 1
	}
	return kept, nil
}

// handle answers a status request or stores a cut ticket.
func (s *Sim) handle(ev Event) (byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev := ev.(type) {
	case RealtimeStatus:
		return s.realtimeLocked(ev.N), true
	case QueuedStatus:
		// Chinese clones answer 00 with paper and 0F without (DEVICES.md 3.3).
		if s.paperOut {
			return 0x0F, true
		}
		return 0x00, true
	case Cut:
		s.storeLocked(ev.Ticket)
	}
	return 0, false
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

func (s *Sim) storeLocked(t *Ticket) {
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
