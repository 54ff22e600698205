package health

import (
	"testing"
	"time"
)

func TestSinceMovesOnlyOnChange(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	r := NewRegistry(func() time.Time { return now })
	var changes []Status
	r.Subscribe(func(s Status) { changes = append(changes, s) })

	r.Report("idcard", Down, "idcard.no_reader", "try 1")
	t0 := now
	now = now.Add(time.Minute)
	r.Report("idcard", Down, "idcard.no_reader", "try 2")
	if st, _ := r.Get("idcard"); !st.Since.Equal(t0) || st.Message != "try 2" {
		t.Errorf("after a repeated report: since=%v msg=%q; want since=%v msg=try 2", st.Since, st.Message, t0)
	}
	now = now.Add(time.Minute)
	r.Report("idcard", OK, "idcard.ready", "ok")
	if st, _ := r.Get("idcard"); !st.Since.Equal(now) {
		t.Errorf("after a change: since=%v; want %v", st.Since, now)
	}
	if len(changes) != 2 {
		t.Errorf("subscriber saw %d changes; want 2 (repeats are not changes)", len(changes))
	}
}

func TestOverall(t *testing.T) {
	cases := []struct {
		in   []State
		want State
	}{
		{nil, OK},
		{[]State{OK, Skipped}, OK},
		{[]State{OK, Degraded}, Degraded},
		{[]State{Degraded, Down, OK}, Down},
	}
	for _, c := range cases {
		var all []Status
		for _, s := range c.in {
			all = append(all, Status{State: s})
		}
		if got := Overall(all); got != c.want {
			t.Errorf("Overall(%v) = %v; want %v", c.in, got, c.want)
		}
	}
}

func TestAllSortedAndCancel(t *testing.T) {
	r := NewRegistry(nil)
	n := 0
	cancel := r.Subscribe(func(Status) { n++ })
	r.Report("b", OK, "", "")
	r.Report("a", OK, "", "")
	cancel()
	r.Report("c", OK, "", "")
	all := r.All()
	if len(all) != 3 || all[0].Component != "a" || all[2].Component != "c" {
		t.Errorf("All() = %v; want a, b, c", all)
	}
	if n != 2 {
		t.Errorf("cancelled subscriber called %d times; want 2", n)
	}
}
