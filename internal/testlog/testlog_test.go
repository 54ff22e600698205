package testlog

import "testing"

// The leak check must be able to fail: a logged full ID number is found, a masked one is not.
func TestLeaksFindsFullIDNumbers(t *testing.T) {
	var s Sink
	log := s.Logger()
	log.Info("card presented", "id", "110105********0019", "name", "张*")
	if leaks := s.Leaks(); len(leaks) != 0 {
		t.Fatalf("Leaks() = %v on masked logs; want none", leaks)
	}
	log.Info("oops", "id", "11010519491231002X")
	if leaks := s.Leaks(); len(leaks) != 1 || leaks[0] != "11010519491231002X" {
		t.Fatalf("Leaks() = %v; want the full ID number", leaks)
	}
}

// Legacy 15-digit numbers and 2017 foreign permanent resident numbers are leaks too.
func TestLeaksFindsEveryKindOfNumber(t *testing.T) {
	var s Sink
	log := s.Logger()
	log.Info("card presented", "id", "USA310*****0112", "legacy", "110105*****1002")
	if leaks := s.Leaks(); len(leaks) != 0 {
		t.Fatalf("Leaks() = %v on masked logs; want none", leaks)
	}
	log.Info("oops", "id", "USA310085010112")
	log.Info("oops", "card", map[string]string{"legacy": "110105491231002"})
	want := []string{"USA310085010112", "110105491231002"}
	if leaks := s.Leaks(); len(leaks) != 2 || leaks[0] != want[0] || leaks[1] != want[1] {
		t.Fatalf("Leaks() = %v; want %v", leaks, want)
	}
}
