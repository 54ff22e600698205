package escpossim_test

import (
	"bytes"
	"encoding/hex"
	"flag"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
	"github.com/hallkiosk/hallkiosk/devices/escpos/escpossim"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func parseHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func goldenTicket(lang string) escpos.Ticket {
	t := escpos.Ticket{
		HallName:      "市民中心政务服务大厅",
		CategoryName:  "不动产登记",
		Number:        "A023",
		Ahead:         3,
		EstimatedWait: 12 * time.Minute,
		IssuedAt:      time.Date(2026, 11, 22, 9, 15, 0, 0, time.FixedZone("CST", 8*3600)),
		QR:            "https://hall.example.gov.cn/q?t=A023&d=20261122",
		MaskedName:    "张*",
		Footer:        "请留意叫号屏幕，过号需重新取号。",
		Lang:          lang,
	}
	if lang == "en" {
		t.HallName = "Civic Centre Government Service Hall"
		t.CategoryName = "Real estate registration"
		t.Footer = "Please watch the call screen; a missed number must be taken again."
	}
	return t
}

// decodeAll feeds b in chunks of size n (all at once when n <= 0).
func decodeAll(b []byte, n int) []escpossim.Event {
	var d escpossim.Decoder
	if n <= 0 {
		return d.Feed(b)
	}
	var evs []escpossim.Event
	for i := 0; i < len(b); i += n {
		evs = append(evs, d.Feed(b[i:min(i+n, len(b))])...)
	}
	return evs
}

func oneTicket(t *testing.T, evs []escpossim.Event) *escpossim.Ticket {
	t.Helper()
	if len(evs) != 1 {
		t.Fatalf("events = %#v; want one cut", evs)
	}
	c, ok := evs[0].(escpossim.Cut)
	if !ok || !c.Partial {
		t.Fatalf("event = %#v; want a partial cut", evs[0])
	}
	return c.Ticket
}

// Encoder -> Decoder recovers the ticket, whole or fed a byte at a time.
func TestRoundTrip(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		for _, paper := range []escpos.Paper{escpos.Paper58, escpos.Paper80} {
			job, err := escpos.EncodeTicket(goldenTicket(lang), paper)
			if err != nil {
				t.Fatal(err)
			}
			tk := oneTicket(t, decodeAll(job, 0))
			if len(tk.Unknown) != 0 {
				t.Errorf("%s %v: skipped %q", lang, paper, tk.Unknown)
			}
			text := string(escpossim.RenderText(tk))
			want := []string{"[C 4x4 B] A023\n", "[QR] https://hall.example.gov.cn/q?t=A023&d=20261122\n"}
			if lang == "zh" {
				want = append(want, "[C 1x2 B] 市民中心政务服务大厅\n", "[C] 不动产登记\n", "[C] 前面还有 3 人\n",
					"[C] 预计等待约 12 分钟\n", "[C] 取号时间 2026-11-22 09:15\n", "[C] 取号人 张*\n", "请留意叫号屏幕")
			} else {
				want = append(want, "[C] 3 people ahead\n", "[C] Estimated wait about 12 min\n", "[C] Issued 2026-11-22 09:15\n", "[C] Name 张*\n")
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("%s %v: RenderText lacks %q:\n%s", lang, paper, w, text)
				}
			}
			var qr *escpossim.Item
			for i, it := range tk.Items {
				if it.Kind == escpossim.KindQR {
					qr = &tk.Items[i]
				}
			}
			if qr == nil || qr.QRModule != map[escpos.Paper]int{escpos.Paper58: 6, escpos.Paper80: 8}[paper] {
				t.Errorf("%s %v: QR item %+v", lang, paper, qr)
			}
			for _, n := range []int{1, 2, 3, 7} {
				tk2 := oneTicket(t, decodeAll(job, n))
				if !reflect.DeepEqual(tk2, tk) {
					t.Errorf("%s %v: fed %d bytes at a time: %+v; want %+v", lang, paper, n, tk2, tk)
				}
			}

			golden := filepath.Join("testdata", "ticket_"+lang+"_"+paper.String()+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			g, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(g) != text {
				t.Errorf("RenderText differs from %s (run with -update if deliberate):\n%s", golden, text)
			}
		}
	}
}

func TestDecoderEvents(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []escpossim.Event
	}{
		{"DLE EOT", "10 04 01 10 04 04", []escpossim.Event{escpossim.RealtimeStatus{N: 1}, escpossim.RealtimeStatus{N: 4}}},
		{"GS r", "1D 72 01", []escpossim.Event{escpossim.QueuedStatus{Cmd: "GS r", N: 1}}},
		{"ESC v", "1B 76", []escpossim.Event{escpossim.QueuedStatus{Cmd: "ESC v"}}},
		{"lone DLE", "10 41", nil},
	}
	for _, c := range cases {
		if got := decodeAll(parseHex(t, c.in), 0); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Feed(%s) = %#v; want %#v", c.in, got, c.want)
		}
	}
}

func TestDecoderCuts(t *testing.T) {
	cases := []struct {
		in      string
		partial bool
	}{
		{"1D 56 00", false}, {"1D 56 30", false}, {"1D 56 01", true}, {"1D 56 31", true},
		{"1D 56 41 03", false}, {"1D 56 42 03", true}, {"1D 56 61 00", false}, {"1D 56 62 05", true},
		{"1D 56 67 00", false}, {"1D 56 68 00", true},
	}
	for _, c := range cases {
		in := append([]byte("x\n"), parseHex(t, c.in)...)
		in = append(in, "y\n"...)
		evs := decodeAll(in, 0)
		if len(evs) != 1 {
			t.Errorf("Feed(x LF %s y LF) = %#v; want one cut", c.in, evs)
			continue
		}
		cut := evs[0].(escpossim.Cut)
		if cut.Partial != c.partial || len(cut.Ticket.Items) != 1 || cut.Ticket.Items[0].Text != "x" {
			t.Errorf("Feed(x LF %s) = %+v %+v; want partial %v with x", c.in, cut, cut.Ticket, c.partial)
		}
	}
}

// Styles and commands the decoder acts on, and unknown commands skipped in sync.
func TestDecoderItems(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    string // RenderText
		unknown int
	}{
		{"ESC !", "1B 21 38 61 0A 1B 21 00 62 0A", "[L 2x2 B] a\nb\n", 0},
		{"ESC - and ESC a 49", "1B 2D 01 1B 61 31 61 0A", "[C] a\n", 0},
		{"GS ! and ESC E", "1D 21 10 1B 45 01 61 0A", "[L 2x1 B] a\n", 0},
		{"FS ! double", "1C 21 0C 1C 26 D5 C5 1C 2E 0A", "[L 2x2] 张\n", 0},
		{"ESC d prints the line", "61 1B 64 02", "a\n\n\n", 0},
		{"ESC @ clears", "1B 45 01 61 1B 40 62 0A", "b\n", 0},
		{"GB18030 4-byte in Chinese mode", "1C 26 95 32 82 36 1C 2E 0A", "𠀀\n", 0},
		{"high byte outside Chinese mode", "D5 C5 0A", "??\n", 0},
		{"CR ignored, tab", "61 0D 09 62 0A", "a    b\n", 0},
		{"ESC t skipped", "1B 74 11 61 0A", "a\n[SKIP] 1B7411\n", 1},
		{"GS ( L skipped", "1D 28 4C 02 00 30 45 61 0A", "a\n[SKIP] 1D284C02003045\n", 1},
		{"GS k A skipped", "1D 6B 04 31 32 33 00 61 0A", "a\n[SKIP] 1D6B0431323300\n", 1},
		{"GS k B skipped", "1D 6B 49 03 31 32 33 61 0A", "a\n[SKIP] 1D6B4903313233\n", 1},
		{"ESC * skipped", "1B 2A 00 02 00 FF FF 61 0A", "a\n[SKIP] 1B2A000200FFFF\n", 1},
		{"unknown ESC", "1B 07 61 0A", "a\n[SKIP] 1B07\n", 1},
		{"PDF417 skipped", "1D 28 6B 03 00 30 41 00 61 0A", "a\n[SKIP] 1D286B0300304100\n", 1},
		{"QR print with no data", "1D 28 6B 03 00 31 51 30", "[SKIP] QR print with no data stored\n", 1},
		{"QR", "1B 61 02 1D 28 6B 03 00 31 43 05 1D 28 6B 05 00 31 50 30 48 4B 1D 28 6B 03 00 31 51 30", "[QR] HK\n", 0},
		{"raster", "1D 76 30 00 01 00 02 00 80 01", "[IMG 8x2]\n", 0},
		{"raster double", "1D 76 30 03 01 00 02 00 80 01", "[IMG 16x4]\n", 0},
	}
	for _, c := range cases {
		in := append(parseHex(t, c.in), 0x1D, 0x56, 0x00)
		for _, n := range []int{0, 1} {
			evs := decodeAll(in, n)
			if len(evs) != 1 {
				t.Errorf("%s: Feed(% X) = %#v; want one cut", c.name, in, evs)
				continue
			}
			tk := evs[0].(escpossim.Cut).Ticket
			if got := string(escpossim.RenderText(tk)); got != c.want || len(tk.Unknown) != c.unknown {
				t.Errorf("%s: RenderText(Feed(% X) by %d) = %q (%d skipped); want %q (%d)", c.name, in, n, got, len(tk.Unknown), c.want, c.unknown)
			}
		}
	}
}

func TestDecoderRaster(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 10, 3))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	img.Set(0, 0, color.Black)
	img.Set(9, 2, color.Black)
	var e escpos.Encoder
	if err := e.Raster(img); err != nil {
		t.Fatal(err)
	}
	e.Cut(false)
	tk := oneTicketAny(t, decodeAll(e.Bytes(), 0))
	r := tk.Items[0].Raster
	if r.Bounds().Dx() != 16 || r.Bounds().Dy() != 3 {
		t.Fatalf("raster %v; want 16x3", r.Bounds())
	}
	for y := 0; y < 3; y++ {
		for x := 0; x < 16; x++ {
			black := (x == 0 && y == 0) || (x == 9 && y == 2)
			if g := color.GrayModel.Convert(r.At(x, y)).(color.Gray).Y; (g == 0) != black {
				t.Errorf("raster(%d,%d) = %d; want black %v", x, y, g, black)
			}
		}
	}
}

func oneTicketAny(t *testing.T, evs []escpossim.Event) *escpossim.Ticket {
	t.Helper()
	if len(evs) != 1 {
		t.Fatalf("events = %#v; want one cut", evs)
	}
	return evs[0].(escpossim.Cut).Ticket
}

// Status requests keep their place among cuts.
func TestDecoderOrder(t *testing.T) {
	var e escpos.Encoder
	e.Raw(0x10, 0x04, 0x01).Line("a").Cut(true).Raw(0x1D, 0x72, 0x01).Raw(0x10, 0x04, 0x04)
	evs := decodeAll(e.Bytes(), 1)
	if len(evs) != 4 {
		t.Fatalf("events = %#v; want 4", evs)
	}
	if _, ok := evs[0].(escpossim.RealtimeStatus); !ok {
		t.Errorf("event 0 = %#v", evs[0])
	}
	if _, ok := evs[1].(escpossim.Cut); !ok {
		t.Errorf("event 1 = %#v", evs[1])
	}
	if q, ok := evs[2].(escpossim.QueuedStatus); !ok || q.N != 1 {
		t.Errorf("event 2 = %#v", evs[2])
	}
	if r, ok := evs[3].(escpossim.RealtimeStatus); !ok || r.N != 4 {
		t.Errorf("event 3 = %#v", evs[3])
	}
}

// A raster too big to keep is dropped as it arrives and the stream stays in sync; a ticket
// of more than 4 MiB of text is cut off.
func TestDecoderBounded(t *testing.T) {
	var d escpossim.Decoder
	d.Feed(parseHex(t, "1D 76 30 00 00 01 00 10")) // 256 bytes x 4096 rows: 8 MiB as pixels
	body := make([]byte, 256*4096)
	for i := 0; i < len(body); i += 1000 {
		d.Feed(body[i:min(i+1000, len(body))])
	}
	evs := d.Feed([]byte("a\n\x1d\x56\x00"))
	tk := oneTicketAny(t, evs)
	if len(tk.Items) != 1 || tk.Items[0].Text != "a" || len(tk.Unknown) != 1 || !strings.Contains(tk.Unknown[0], "raster") {
		t.Errorf("after a dropped raster: %+v; want the text a and a note", tk)
	}

	var d2 escpossim.Decoder
	line := bytes.Repeat([]byte("0123456789\n"), 1<<16)
	for i := 0; i < 8; i++ {
		d2.Feed(line)
	}
	evs = d2.Feed([]byte{0x1D, 0x56, 0x00, 0x10, 0x04, 0x01})
	if len(evs) != 2 {
		t.Fatalf("events %#v; want cut and status", evs)
	}
	tk = evs[0].(escpossim.Cut).Ticket
	if len(tk.Unknown) != 1 || !strings.Contains(tk.Unknown[0], "cut off") {
		t.Errorf("oversized ticket notes %q; want a cut-off note", tk.Unknown)
	}
}

func TestRenderPNGQR(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg not installed (apt-get install zbar-tools)")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		lang  string
		paper escpos.Paper
		qr    string
	}{
		{"zh", escpos.Paper58, "https://hall.example.gov.cn/q?t=A023&d=20261122"},
		{"en", escpos.Paper80, "HK-A023-20261122"},
		{"zh", escpos.Paper80, "取号 A023 市民中心"},
	} {
		tk := goldenTicket(c.lang)
		tk.QR = c.qr
		job, err := escpos.EncodeTicket(tk, c.paper)
		if err != nil {
			t.Fatal(err)
		}
		png, err := escpossim.RenderPNG(oneTicket(t, decodeAll(job, 0)), c.paper.Dots())
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, c.lang+c.paper.String()+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbar, "-q", "--raw", "--nodbus", path).Output()
		if got := strings.TrimRight(string(out), "\n"); err != nil || got != c.qr {
			t.Errorf("zbarimg(RenderPNG(%s, %v)) = %q, %v; want %q", c.lang, c.paper, got, err, c.qr)
		}
	}
}

func TestRenderPNGFallbackFont(t *testing.T) {
	job, err := escpos.EncodeTicket(goldenTicket("zh"), escpos.Paper58)
	if err != nil {
		t.Fatal(err)
	}
	r := escpossim.Renderer{FontPath: filepath.Join(t.TempDir(), "missing.ttf")}
	png, err := r.PNG(oneTicket(t, decodeAll(job, 0)), 384)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("PNG with a missing font = %d bytes, %v; want a PNG", len(png), err)
	}
	if _, err := escpossim.RenderPNG(&escpossim.Ticket{}, 0); err == nil {
		t.Errorf("RenderPNG(0 dots) = nil error")
	}
}

func FuzzDecoder(f *testing.F) {
	job, _ := escpos.EncodeTicket(goldenTicket("zh"), escpos.Paper58)
	f.Add(job, 7)
	f.Add(parseHex(f, "10 04 01 1D 72 01 1B 76 1D 56 42 03"), 1)
	f.Add(parseHex(f, "1D 76 30 00 01 00 02 00 80 01 1D 56 00"), 3)
	f.Add(parseHex(f, "1C 26 95 32 82 1C 2E 1B 26 03 20 21 1D 28 6B 03 00 31 51 30"), 2)
	f.Add(parseHex(f, "1D 38 4C FF FF FF 7F 30 70"), 5)
	f.Fuzz(func(t *testing.T, b []byte, chunk int) {
		chunk = chunk%64 + 1
		if chunk < 1 {
			chunk = 1
		}
		var d escpossim.Decoder
		var whole escpossim.Decoder
		var split []escpossim.Event
		for i := 0; i < len(b); i += chunk {
			split = append(split, d.Feed(b[i:min(i+chunk, len(b))])...)
		}
		all := whole.Feed(b)
		if len(split) != len(all) {
			t.Fatalf("fed in %d-byte chunks: %d events; whole: %d", chunk, len(split), len(all))
		}
		for _, ev := range all {
			if c, ok := ev.(escpossim.Cut); ok {
				escpossim.RenderText(c.Ticket)
				if len(c.Ticket.Unknown) > 256 {
					t.Fatalf("%d unknown notes", len(c.Ticket.Unknown))
				}
			}
		}
	})
}
