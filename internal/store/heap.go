package store

/*
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
// The most glibc's own adaptive thresholds reach (DEFAULT_MMAP_THRESHOLD_MAX in malloc.c).
static int keep_heap(void) {
	int max = 4 * 1024 * 1024 * sizeof(long);
	return mallopt(M_MMAP_THRESHOLD, max) && mallopt(M_TRIM_THRESHOLD, 2 * max);
}
#else
static int keep_heap(void) { return 0; }
#endif
*/
import "C"

import "sync"

var (
	heapOnce sync.Once
	heapKept bool // whether keepHeap took effect: glibc only
)

// keepHeap sets glibc's heap thresholds to the most its own adaptive ones reach (32 MB for
// mmap, 64 MB for trimming, on 64-bit), where they start at 128 KB. SQLite opens a
// temporary B-tree for every IN list of three or more constants it tests (queue_tickets'
// CHECK constraints have four) and allocates about 80 KB of page cache for each; at 128
// KB, each statement gave that memory back to the kernel and faulted it in again, about
// ten page faults per ticket inserted. In queue's Issue benchmark this took the time
// before COMMIT from 0.047 to 0.038 ms at the median and 0.185 to 0.130 ms at the 99th
// percentile. Fixed thresholds do not adapt: they are set at the top so that large
// allocations elsewhere in the process (the UI's) are not handed to mmap each time
// instead. Memory kept this way is memory used a moment before.
func keepHeap() { heapOnce.Do(func() { heapKept = C.keep_heap() == 1 }) }
