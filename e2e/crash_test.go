package e2e

import (
	"path/filepath"
	"regexp"
	"testing"
)

// TestCrashSafety is a short run of `make crashtest` (which does 200 kills).
func TestCrashSafety(t *testing.T) {
	out, errOut, code := run(t, "crashtest", "-kioskd", filepath.Join(bin, "kioskd"), "-kills", "20", "-dir", t.TempDir())
	if code != 0 || !regexp.MustCompile(`^kills=20 acked=[1-9][0-9]* lost=0 duplicates=0 integrity=ok`).MatchString(out) {
		t.Fatalf("crashtest: exit %d\n%s%s", code, out, errOut)
	}
	t.Log(out)
}
