package devices

import (
	"math/rand/v2"
	"time"
)

// Backoff yields capped exponential delays with full jitter: a uniform pick in
// [0, min(Cap, Base*2^n)], so many nodes that failed together do not retry together.
// The zero value is not useful; set Base and Cap.
type Backoff struct {
	Base, Cap time.Duration
	// Min is a floor under the jittered delay, so a tight retry loop still yields.
	Min time.Duration
	n   int
}

// Next returns the next delay.
func (b *Backoff) Next() time.Duration {
	ceil := b.Base << min(b.n, 30)
	if ceil <= 0 || ceil > b.Cap {
		ceil = b.Cap
	}
	b.n++
	d := time.Duration(rand.Int64N(int64(ceil) + 1))
	return max(d, b.Min)
}

// Reset starts the sequence again after a success.
func (b *Backoff) Reset() { b.n = 0 }
