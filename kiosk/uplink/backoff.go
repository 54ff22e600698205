package uplink

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/clock"
)

// sendBackoff is the wait after the n-th consecutive failed attempt (n >= 1): "full jitter",
// a uniform draw from [0, min(cap, base*2^(n-1))), so that the halls of a city that lost the
// platform together do not come back in lockstep. A Retry-After from the platform is a floor:
// the draw never shortens what the platform asked for. rnd returns a value in [0, 1).
func sendBackoff(n int, base, ceiling, after time.Duration, rnd func() float64) time.Duration {
	if n < 1 {
		n = 1
	}
	limit := ceiling
	if n-1 < 62 && base <= ceiling>>(n-1) { // base*2^(n-1) <= ceiling, without overflow
		limit = base << (n - 1)
	}
	d := time.Duration(rnd() * float64(limit))
	return max(d, after)
}

// sendBucket is the drain pace shared by all streams: a token bucket of burst tokens refilled
// at rate per second, one token per event sent. Takers reserve (the balance may go negative)
// and then sleep off their debt on the clock, so concurrent streams queue fairly and, over any
// interval dt, at most burst + rate*dt events leave the node. A batch never holds more events
// than burst (the sender caps it), or a single batch could exceed the burst at once.
type sendBucket struct {
	clock clock.Clock
	rate  float64 // events per second; +Inf: no pacing
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
	primed bool
}

func newSendBucket(c clock.Clock, rate float64, burst int) *sendBucket {
	return &sendBucket{clock: c, rate: rate, burst: float64(burst)}
}

// take reserves n tokens and waits on the clock until they are paid for. It returns
// ctx.Err() when ctx ends first; the reservation then stays spent, which only slows the next
// taker down (the safe side).
func (b *sendBucket) take(ctx context.Context, n int) error {
	if math.IsInf(b.rate, 1) {
		return nil
	}
	b.mu.Lock()
	now := b.clock.Now()
	if !b.primed {
		b.tokens, b.last, b.primed = b.burst, now, true
	}
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt.Seconds()*b.rate)
		b.last = now
	}
	b.tokens -= float64(n)
	debt := -b.tokens
	b.mu.Unlock()
	if debt <= 0 {
		return nil
	}
	if !sendSleep(ctx, b.clock, time.Duration(math.Ceil(debt/b.rate*float64(time.Second)))) {
		return ctx.Err()
	}
	return nil
}

// sendSleep waits d on the clock; false when ctx ended first.
func sendSleep(ctx context.Context, c clock.Clock, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	ch, stop := clock.Timer(c, d)
	defer stop()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}
