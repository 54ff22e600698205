package store

import (
	"os"
	"strings"
	"testing"
)

// TestKeepHeap: on glibc the trim threshold must really be set (a preamble that tests
// __GLIBC__ before any libc header is included compiles to the no-op and loses it).
func TestKeepHeap(t *testing.T) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil || !strings.Contains(string(maps), "/libc.so.6") {
		t.Skip("not a glibc process")
	}
	keepHeap()
	if !heapKept {
		t.Error("keepHeap on glibc did not set M_TRIM_THRESHOLD")
	}
}
