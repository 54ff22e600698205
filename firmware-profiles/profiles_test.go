package profiles

import (
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/BurntSushi/toml"
)

var wantIDs = []string{"chinavision-cvr100u", "epson-tm-t88", "ga467-generic", "generic-escpos-58mm", "generic-escpos-80mm",
	"generic-serial-scanner", "honeywell-serial", "jinglun-idr210", "newland-serial", "sim-idcard", "sim-printer",
	"sim-scanner", "synjones-ss628", "zebra-ssi"}

func TestEmbeddedProfilesLoad(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	var ids []string
	for _, p := range s.All() {
		ids = append(ids, p.ID)
		if err := p.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", p.ID, err)
		}
		if p.Source != p.ID+".toml" {
			t.Errorf("%s: Source = %q; want %s.toml", p.ID, p.Source, p.ID)
		}
		if p.Driver == "idcard" && p.Timing.PollInterval.Std() < 300*time.Millisecond {
			t.Errorf("%s: poll_interval %s below the GA 467 minimum", p.ID, p.Timing.PollInterval)
		}
	}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("All() ids = %v; want %v (sorted)", ids, wantIDs)
	}
	// Every *.toml in the directory is embedded: nothing is silently left out.
	names, _ := fs.Glob(embedded, "*.toml")
	if len(names) != len(wantIDs) {
		t.Errorf("embedded files = %v; want one per profile", names)
	}
}

func TestGet(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Get("ga467-generic")
	if err != nil {
		t.Fatalf("Get(ga467-generic) = %v", err)
	}
	want := Transport{Type: "serial", Baud: 115200, DataBits: 8, Parity: "none", StopBits: 1, FlowControl: "none", ReadTimeout: Duration(100 * time.Millisecond)}
	if p.Transport != want || p.Timing.PollInterval.Std() != 500*time.Millisecond || p.Driver != "idcard" || p.Kind != "id_card_reader" {
		t.Errorf("Get(ga467-generic) = %+v; want 115200 8N1, 100ms read timeout, 500ms poll", p)
	}
	_, err = s.Get("acme-9000")
	if !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("Get(acme-9000) = %v; want ErrUnknownProfile", err)
	}
	for _, w := range append([]string{"firmware-profiles:", `"acme-9000"`}, wantIDs...) {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Get(acme-9000) = %v; want it to contain %q", err, w)
		}
	}
	// Get hands out copies.
	p.Firmware = append(p.Firmware, Firmware{Version: "x"})
	p.Transport.Baud = 9600
	if again, _ := s.Get("ga467-generic"); again.Transport.Baud != 115200 || len(again.Firmware) != 0 {
		t.Errorf("changing a returned profile changed the set: %+v", again)
	}
}

func TestJSONShowsDurationsAsText(t *testing.T) {
	s, _ := Load()
	p, _ := s.Get("sim-idcard")
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"poll_interval":"300ms"`, `"read_timeout":"100ms"`, `"command_timeout":"1s"`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("json.Marshal(sim-idcard) = %s; want it to contain %s", b, w)
		}
	}
}

// base is a valid profile; cases edit it.
const base = `schema = 1
id = "test-reader"
vendor = "Acme"
model = "R100"
driver = "idcard"
kind = "id_card_reader"
[transport]
type = "serial"
baud = 115200
read_timeout = "100ms"
[timing]
poll_interval = "500ms"
command_timeout = "2s"
`

func parse(src string) error {
	_, err := Parse("test-reader.toml", []byte(src))
	return err
}

func TestBaseIsValid(t *testing.T) {
	p, err := Parse("test-reader.toml", []byte(base))
	if err != nil {
		t.Fatalf("Parse(base) = %v", err)
	}
	if tr := p.Transport; tr.DataBits != 8 || tr.Parity != "none" || tr.StopBits != 1 || tr.FlowControl != "none" {
		t.Errorf("serial defaults = %+v; want 8N1, no flow control", tr)
	}
}

func TestValidationRules(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(base, old) {
			panic("test edit does not apply: " + old)
		}
		return strings.Replace(base, old, new, 1)
	}
	// printer turns base into an escpos profile of the given kind (a TOML string).
	const printerQuirks = "[quirks]\npaper_mm = 80\ncolumns = 48\ncutter = \"partial\"\nnative_qr = true\nstatus = \"realtime\"\n"
	printer := func(kind string) string {
		return strings.NewReplacer(`driver = "idcard"`, `driver = "escpos"`, `kind = "id_card_reader"`, "kind = "+kind).Replace(base)
	}
	scanner := func(suffix string) string {
		return strings.NewReplacer(`driver = "idcard"`, `driver = "barcode"`, `kind = "id_card_reader"`, `kind = "code_scanner"`).Replace(base) +
			"[quirks]\ntrigger = \"none\"\nsuffix = \"" + suffix + "\"\n"
	}
	cases := []struct {
		name, src string
		want      []string
	}{
		{"unknown top key", "colour = \"red\"\n" + base, []string{"test-reader.toml", `unknown key "colour"`, "remove it"}},
		{"unknown nested key", edit("baud = 115200", "baud = 115200\nbaudrate = 9600"), []string{`unknown key "transport.baudrate"`}},
		{"unknown usb key", base + "[[usb]]\nvendor_id = \"0x1234\"\nproduct_id = \"0x5678\"\nvid = \"0x1\"\n", []string{`"usb.vid"`}},
		{"source is not a key", "source = \"x\"\n" + base, []string{`unknown key "source"`}},
		{"type mismatch", edit("baud = 115200", `baud = "fast"`), []string{"test-reader.toml", "transport.baud"}},
		{"bare number duration", edit(`poll_interval = "500ms"`, "poll_interval = 500"), []string{"test-reader.toml", `"500" is not a duration`, `"500ms"`}},
		{"bad duration", edit(`poll_interval = "500ms"`, `poll_interval = "half a second"`), []string{"not a duration"}},
		{"schema", edit("schema = 1", "schema = 2"), []string{"test-reader.toml: schema = 2", "set schema = 1"}},
		{"no schema", edit("schema = 1\n", ""), []string{"schema = 0", "set schema = 1"}},
		{"empty id", edit(`id = "test-reader"`, `id = ""`), []string{"id is empty", `set id = "test-reader"`}},
		{"id charset", edit(`id = "test-reader"`, `id = "Test_Reader"`), []string{`id = "Test_Reader" may hold only a-z, 0-9`}},
		{"id not stem", edit(`id = "test-reader"`, `id = "other-reader"`), []string{`id = "other-reader" differs from the file name`, `set id = "test-reader"`, "other-reader.toml"}},
		{"no vendor", edit(`vendor = "Acme"`, `vendor = " "`), []string{"vendor is empty"}},
		{"no model", edit(`model = "R100"`, ""), []string{"model is empty"}},
		{"unknown driver", edit(`driver = "idcard"`, `driver = "nfc"`), []string{`driver = "nfc" is not a known driver`, "idcard, escpos, barcode, ipp, docscan, gpio"}},
		{"idcard kind", edit(`kind = "id_card_reader"`, `kind = "ticket_printer"`), []string{`kind = "ticket_printer" does not match driver "idcard"`, `set kind = "id_card_reader"`}},
		{"kind charset", printer(`"Ticket Printer"`), []string{`kind = "Ticket Printer" is not a kind`, "lowercase words joined by '_'"}},
		{"unknown transport", edit(`type = "serial"`, `type = "bluetooth"`), []string{`transport.type = "bluetooth" is not a transport`, "serial, tcp, file, usb-hid"}},
		{"nonstandard baud", edit("baud = 115200", "baud = 250000"), []string{"transport.baud = 250000 is not a standard rate", "115200"}},
		{"no baud", edit("baud = 115200\n", ""), []string{"transport.baud = 0 is not a standard rate"}},
		{"data bits", edit("baud = 115200", "baud = 115200\ndata_bits = 9"), []string{"transport.data_bits = 9 is out of range", "5, 6, 7 or 8"}},
		{"parity", edit("baud = 115200", "baud = 115200\nparity = \"mark\""), []string{`transport.parity = "mark" is not a parity`, `"none", "odd" or "even"`}},
		{"stop bits", edit("baud = 115200", "baud = 115200\nstop_bits = 3"), []string{"transport.stop_bits = 3 is not supported", "use 1 or 2"}},
		{"flow control", edit("baud = 115200", "baud = 115200\nflow_control = \"rtscts\""), []string{`transport.flow_control = "rtscts" is not supported`, `use "none"`}},
		{"read timeout too short", edit(`read_timeout = "100ms"`, `read_timeout = "50ms"`), []string{"transport.read_timeout = 50ms is outside", "100ms to 25.5s"}},
		{"no read timeout", edit(`read_timeout = "100ms"`+"\n", ""), []string{"transport.read_timeout = 0s is outside", "closing the port hangs"}},
		{"read timeout too long", edit(`read_timeout = "100ms"`, `read_timeout = "30s"`), []string{"transport.read_timeout = 30s is outside"}},
		{"serial key on tcp", edit(`type = "serial"`, `type = "tcp"`), []string{`transport.baud is a serial setting but transport.type = "tcp"`, "remove it"}},
		{"usb vendor id", base + "[[usb]]\nvendor_id = \"1a2b\"\nproduct_id = \"0x5678\"\n", []string{`usb[0].vendor_id = "1a2b" is not a USB id`, `"0x" and 4 hex digits`}},
		{"usb product id", base + "[[usb]]\nvendor_id = \"0x1a2b\"\nproduct_id = \"0x56789\"\n", []string{`usb[0].product_id = "0x56789" is not a USB id`}},
		{"usb id missing", base + "[[usb]]\nvendor_id = \"0x1a2b\"\n", []string{`usb[0].product_id = "" is not a USB id`}},
		{"poll below GA 467 minimum", edit(`poll_interval = "500ms"`, `poll_interval = "100ms"`), []string{
			"firmware-profiles: test-reader.toml: timing.poll_interval = 100ms is below the GA 467 minimum of 300ms; use 300ms or more"}},
		{"negative poll", edit(`poll_interval = "500ms"`, `poll_interval = "-1s"`), []string{"timing.poll_interval = -1s is negative"}},
		{"no command timeout", edit(`command_timeout = "2s"`+"\n", ""), []string{"timing.command_timeout is not set", `"2s"`}},
		{"negative command timeout", edit(`command_timeout = "2s"`, `command_timeout = "-2s"`), []string{"timing.command_timeout = -2s is negative"}},
		{"max rf frame", base + "[quirks]\nmax_rf_frame = 256\n", []string{"quirks.max_rf_frame = 256 does not fit", "1 to 255"}},
		{"idcard quirk on printer", printer(`"ticket_printer"`) + "[quirks]\nread_fingerprint = true\nmax_rf_frame = 80\n",
			[]string{`quirks.read_fingerprint applies to driver "idcard" only`, `quirks.max_rf_frame applies to driver "idcard" only`}},
		{"printer is valid", printer(`"ticket_printer"`) + printerQuirks, nil},
		{"printer without quirks", printer(`"ticket_printer"`), []string{"quirks.paper_mm = 0", "quirks.cutter", "quirks.status"}},
		{"printer bad paper", printer(`"ticket_printer"`) + strings.Replace(printerQuirks, "paper_mm = 80", "paper_mm = 76", 1), []string{"quirks.paper_mm = 76", "58 or 80"}},
		{"58 mm printer with 80 mm columns", printer(`"ticket_printer"`) + strings.NewReplacer("paper_mm = 80", "paper_mm = 58", "columns = 48", "columns = 48").Replace(printerQuirks),
			[]string{"quirks.columns = 48 does not fit 58 mm paper", "384-dot head", "at most 32 columns", "use 32"}},
		{"58 mm printer with 64 columns", printer(`"ticket_printer"`) + strings.NewReplacer("paper_mm = 80", "paper_mm = 58", "columns = 48", "columns = 64").Replace(printerQuirks),
			[]string{"quirks.columns = 64 does not fit 58 mm paper"}},
		{"58 mm printer with 32 columns", printer(`"ticket_printer"`) + strings.NewReplacer("paper_mm = 80", "paper_mm = 58", "columns = 48", "columns = 32").Replace(printerQuirks), nil},
		{"80 mm printer with 49 columns", printer(`"ticket_printer"`) + strings.Replace(printerQuirks, "columns = 48", "columns = 49", 1),
			[]string{"quirks.columns = 49 does not fit 80 mm paper", "576-dot head", "use 48, or 42 on a 512-dot head"}},
		{"80 mm printer with 42 columns", printer(`"ticket_printer"`) + strings.Replace(printerQuirks, "columns = 48", "columns = 42", 1), nil},
		{"printer with 8 columns", printer(`"ticket_printer"`) + strings.Replace(printerQuirks, "columns = 48", "columns = 8", 1), []string{"quirks.columns = 8 is not a line width"}},
		{"scanner is valid", scanner("cr"), nil},
		{"scanner without suffix", scanner("none"), nil},
		{"scanner crlf", scanner("crlf"), nil},
		{"scanner bad suffix", scanner("tab"), []string{`quirks.suffix = "tab" is not a suffix`, `"none"`}},
		{"scanner quirk on reader", base + "[quirks]\ntrigger = \"honeywell\"\n", []string{`apply to driver "barcode" only`}},
		{"firmware without version", base + "[[firmware]]\nnote = \"seen on a unit\"\n", []string{"firmware[0].version is empty"}},
	}
	for _, c := range cases {
		err := parse(c.src)
		if c.want == nil {
			if err != nil {
				t.Errorf("Parse(%s) = %v; want nil", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Parse(%s) = nil; want an error containing %q", c.name, c.want)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%s) = %q; want it to contain %q", c.name, err, w)
			}
		}
		if !strings.HasPrefix(err.Error(), "firmware-profiles: ") {
			t.Errorf("Parse(%s) = %q; want the firmware-profiles: prefix", c.name, err)
		}
	}
}

func TestNonSerialTransports(t *testing.T) {
	for _, typ := range []string{"tcp", "file", "usb-hid"} {
		src := strings.NewReplacer(`type = "serial"`, `type = "`+typ+`"`, "baud = 115200\n", "").Replace(base)
		if err := parse(src); err != nil {
			t.Errorf("Parse(transport %s) = %v; want nil", typ, err)
		}
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	src := strings.NewReplacer("baud = 115200", "baud = 1", `poll_interval = "500ms"`, `poll_interval = "1ms"`).Replace(base)
	err := parse(src)
	if err == nil || !strings.Contains(err.Error(), "transport.baud") || !strings.Contains(err.Error(), "timing.poll_interval") {
		t.Errorf("Parse(two problems) = %v; want both reported", err)
	}
}

func TestLoadDir(t *testing.T) {
	good := &fstest.MapFile{Data: []byte(base)}
	s, err := LoadDir(fstest.MapFS{"test-reader.toml": good, "README.md": {Data: []byte("# not a profile")}})
	if err != nil {
		t.Fatalf("LoadDir(one profile) = %v", err)
	}
	if all := s.All(); len(all) != 1 || all[0].ID != "test-reader" {
		t.Errorf("LoadDir(one profile).All() = %+v", all)
	}

	bad := &fstest.MapFile{Data: []byte(strings.Replace(base, `id = "test-reader"`, `id = "other"`, 1))}
	_, err = LoadDir(fstest.MapFS{"test-reader.toml": good, "broken.toml": bad, "worse.toml": {Data: []byte("schema = ")}})
	for _, w := range []string{"broken.toml", "worse.toml"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("LoadDir(two broken files) = %v; want it to name %s", err, w)
		}
	}
	if _, err := LoadDir(fstest.MapFS{}); err == nil || !strings.Contains(err.Error(), "no *.toml") {
		t.Errorf("LoadDir(empty) = %v; want a no-profiles error", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestApplyOverrides(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.Get("ga467-generic")

	got, err := p.Apply(Overrides{
		Baud: ptr(57600), ReadTimeout: ptr(Duration(200 * time.Millisecond)), PollInterval: ptr(Duration(time.Second)),
		CommandTimeout: ptr(Duration(3 * time.Second)), ReadFingerprint: ptr(true),
	})
	if err != nil {
		t.Fatalf("Apply(valid overrides) = %v", err)
	}
	if got.Transport.Baud != 57600 || got.Transport.ReadTimeout.Std() != 200*time.Millisecond || got.Timing.PollInterval.Std() != time.Second ||
		got.Timing.CommandTimeout.Std() != 3*time.Second || !got.Quirks.ReadFingerprint {
		t.Errorf("Apply(valid overrides) = %+v", got)
	}
	if p.Transport.Baud != 115200 || p.Quirks.ReadFingerprint {
		t.Errorf("Apply changed its receiver: %+v", p)
	}
	if same, err := p.Apply(Overrides{}); err != nil || same.Transport != p.Transport || same.Timing != p.Timing {
		t.Errorf("Apply(no overrides) = %+v, %v; want the profile unchanged", same, err)
	}

	cases := []struct {
		name string
		o    Overrides
		want string
	}{
		{"poll", Overrides{PollInterval: ptr(Duration(100 * time.Millisecond))},
			"firmware-profiles: ga467-generic.toml: override poll_interval = 100ms is below the GA 467 minimum of 300ms; use 300ms or more"},
		{"baud", Overrides{Baud: ptr(250000)}, "override baud = 250000 is not a standard rate"},
		{"read timeout", Overrides{ReadTimeout: ptr(Duration(0))}, "override read_timeout = 0s is outside"},
		{"command timeout", Overrides{CommandTimeout: ptr(Duration(-time.Second))}, "override command_timeout = -1s is negative"},
	}
	for _, c := range cases {
		got, err := p.Apply(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Apply(%s) = %v; want an error containing %q", c.name, err, c.want)
		}
		if got.Transport != p.Transport || got.Timing != p.Timing {
			t.Errorf("Apply(%s) returned %+v on error; want the profile unchanged", c.name, got)
		}
	}
}

func TestOverridesDecodeFromTOML(t *testing.T) {
	var o Overrides
	md, err := toml.Decode("baud = 9600\npoll_interval = \"800ms\"\nread_fingerprint = true\n", &o)
	if err != nil || len(md.Undecoded()) != 0 {
		t.Fatalf("toml.Decode(overrides) = %v, undecoded %v", err, md.Undecoded())
	}
	if o.Baud == nil || *o.Baud != 9600 || o.PollInterval == nil || o.PollInterval.Std() != 800*time.Millisecond ||
		o.ReadFingerprint == nil || !*o.ReadFingerprint || o.ReadTimeout != nil || o.CommandTimeout != nil {
		t.Errorf("toml.Decode(overrides) = %+v", o)
	}
}

func TestTransportOverride(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.Get("generic-escpos-80mm")
	for _, tr := range []string{"tcp", "file"} {
		q, err := p.Apply(Overrides{Transport: &tr})
		if err != nil {
			t.Fatalf("Apply(transport = %q) = %v", tr, err)
		}
		if q.Transport.Type != tr || q.Transport.Baud != 0 || q.Transport.Parity != "" {
			t.Errorf("Apply(transport = %q) = %+v; want type %s without serial settings", tr, q.Transport, tr)
		}
	}
	bad := "carrier-pigeon"
	if _, err := p.Apply(Overrides{Transport: &bad}); err == nil || !strings.Contains(err.Error(), "override transport") {
		t.Errorf("Apply(transport = %q) = %v; want an error naming the override", bad, err)
	}
	serial := "serial"
	q, _ := p.Apply(Overrides{Transport: &serial})
	if q.Transport.Baud != 115200 {
		t.Errorf("Apply(transport = serial) on a serial profile changed the baud to %d", q.Transport.Baud)
	}
}
