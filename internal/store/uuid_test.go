package store

import (
	"regexp"
	"testing"
	"time"
)

var uuidText = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewUUIDFormat(t *testing.T) {
	before := time.Now().Truncate(time.Millisecond)
	u := NewUUID()
	after := time.Now()
	if s := u.String(); !uuidText.MatchString(s) {
		t.Errorf("NewUUID().String() = %q; want a v7 UUID (version nibble 7, variant 10)", s)
	}
	if v := u.Version(); v != 7 {
		t.Errorf("Version() = %d; want 7", v)
	}
	if u[8]>>6 != 0b10 {
		t.Errorf("variant bits = %02b; want 10", u[8]>>6)
	}
	// The clock may have been borrowed ahead by earlier tests, but only by whole ids' worth.
	if ts := u.Time(); ts.Before(before) || ts.After(after.Add(time.Second)) {
		t.Errorf("Time() = %v; want between %v and %v", ts, before, after)
	}
}

func TestUUIDsAreStrictlyIncreasing(t *testing.T) {
	const n = 20000 // more than fit in one millisecond's counter: exercises the borrow
	prev := NewUUID().String()
	for range n {
		s := NewUUID().String()
		if s <= prev {
			t.Fatalf("NewUUID() = %s after %s; want strictly increasing", s, prev)
		}
		prev = s
	}
}

func TestUUIDClockSteps(t *testing.T) {
	at := time.UnixMilli(1_750_000_000_000)
	g := &uuidGen{now: func() time.Time { return at }}
	var ids []UUID
	step := func(d time.Duration, k int) {
		at = at.Add(d)
		for range k {
			ids = append(ids, g.next())
		}
	}
	step(0, 5000)            // one frozen millisecond: counter overflows into the next
	step(-10*time.Second, 3) // the clock steps back: ids keep increasing
	step(20*time.Second, 3)  // and forward again: fresh timestamp
	for i := 1; i < len(ids); i++ {
		if a, b := ids[i-1].String(), ids[i].String(); b <= a {
			t.Fatalf("id %d = %s after %s; want strictly increasing", i, b, a)
		}
		if ids[i].Version() != 7 || ids[i][8]>>6 != 0b10 {
			t.Fatalf("id %d = %s: bad version or variant", i, ids[i])
		}
	}
	if got, want := ids[len(ids)-1].Time(), at; !got.Equal(want) {
		t.Errorf("Time() after the clock moved on = %v; want %v", got, want)
	}
	if got := ids[0].Time(); !got.Equal(time.UnixMilli(1_750_000_000_000)) {
		t.Errorf("first Time() = %v; want the clock's millisecond", got)
	}
}
