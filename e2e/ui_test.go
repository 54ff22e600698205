package e2e

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// xvfb starts a virtual X server on a free display and returns its name (":N").
func xvfb(t testing.TB, w, h int) string {
	t.Helper()
	for _, tool := range []string{"Xvfb", "xdotool", "xwd", "convert", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install xvfb xdotool x11-apps imagemagick zbar-tools; make test does it)", tool)
		}
	}
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", w, h), "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{wr}
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wr.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	select {
	case n := <-num:
		if n == "" {
			t.Fatal("Xvfb did not report a display number")
		}
		return ":" + n
	case <-time.After(20 * time.Second):
		t.Fatal("Xvfb did not start within 20 s")
	}
	return ""
}

type screenLayout struct {
	Screen  string `json:"screen"`
	Seq     uint64 `json:"seq"`
	Targets []struct {
		ID         string `json:"id"`
		X, Y, W, H int
	} `json:"targets"`
}

// waitScreen polls /api/screen/layout until the named screen is shown.
func waitScreen(t *testing.T, base, name string, within time.Duration) screenLayout {
	t.Helper()
	deadline := time.Now().Add(within)
	var l screenLayout
	for {
		resp, err := http.Get(base + "/api/screen/layout")
		if err == nil {
			l = screenLayout{}
			json.NewDecoder(resp.Body).Decode(&l)
			resp.Body.Close()
			if l.Screen == name {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen %q did not appear within %s (showing %q, err %v)", name, within, l.Screen, err)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// click presses the centre of the target with id through the X server, as a finger would.
func click(t *testing.T, display string, l screenLayout, id string) {
	t.Helper()
	x, y := centre(t, l, id)
	xdo(t, display, "mousemove", fmt.Sprint(x), fmt.Sprint(y), "click", "1")
}

// centre is the middle of the touch target id on the screen l describes.
func centre(t *testing.T, l screenLayout, id string) (x, y int) {
	t.Helper()
	for _, tg := range l.Targets {
		if tg.ID == id {
			return tg.X + tg.W/2, tg.Y + tg.H/2
		}
	}
	t.Fatalf("screen %q has no target %q: %+v", l.Screen, id, l.Targets)
	return 0, 0
}

func xdo(t *testing.T, display string, args ...string) {
	t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v: %s", args, err, out)
	}
}

// xScreenshot captures the X screen as the citizen sees it.
func xScreenshot(t *testing.T, display, path string) image.Image {
	t.Helper()
	cmd := exec.Command("sh", "-c", "xwd -root -silent -display "+display+" | convert xwd:- png:"+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v: %s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestKioskdTouchScreenTakeTicket is the citizen's "take a ticket" on the real GLFW window
// under Xvfb, with real X pointer input: the simulated printer prints the ticket, the
// screen shows it, and the on-screen QR code decodes to the printed number. Once as set up
// by default (present = "auto": XPutImage, Xvfb has no GPU), once with OpenGL forced.
func TestKioskdTouchScreenTakeTicket(t *testing.T) {
	for _, tc := range []struct{ present, want string }{
		{"auto", `, x11: no GPU`},
		{"gl", `, gl: configured`},
	} {
		t.Run(tc.present, func(t *testing.T) { testTouchScreenTakeTicket(t, tc.present, tc.want) })
	}
}

func testTouchScreenTakeTicket(t *testing.T, present, wantPresenter string) {
	display := xvfb(t, 1280, 800)
	dir := t.TempDir()
	addr := freePort(t)
	base := "http://" + addr
	cfg := writeConfig(t, dir, addr, "")
	extra := `[[device]]
name = "printer"
profile = "sim-printer"
port = "` + filepath.Join(dir, "sim", "printer") + `"
[ui]
display = "window"
fullscreen = true
hide_cursor = true
present = "` + present + `"
`
	withTables(t, cfg, extra)

	cmd := exec.Command(filepath.Join(bin, "kioskd"), "-sim", "-config", cfg)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "MESA_SHADER_CACHE_DISABLE=true")
	out := newSyncBuf()
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&logs, out), io.MultiWriter(&logs, out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	})
	waitComponent(t, base, "printer", "ok", "printer.ready", 20*time.Second)
	(&proc{cmd: cmd, out: out}).waitOutput(t, `"presenter":"glfw fullscreen`, 20*time.Second)
	if !strings.Contains(out.String(), wantPresenter) {
		t.Errorf("kioskd's presenter with present = %q is not %q:\n%s", present, wantPresenter, out.String())
	}

	l := waitScreen(t, base, "attract", 10*time.Second)
	xdo(t, display, "mousemove", "640", "400", "click", "1") // any touch wakes it
	l = waitScreen(t, base, "home", 5*time.Second)
	click(t, display, l, "tile:ticket")
	l = waitScreen(t, base, "ticket.category", 5*time.Second)
	click(t, display, l, "cat:A")
	l = waitScreen(t, base, "ticket.card", 5*time.Second)
	click(t, display, l, "skip")
	l = waitScreen(t, base, "ticket.done", 15*time.Second)

	// The printer simulator cut exactly one ticket, A001.
	txt, err := os.ReadFile(filepath.Join(dir, "sim", "printer-out", "001.txt"))
	if err != nil || !strings.Contains(string(txt), "A001") {
		t.Fatalf("printed ticket: %v\n%s", err, txt)
	}
	// What X shows is the frame kioskd drew (pixel for pixel), and its QR code is the ticket.
	var shot image.Image
	var frame image.Image
	deadline := time.Now().Add(5 * time.Second)
	for {
		shot = xScreenshot(t, display, filepath.Join(dir, "screen.png"))
		resp, err := http.Get(base + "/api/screen.png")
		if err != nil {
			t.Fatal(err)
		}
		frame, err = png.Decode(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if samePixels(shot, frame) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the X screen differs from the frame kioskd drew (see %s)", filepath.Join(dir, "screen.png"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := zbar(t, filepath.Join(dir, "screen.png")); got != "A001" {
		t.Errorf("QR code on screen = %q; want A001", got)
	}

	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("kioskd exited with %v after SIGINT\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("kioskd did not stop within 10 s of SIGINT")
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, _ := a.At(x, y).RGBA()
			br, bg, bb, _ := b.At(x, y).RGBA()
			if ar>>8 != br>>8 || ag>>8 != bg>>8 || ab>>8 != bb>>8 {
				return false
			}
		}
	}
	return true
}

func tap(t *testing.T, base string, l screenLayout, id string) {
	t.Helper()
	x, y := centre(t, l, id)
	resp, err := http.PostForm(fmt.Sprintf("%s/api/screen/tap?x=%d&y=%d", base, x, y), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("tap %s: %s", id, resp.Status)
	}
}

func simCmd(t *testing.T, base, dev, cmd string) {
	t.Helper()
	resp, err := http.PostForm(base+"/api/sim/"+dev, url.Values{"cmd": {cmd}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sim %s %q: %s", dev, cmd, resp.Status)
	}
}

// TestKioskdHeadlessCardTicketAndHelp: with no display the screen runs headless; an ID card
// placed on the simulated reader starts the ticket flow on the attract screen, a category
// that requires the card prints at once; "call staff" records hall.help_requested in the
// outbox. With the reader then unplugged, that category cannot be chosen and another prints
// without the card step. The logs of it all are checked for full ID numbers (testlog).
func TestKioskdHeadlessCardTicketAndHelp(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	base := "http://" + addr
	cfg := writeConfig(t, dir, addr, "")
	extra := `[[device]]
name = "printer"
profile = "sim-printer"
port = "` + filepath.Join(dir, "sim", "printer") + `"
[queue]
[[queue.category]]
code = "A"
name_zh = "社保"
windows = [1]
[[queue.category]]
code = "B"
name_zh = "户籍"
windows = [2]
`
	withTables(t, cfg, extra+"[ui]\ndisplay = \"headless\"\nrequire_id = [\"B\"]\n")
	noPlatform(t, cfg) // the test reads the outbox
	k := start(t, "kioskd", "-sim", "-config", cfg)
	waitComponent(t, base, "printer", "ok", "printer.ready", 20*time.Second)
	waitComponent(t, base, "idcard", "ok", "idcard.ready", 20*time.Second)

	waitScreen(t, base, "attract", 10*time.Second)
	simCmd(t, base, "idcard", "place 0")
	l := waitScreen(t, base, "ticket.category", 10*time.Second)
	tap(t, base, l, "cat:B")
	l = waitScreen(t, base, "ticket.done", 15*time.Second)
	txt, err := os.ReadFile(filepath.Join(dir, "sim", "printer-out", "001.txt"))
	if err != nil || !strings.Contains(string(txt), "B001") {
		t.Fatalf("printed ticket: %v\n%s", err, txt)
	}
	tap(t, base, l, "help")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(k.out.String(), `"msg":"staff called"`) {
		if time.Now().After(deadline) {
			t.Fatalf("kioskd did not log the staff call:\n%s", k.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The reader unplugged: B (needs the card) cannot be chosen, A prints without asking
	// for a card.
	tap(t, base, l, "done")
	before := waitScreen(t, base, "attract", 10*time.Second).Seq
	simCmd(t, base, "idcard", "unplug")
	waitComponent(t, base, "idcard", "down", "idcard.no_reader", 20*time.Second)
	// The attract screen stops inviting a card at once, untouched.
	for deadline := time.Now().Add(5 * time.Second); waitScreen(t, base, "attract", time.Second).Seq == before; {
		if time.Now().After(deadline) {
			t.Fatal("the attract screen was not redrawn when the reader went down")
		}
		time.Sleep(30 * time.Millisecond)
	}
	resp, err := http.PostForm(base+"/api/screen/tap?x=20&y=400", nil) // any touch wakes it
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tap(t, base, waitScreen(t, base, "home", 5*time.Second), "tile:ticket")
	l = waitScreen(t, base, "ticket.category", 5*time.Second)
	for _, tg := range l.Targets {
		if tg.ID == "cat:B" {
			t.Errorf("category B (needs the card) can be tapped with the reader unplugged")
		}
	}
	tap(t, base, l, "cat:A")
	waitScreen(t, base, "ticket.done", 15*time.Second)
	if txt, err := os.ReadFile(filepath.Join(dir, "sim", "printer-out", "002.txt")); err != nil || !strings.Contains(string(txt), "A001") {
		t.Fatalf("second printed ticket: %v\n%s", err, txt)
	}
	k.stop(t)
	db, err := sql.Open("sqlite3", filepath.Join(dir, "kioskd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var helps, issued int
	var idHash string
	db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE type = 'hall.help_requested'`).Scan(&helps)
	db.QueryRow(`SELECT COUNT(*), COALESCE(MAX(json_extract(data, '$.id_hash')), '') FROM outbox WHERE type = 'ticket.issued' AND json_extract(data, '$.category') = 'B'`).Scan(&issued, &idHash)
	if helps != 1 {
		t.Errorf("hall.help_requested events = %d; want 1", helps)
	}
	if issued != 1 || len(idHash) != 64 {
		t.Errorf("ticket.issued events = %d with id_hash %q; want 1 with a 64-hex hash", issued, idHash)
	}
}
