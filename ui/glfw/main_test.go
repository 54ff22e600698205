package glfwui

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/ui"
)

// GLFW must run on the main OS thread: init runs on it, so locking here pins the main
// goroutine there, and TestMain keeps that goroutine for onMain's queue while the tests run on
// another, as kioskd does.
func init() { runtime.LockOSThread() }

var mainQueue = make(chan func())

func TestMain(m *testing.M) {
	exit := make(chan int)
	go func() { exit <- m.Run() }()
	for {
		select {
		case fn := <-mainQueue:
			fn()
		case code := <-exit:
			os.Exit(code)
		}
	}
}

// onMain runs fn on the main OS thread without waiting for it.
func onMain(fn func()) { mainQueue <- fn }

// runOnMain starts w.Run on the main thread and returns its result channel.
func runOnMain(ctx context.Context, w *Window, f *ui.Frames, input func(ui.Pointer)) <-chan error {
	res := make(chan error, 1)
	onMain(func() { res <- w.Run(ctx, f, input) })
	return res
}

const aptHint = "apt-get install xvfb xauth libgl1-mesa-dri xdotool x11-apps imagemagick"

// needTools skips tb when a program the X tests drive is missing.
func needTools(tb testing.TB, names ...string) {
	tb.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			tb.Skipf("%s not installed (%s)", n, aptHint)
		}
	}
}

// startXvfb starts a private Xvfb of w x h pixels on a free display, points DISPLAY at it for
// the test, and kills it in Cleanup. Xvfb picks the display itself and writes its number to
// -displayfd once it accepts connections, so there is no guessing and no waiting loop.
func startXvfb(tb testing.TB, w, h int) string {
	tb.Helper()
	return startXvfbDepth(tb, w, h, 24)
}

// startXvfbDepth is startXvfb with a colour depth other than 24 bits.
func startXvfbDepth(tb testing.TB, w, h, depth int) string {
	tb.Helper()
	needTools(tb, "Xvfb")
	r, wr, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var stderr bytes.Buffer
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx%d", w, h, depth),
		"-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{wr}
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		wr.Close()
		tb.Fatalf("start Xvfb: %v", err)
	}
	wr.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- s
	}()
	var num string
	select {
	case s := <-line:
		num = strings.TrimSpace(s)
	case <-time.After(20 * time.Second):
		tb.Fatalf("Xvfb did not report a display within 20s: %s", stderr.String())
	}
	if _, err := strconv.Atoi(num); err != nil {
		<-exited
		tb.Fatalf("Xvfb failed (displayfd said %q): %s", num, stderr.String())
	}
	display := ":" + num
	tb.Setenv("DISPLAY", display)
	tb.Setenv("MESA_SHADER_CACHE_DISABLE", "true")
	return display
}

// xwdShot captures the root window the way a person would check the screen: xwd piped into
// ImageMagick.
func xwdShot(tb testing.TB, display string) (image.Image, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	xwd := exec.CommandContext(ctx, "xwd", "-root", "-silent", "-display", display)
	conv := exec.CommandContext(ctx, "convert", "xwd:-", "png:-")
	var out, errX, errC bytes.Buffer
	pipe, err := xwd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	conv.Stdin = pipe
	conv.Stdout = &out
	conv.Stderr = &errC
	xwd.Stderr = &errX
	if err := xwd.Start(); err != nil {
		return nil, err
	}
	if err := conv.Start(); err != nil {
		xwd.Process.Kill()
		xwd.Wait()
		return nil, err
	}
	if err := xwd.Wait(); err != nil {
		conv.Wait()
		return nil, fmt.Errorf("xwd: %v: %s", err, errX.String())
	}
	if err := conv.Wait(); err != nil {
		return nil, fmt.Errorf("convert xwd to png: %v: %s", err, errC.String())
	}
	return png.Decode(&out)
}

// xdotool runs xdotool on the test's display.
func xdotool(tb testing.TB, args ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "xdotool", args...).CombinedOutput(); err != nil {
		tb.Fatalf("xdotool %v: %v: %s", args, err, out)
	}
}
