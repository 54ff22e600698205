package escpossim

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// conn is one host link (the pty, or one TCP client) as the printer sees it: a receive side
// that answers real-time requests the moment they arrive, and a mechanism that executes
// everything else in order, only while it can print.
//
// DEVICES.md 3.3: DLE EOT n is answered at once, even offline; queued requests (GS r, ESC v)
// answer only after the data before them was processed. So while the paper is out, the
// cover open or the printer offline, the mechanism holds what came in (text, cuts, GS r)
// and runs it when the fault clears; a GS r sent behind a job that ran out of paper is not
// answered until paper is back. The held data fills the receive buffer (Config.Buffer);
// with the buffer full the printer takes no more bytes, as a USB printer NAKs its bulk
// endpoint, so the host's writes block and later requests wait behind the data.
type conn struct {
	s    *Sim
	rw   io.ReadWriter
	quit <-chan struct{} // closed when the printer is unplugged
	done chan struct{}   // closed when the receive side stops
	out  chan answer
	room chan struct{} // the mechanism emptied the buffer

	mu    sync.Mutex // keeps held events and new ones in stream order
	held  []Event
	heldN int // bytes received since the mechanism stopped
}

// answer is one byte back to the host, not to be sent before at.
type answer struct {
	at time.Time
	b  byte
}

// serve runs one host link until it fails or the printer is unplugged.
func (s *Sim) serve(rw io.ReadWriter, baud int, quit <-chan struct{}) {
	c := &conn{s: s, rw: rw, quit: quit, done: make(chan struct{}), out: make(chan answer, 4096), room: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.send() }()
	go func() { defer wg.Done(); c.mechanism() }()
	c.receive(baud)
	close(c.done)
	wg.Wait()
}

// blockedRead: a read that took longer than this waited for the host; one that returned
// sooner found bytes already queued.
const blockedRead = 100 * time.Microsecond

// receive reads the host's bytes, paced at baud, answers real-time requests as they
// arrive, decodes the stream and hands the events to the mechanism.
func (c *conn) receive(baud int) {
	var d Decoder
	var rt rtScanner
	buf := make([]byte, 1024)
	var perByte time.Duration
	if baud > 0 {
		perByte = time.Second * 10 / time.Duration(baud)
		buf = buf[:max(1, baud/10/1000)] // about a millisecond of bytes per read
	}
	next := time.Now()
	lost := false
	for {
		if !c.waitRoom() {
			return
		}
		t0 := time.Now()
		n, err := c.rw.Read(buf)
		blocked := time.Since(t0) > blockedRead
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) && !errors.Is(err, net.ErrClosed) {
				c.s.log.Debug("printer read", "err", err)
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
		head, tail, ranOut, discard := c.s.intake(buf[:n])
		if discard {
			lost = true
			continue
		}
		if lost {
			// What was discarded may have ended inside a command: start afresh.
			d, rt, lost = Decoder{}, rtScanner{}, false
		}
		rt.scan(buf[:n], func(n byte) { c.answer(c.s.realtime(n)) })
		c.take(d.Feed(head), len(head))
		if ranOut {
			c.s.runOut()
		}
		c.take(d.Feed(tail), len(tail))
	}
}

// waitRoom blocks while the receive buffer is full; false means the printer was unplugged.
func (c *conn) waitRoom() bool {
	for {
		c.mu.Lock()
		full := c.heldN >= c.s.cfg.Buffer
		c.mu.Unlock()
		if !full {
			return true
		}
		select {
		case <-c.room:
		case <-c.quit:
			return false
		}
	}
}

// rtScanner finds DLE EOT n (n = 1..4) in the raw stream, across reads. A printer looks
// for real-time requests as bytes arrive, whatever command they are part of: it answers
// one inside raster data too (DEVICES.md 3.3 caveat), and keeps answering while it is
// stuck in a command whose data was cut short.
type rtScanner struct{ state int }

func (r *rtScanner) scan(b []byte, answer func(n byte)) {
	for _, c := range b {
		if r.state == 2 && c >= 1 && c <= 4 {
			answer(c)
			r.state = 0
			continue
		}
		switch {
		case c == 0x10:
			r.state = 1
		case r.state == 1 && c == 0x04:
			r.state = 2
		default:
			r.state = 0
		}
	}
}

// take executes the events of n received bytes, or holds them (and counts the bytes
// against the buffer) while the printer cannot print or older ones wait. Real-time
// requests were answered on arrival.
func (c *conn) take(evs []Event, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	printing := c.s.printing()
	if !printing {
		c.heldN += n
	}
	for _, ev := range evs {
		if _, ok := ev.(RealtimeStatus); ok {
			continue
		}
		if printing && len(c.held) == 0 {
			c.exec(ev)
		} else {
			c.held = append(c.held, ev)
		}
	}
}

// mechanism runs the held events whenever the printer can print again.
func (c *conn) mechanism() {
	for {
		changed := c.s.changes()
		c.flush()
		select {
		case <-changed:
		case <-c.done:
			return
		case <-c.quit:
			return
		}
	}
}

func (c *conn) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if (len(c.held) == 0 && c.heldN == 0) || !c.s.printing() {
		return
	}
	held := c.held
	c.held, c.heldN = nil, 0
	for _, ev := range held {
		c.exec(ev)
	}
	select {
	case c.room <- struct{}{}:
	default:
	}
}

// exec runs one queued event; c.mu is held so events run in stream order.
func (c *conn) exec(ev Event) {
	switch ev := ev.(type) {
	case QueuedStatus:
		// Run only while printing, so the paper is there: Chinese clones answer 00 then
		// (DEVICES.md 3.3); 0F would mean out of paper.
		c.answer(0x00)
	case Cut:
		c.s.store(ev.Ticket)
	}
}

// answer queues a byte for the host, late by the simulated answer delay.
func (c *conn) answer(b byte) {
	a := answer{at: time.Now().Add(c.s.answerDelay()), b: b}
	select {
	case c.out <- a:
	case <-c.done:
	case <-c.quit:
	}
}

// send writes the answers in order, each not before its time.
func (c *conn) send() {
	for {
		select {
		case <-c.done:
			return
		case a := <-c.out:
			if d := time.Until(a.at); d > 0 {
				select {
				case <-c.done:
					return
				case <-time.After(d):
				}
			}
			if _, err := c.rw.Write([]byte{a.b}); err != nil {
				return
			}
			c.s.answered.Add(1)
		}
	}
}
