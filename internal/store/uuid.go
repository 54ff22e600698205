package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// UUID is an RFC 9562 UUID. NewUUID makes version 7: the first 48 bits are Unix
// milliseconds, so ids sort by creation time and append to the end of an index.
type UUID [16]byte

// NewUUID returns a new UUIDv7. Ids from one process are strictly increasing, also within a
// millisecond and when the wall clock steps back (RFC 9562 section 6.2, method 1: a 12-bit
// counter in rand_a, seeded at random each millisecond).
func NewUUID() UUID { return uuids.next() }

var uuids = &uuidGen{now: time.Now}

type uuidGen struct {
	now func() time.Time

	mu     sync.Mutex
	lastMS int64
	seq    uint16 // 12 bits
}

func (g *uuidGen) next() UUID {
	var u UUID
	rand.Read(u[:]) // crypto/rand.Read never fails (Go 1.24+)

	g.mu.Lock()
	if ms := g.now().UnixMilli(); ms > g.lastMS {
		g.lastMS = ms
		// Start the counter in its lower half so at least 2048 ids fit in a millisecond.
		g.seq = binary.BigEndian.Uint16(u[6:8]) & 0x07FF
	} else {
		// Same millisecond, or the clock went back: keep the last timestamp and count on,
		// so an id never sorts before an earlier one.
		g.seq++
		if g.seq > 0x0FFF {
			g.lastMS++ // borrow the next millisecond (allowed by RFC 9562 6.2)
			g.seq = 0
		}
	}
	ms, seq := g.lastMS, g.seq
	g.mu.Unlock()

	u[0], u[1], u[2] = byte(ms>>40), byte(ms>>32), byte(ms>>24)
	u[3], u[4], u[5] = byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = 0x70 | byte(seq>>8) // version 7
	u[7] = byte(seq)
	u[8] = u[8]&0x3F | 0x80 // variant 10
	return u
}

// String formats u as 8-4-4-4-12 lowercase hex; for v7 ids the strings sort like the ids.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// Version is the version field (7 for NewUUID).
func (u UUID) Version() int { return int(u[6] >> 4) }

// Time is the millisecond timestamp of a version 7 UUID.
func (u UUID) Time() time.Time {
	ms := int64(u[0])<<40 | int64(u[1])<<32 | int64(u[2])<<24 | int64(u[3])<<16 | int64(u[4])<<8 | int64(u[5])
	return time.UnixMilli(ms)
}
