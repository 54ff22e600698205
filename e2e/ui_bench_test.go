package e2e

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// procCPU is the user+system CPU time a process has used, from /proc/PID/stat.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are fields 14 and 15.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

// procKB reads a "Vm...:  N kB" line of /proc/PID/status.
func procKB(b *testing.B, pid int, key string) float64 {
	b.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
			return n
		}
	}
	return 0
}

// BenchmarkKioskdScreen starts kioskd -sim with its GLFW window full screen at 1920x1080
// under Xvfb, the real path, and reports: the time from exec to the first frame on screen
// (goal <= 1 s) beside the time kioskd -version takes to exec and exit (the floor of any
// process start here); CPU use while the screen sits idle for 30 s (goal ~0 %); and RSS
// (goal <= 100 MB) beside the RSS of a hall-only kioskd (no screen) in the same run, with
// the part of it that is Mesa's software renderer and the private part.
//
// present=auto is the default set-up: Xvfb has no GPU, so the window shows frames with
// XPutImage. present=gl forces the OpenGL texture, which here is Mesa's llvmpipe (a kiosk
// with a GPU gets gl, with its own driver's footprint).
// Run by make bench: go test -run '^$' -bench KioskdScreen -benchtime 1x ./e2e
func BenchmarkKioskdScreen(b *testing.B) {
	for _, present := range []string{"auto", "gl"} {
		b.Run("present="+present, func(b *testing.B) { benchScreen(b, present) })
	}
}

func benchScreen(b *testing.B, present string) {
	display := xvfb(b, 1920, 1080)
	for i := 0; i < b.N; i++ {
		// Baseline: exec and exit of the same binary.
		t0 := time.Now()
		if err := exec.Command(filepath.Join(bin, "kioskd"), "-version").Run(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(t0).Microseconds())/1000, "exec-baseline-ms")

		dir := b.TempDir()
		cfg := filepath.Join(dir, "kioskd.toml")
		os.WriteFile(cfg, []byte(`version = 1
[node]
id = "bench-node"
[store]
path = "`+filepath.Join(dir, "kioskd.db")+`"
[admin]
listen = "127.0.0.1:0"
[hall]
listen = "127.0.0.1:0"
[log]
format = "json"
[[device]]
name = "printer"
profile = "sim-printer"
port = "`+filepath.Join(dir, "sim", "printer")+`"
[ui]
display = "window"
fullscreen = true
present = "`+present+`"
[sim]
dir = "`+filepath.Join(dir, "sim")+`"
`), 0o644)
		cmd := exec.Command(filepath.Join(bin, "kioskd"), "-sim", "-config", cfg)
		cmd.Env = append(os.Environ(), "DISPLAY="+display, "MESA_SHADER_CACHE_DISABLE=true")
		out := newSyncBuf()
		cmd.Stdout, cmd.Stderr = io.MultiWriter(&logs, out), io.MultiWriter(&logs, out)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		waitFor(b, out, "first frame on screen", 20*time.Second)
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "first-frame-ms")
		waitFor(b, out, "printer.ready", 20*time.Second)
		time.Sleep(2 * time.Second) // let start-up work settle before measuring idle
		c0, w0 := procCPU(b, cmd.Process.Pid), time.Now()
		time.Sleep(30 * time.Second)
		c1, w1 := procCPU(b, cmd.Process.Pid), time.Now()
		b.ReportMetric(100*float64(c1-c0)/float64(w1.Sub(w0)), "idle-cpu-%")
		b.ReportMetric(procKB(b, cmd.Process.Pid, "VmRSS")/1024, "rss-MB")
		b.ReportMetric(procKB(b, cmd.Process.Pid, "RssAnon")/1024, "anon-MB")
		b.ReportMetric(mesaKB(b, cmd.Process.Pid)/1024, "mesa-sw-MB")
		b.ReportMetric(procKB(b, cmd.Process.Pid, "VmHWM")/1024, "peak-rss-MB")
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()

		// Baseline RSS: the same node with no screen (hall role only).
		hcfg := filepath.Join(dir, "hall.toml")
		os.WriteFile(hcfg, []byte(`version = 1
[node]
id = "bench-hall"
roles = ["hall"]
[store]
path = "`+filepath.Join(dir, "hall.db")+`"
[admin]
listen = "127.0.0.1:0"
[hall]
listen = "127.0.0.1:0"
[log]
format = "json"
`), 0o644)
		h := exec.Command(filepath.Join(bin, "kioskd"), "-config", hcfg)
		hout := newSyncBuf()
		h.Stdout, h.Stderr = io.MultiWriter(&logs, hout), io.MultiWriter(&logs, hout)
		if err := h.Start(); err != nil {
			b.Fatal(err)
		}
		waitFor(b, hout, "hall LAN API", 20*time.Second)
		time.Sleep(2 * time.Second)
		b.ReportMetric(procKB(b, h.Process.Pid, "VmRSS")/1024, "rss-baseline-MB")
		h.Process.Signal(os.Interrupt)
		h.Wait()
	}
}

// mesaKB is the resident size of Mesa's software GL (libLLVM, the swrast/llvmpipe DRI
// driver): what Xvfb costs the process, which a kiosk with a GPU driver does not pay in
// this form.
func mesaKB(b *testing.B, pid int) float64 {
	b.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps")
	if err != nil {
		b.Fatal(err)
	}
	var kb float64
	mesa := false
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			mesa = len(f) >= 6 && (strings.Contains(f[5], "libLLVM") || strings.Contains(f[5], "/dri/"))
		case len(f) >= 2 && f[0] == "Rss:" && mesa:
			n, _ := strconv.ParseFloat(f[1], 64)
			kb += n
		}
	}
	return kb
}

func waitFor(b *testing.B, out *syncBuf, s string, within time.Duration) {
	b.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(out.String(), s) {
		if time.Now().After(deadline) {
			b.Fatalf("no %q within %s:\n%s", s, within, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
