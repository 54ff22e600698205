// Package profiles loads device-model profiles: one strictly decoded, validated TOML file per supported model, embedded in the binary.
package profiles

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

//go:embed *.toml
var embedded embed.FS

// Schema is the profile schema version this build reads.
const Schema = 1

// ErrUnknownProfile is returned (wrapped) by Set.Get for an id no profile has.
var ErrUnknownProfile = errors.New("unknown profile")

// Duration is a time.Duration written in TOML and JSON as a string such as "100ms" or "2s".
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as "100ms", so `kioskctl profiles show` prints what the file says.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration string. A bare number is rejected: "100" could be
// milliseconds or seconds, and a wrong guess is a reader that never answers in time.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it with a unit, e.g. \"500ms\" or \"2s\"", b)
	}
	*d = Duration(v)
	return nil
}

// Profile describes one device model: how to talk to it and what its firmware needs.
type Profile struct {
	// Schema is the profile schema version; must be 1.
	Schema int `toml:"schema" json:"schema"`
	// ID names the profile in kioskd's config; equals the file name without ".toml".
	ID string `toml:"id" json:"id"`
	// Vendor and Model as printed on the device or its manual.
	Vendor string `toml:"vendor" json:"vendor"`
	Model  string `toml:"model" json:"model"`
	// Driver is the Hallkiosk driver that speaks to it: idcard, escpos, barcode, ipp,
	// docscan or gpio.
	Driver string `toml:"driver" json:"driver"`
	// Kind is what the device is to the hall, e.g. "id_card_reader".
	Kind string `toml:"kind" json:"kind"`
	// Notes are for technicians: sources, unknowns, bring-up advice.
	Notes     string    `toml:"notes" json:"notes,omitempty"`
	Transport Transport `toml:"transport" json:"transport"`
	// USB ids the model is known to enumerate with; empty when not confirmed.
	USB      []USBID    `toml:"usb" json:"usb,omitempty"`
	Timing   Timing     `toml:"timing" json:"timing"`
	Quirks   Quirks     `toml:"quirks" json:"quirks"`
	Firmware []Firmware `toml:"firmware" json:"firmware,omitempty"`

	// Source is the file the profile came from, for messages. Not a TOML key.
	Source string `toml:"-" json:"source,omitempty"`
}

// Transport is how the host reaches the device.
type Transport struct {
	// Type: serial, tcp, file or usb-hid.
	Type string `toml:"type" json:"type"`
	// Serial line settings (type = "serial" only). DataBits, Parity, StopBits and
	// FlowControl default to 8, "none", 1 and "none".
	Baud        int    `toml:"baud" json:"baud,omitempty"`
	DataBits    int    `toml:"data_bits" json:"data_bits,omitempty"`
	Parity      string `toml:"parity" json:"parity,omitempty"`
	StopBits    int    `toml:"stop_bits" json:"stop_bits,omitempty"`
	FlowControl string `toml:"flow_control" json:"flow_control,omitempty"`
	// ReadTimeout bounds one read. On serial lines tarm/serial rounds it up to 0.1 s steps
	// (0.1 s to 25.5 s), and without one Close blocks behind a pending read.
	ReadTimeout Duration `toml:"read_timeout" json:"read_timeout"`
}

// USBID is a USB vendor and product id, each "0x" and 4 hex digits.
type USBID struct {
	VendorID  string `toml:"vendor_id" json:"vendor_id"`
	ProductID string `toml:"product_id" json:"product_id"`
	Note      string `toml:"note" json:"note,omitempty"`
}

// Timing is how often and how long the driver talks to the device.
type Timing struct {
	// PollInterval between polls for a card or status; GA 467 readers need >= 300ms.
	PollInterval Duration `toml:"poll_interval" json:"poll_interval"`
	// CommandTimeout is the longest one command and its whole response may take.
	CommandTimeout Duration `toml:"command_timeout" json:"command_timeout"`
}

// Quirks are model-specific switches the driver understands. Each applies to one driver.
type Quirks struct {
	// ReadFingerprint reads text + photo + fingerprint (30 10) instead of text + photo
	// (30 01). idcard only.
	ReadFingerprint bool `toml:"read_fingerprint" json:"read_fingerprint"`
	// MaxRFFrame, when not 0, is sent with 61 FF at every connection (a reader forgets it when powered off) to set its RF frame size
	// (1-255 bytes). idcard only.
	MaxRFFrame int `toml:"max_rf_frame" json:"max_rf_frame"`

	// PaperMM is the paper roll width, 58 or 80. escpos only.
	PaperMM int `toml:"paper_mm" json:"paper_mm,omitempty"`
	// Columns of font A on one line (58 mm: 32; 80 mm: 48, or 42 on 512-dot heads), at most
	// what the paper's head prints (32 on 58 mm, 48 on 80 mm); the driver lays text, the
	// logo and a raster QR code out for columns x 12 dots. escpos only.
	Columns int `toml:"columns" json:"columns,omitempty"`
	// Cutter: "partial", "full" or "none" (tear bar). escpos only.
	Cutter string `toml:"cutter" json:"cutter,omitempty"`
	// NativeQR: the printer draws QR codes itself (GS ( k); otherwise the driver sends the
	// code as a raster image. escpos only.
	NativeQR bool `toml:"native_qr" json:"native_qr,omitempty"`
	// Status must be "realtime": the printer answers DLE EOT n and GS r 1. A one-way printer
	// cannot confirm a ticket, and an unconfirmed ticket must not count as waiting. escpos only.
	Status string `toml:"status" json:"status,omitempty"`

	// Trigger is the scanner's command set for host triggering: "none", "honeywell",
	// "newland" or "zebra-ssi". barcode only.
	Trigger string `toml:"trigger" json:"trigger,omitempty"`
	// Suffix the scanner is set to send after a code: "cr", "lf", "crlf" or "none". Only it
	// (or a pause in the bytes) ends a code, so a QR code may hold the other line breaks;
	// with "none" codes end at the pause only. barcode only.
	Suffix string `toml:"suffix" json:"suffix,omitempty"`
	// AIMPrefix: the scanner sends an AIM symbology identifier (]Q1...) first. barcode only.
	AIMPrefix bool `toml:"aim_prefix" json:"aim_prefix,omitempty"`
}

// Firmware is a firmware version the profile was checked against.
type Firmware struct {
	Version string `toml:"version" json:"version"`
	Note    string `toml:"note" json:"note,omitempty"`
}

// Overrides are single values a device entry in kioskd's config may change.
type Overrides struct {
	Baud            *int      `toml:"baud" json:"baud,omitempty"`
	ReadTimeout     *Duration `toml:"read_timeout" json:"read_timeout,omitempty"`
	PollInterval    *Duration `toml:"poll_interval" json:"poll_interval,omitempty"`
	CommandTimeout  *Duration `toml:"command_timeout" json:"command_timeout,omitempty"`
	ReadFingerprint *bool     `toml:"read_fingerprint" json:"read_fingerprint,omitempty"`
	// Transport changes transport.type, for a model that ships with serial, USB and network
	// interfaces: "serial", "tcp" or "file".
	Transport *string `toml:"transport" json:"transport,omitempty"`
}

// Set is a loaded, validated collection of profiles.
type Set struct {
	byID map[string]Profile
}

// Load returns the profiles embedded in the binary.
func Load() (*Set, error) { return LoadDir(embedded) }

// LoadDir loads every *.toml file at the top of fsys (an operator directory through
// os.DirFS, or a test fixture). Every problem in every file is reported at once, so a
// technician fixes them in one pass.
func LoadDir(fsys fs.FS) (*Set, error) {
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("firmware-profiles: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("firmware-profiles: no *.toml profiles found")
	}
	s := &Set{byID: map[string]Profile{}}
	var errs []error
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("firmware-profiles: %s: %w", name, err))
			continue
		}
		p, err := Parse(name, b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.byID[p.ID] = p // ids are unique: each equals its file name
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// Parse strictly decodes one profile file, fills defaults and validates it. name is the
// file name; the id must equal it without ".toml".
func Parse(name string, b []byte) (Profile, error) {
	var p Profile
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&p)
	if err != nil {
		return Profile{}, fmt.Errorf("firmware-profiles: %s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = fmt.Sprintf("%q", k.String())
		}
		what, fix := "key", "remove it or correct its spelling"
		if len(keys) > 1 {
			what, fix = "keys", "remove them or correct their spelling"
		}
		return Profile{}, fmt.Errorf("firmware-profiles: %s: unknown %s %s: %s (firmware-profiles/README.md lists the keys)",
			name, what, strings.Join(keys, ", "), fix)
	}
	p.Source = name
	p.provision()
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// Get returns the profile with id.
func (s *Set) Get(id string) (Profile, error) {
	p, ok := s.byID[id]
	if !ok {
		return Profile{}, fmt.Errorf("firmware-profiles: %w %q: known profiles are %s", ErrUnknownProfile, id, strings.Join(s.ids(), ", "))
	}
	return p.clone(), nil
}

// All returns every profile, sorted by id.
func (s *Set) All() []Profile {
	out := make([]Profile, 0, len(s.byID))
	for _, id := range s.ids() {
		out = append(out, s.byID[id].clone())
	}
	return out
}

func (s *Set) ids() []string { return slices.Sorted(maps.Keys(s.byID)) }

// clone copies the slices, so a caller changing its copy cannot change the Set.
func (p Profile) clone() Profile {
	p.USB = slices.Clone(p.USB)
	p.Firmware = slices.Clone(p.Firmware)
	return p
}

// provision fills the serial defaults nearly every device uses (8N1, no flow control).
func (p *Profile) provision() {
	t := &p.Transport
	if t.Type != "serial" {
		return
	}
	if t.DataBits == 0 {
		t.DataBits = 8
	}
	if t.Parity == "" {
		t.Parity = "none"
	}
	if t.StopBits == 0 {
		t.StopBits = 1
	}
	if t.FlowControl == "" {
		t.FlowControl = "none"
	}
}

// Apply returns p with the overrides applied, validated again. On error it returns p
// unchanged, so a caller can still name the device's driver in its start-up report.
func (p Profile) Apply(o Overrides) (Profile, error) {
	q := p.clone()
	overridden := map[string]string{}
	if o.Transport != nil && *o.Transport != q.Transport.Type {
		q.Transport.Type = *o.Transport
		overridden["transport.type"] = "transport"
		if q.Transport.Type != "serial" {
			// Serial settings mean nothing on the new transport.
			q.Transport.Baud, q.Transport.DataBits, q.Transport.Parity, q.Transport.StopBits, q.Transport.FlowControl = 0, 0, "", 0, ""
		}
		q.provision()
	}
	if o.Baud != nil {
		q.Transport.Baud = *o.Baud
		overridden["transport.baud"] = "baud"
	}
	if o.ReadTimeout != nil {
		q.Transport.ReadTimeout = *o.ReadTimeout
		overridden["transport.read_timeout"] = "read_timeout"
	}
	if o.PollInterval != nil {
		q.Timing.PollInterval = *o.PollInterval
		overridden["timing.poll_interval"] = "poll_interval"
	}
	if o.CommandTimeout != nil {
		q.Timing.CommandTimeout = *o.CommandTimeout
		overridden["timing.command_timeout"] = "command_timeout"
	}
	if o.ReadFingerprint != nil {
		q.Quirks.ReadFingerprint = *o.ReadFingerprint
		overridden["quirks.read_fingerprint"] = "read_fingerprint"
	}
	if err := q.render(q.problems(), overridden); err != nil {
		return p, err
	}
	return q, nil
}

// Validate checks every value. Each message names the file, the key and the fix.
func (p Profile) Validate() error { return p.render(p.problems(), nil) }

// problem is one invalid value: key is the TOML key, text follows it in the message.
type problem struct{ key, text string }

func (p Profile) render(ps []problem, overridden map[string]string) error {
	file := p.Source
	if file == "" {
		file = "profile " + p.ID
	}
	var errs []error
	for _, pr := range ps {
		key := pr.key
		if name, ok := overridden[key]; ok {
			key = "override " + name
		}
		errs = append(errs, fmt.Errorf("firmware-profiles: %s: %s %s", file, key, pr.text))
	}
	return errors.Join(errs...)
}

var (
	idRe    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	kindRe  = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	usbIDRe = regexp.MustCompile(`^0x[0-9a-fA-F]{4}$`)
)

// drivers are the driver names a profile may use.
var drivers = []string{"idcard", "escpos", "barcode", "ipp", "docscan", "gpio"}

// transportTypes are the transport types a profile may use.
var transportTypes = []string{"serial", "tcp", "file", "usb-hid"}

// bauds are the rates github.com/tarm/serial can set; it refuses any other
// ("Unrecognized baud rate", DEVICES.md 7.2).
var bauds = []int{50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400,
	57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000,
	2500000, 3000000, 3500000, 4000000}

// paperColumns is the most font A columns (12 dots wide) a paper width prints: 384 dots
// on 58 mm, 576 on 80 mm (DEVICES.md 3; escpos.Paper.Dots).
var paperColumns = map[int]int{58: 32, 80: 48}

// GA 467 vendors' sheets ask for at least 300 ms between polls (DEVICES.md 1.3).
const ga467MinPoll = 300 * time.Millisecond

// tarm/serial maps the read timeout to termios VTIME: 0.1 s units, at most 255 of them.
const (
	serialMinReadTimeout = 100 * time.Millisecond
	serialMaxReadTimeout = 25500 * time.Millisecond
)

func (p Profile) problems() []problem {
	var ps []problem
	bad := func(key, format string, a ...any) { ps = append(ps, problem{key, fmt.Sprintf(format, a...)}) }
	stem := strings.TrimSuffix(path.Base(p.Source), ".toml")

	if p.Schema != Schema {
		bad("schema", "= %d is not a schema this kioskd reads: set schema = %d", p.Schema, Schema)
	}
	switch {
	case p.ID == "":
		bad("id", "is empty: set id = %q (the file name without .toml)", stem)
	case !idRe.MatchString(p.ID):
		bad("id", "= %q may hold only a-z, 0-9 and single '-': rename it and its file, e.g. \"acme-r100\"", p.ID)
	case p.Source != "" && p.ID != stem:
		bad("id", "= %q differs from the file name: set id = %q or rename the file to %s.toml", p.ID, stem, p.ID)
	}
	if strings.TrimSpace(p.Vendor) == "" {
		bad("vendor", "is empty: name the maker as on the device or its manual")
	}
	if strings.TrimSpace(p.Model) == "" {
		bad("model", "is empty: give the model as on the device's label")
	}
	if !slices.Contains(drivers, p.Driver) {
		bad("driver", "= %q is not a known driver: use one of %s", p.Driver, strings.Join(drivers, ", "))
	}
	switch {
	case p.Driver == "idcard" && p.Kind != "id_card_reader":
		bad("kind", "= %q does not match driver \"idcard\": set kind = \"id_card_reader\"", p.Kind)
	case !kindRe.MatchString(p.Kind):
		bad("kind", "= %q is not a kind: use lowercase words joined by '_', e.g. \"ticket_printer\"", p.Kind)
	}

	t := p.Transport
	switch t.Type {
	case "serial":
		if !slices.Contains(bauds, t.Baud) {
			bad("transport.baud", "= %d is not a standard rate: use one of 9600, 19200, 38400, 57600, 115200 (or another rate tarm/serial supports, 50 to 4000000)", t.Baud)
		}
		if t.DataBits < 5 || t.DataBits > 8 {
			bad("transport.data_bits", "= %d is out of range: use 5, 6, 7 or 8 (nearly always 8)", t.DataBits)
		}
		if !slices.Contains([]string{"none", "odd", "even"}, t.Parity) {
			bad("transport.parity", "= %q is not a parity: use \"none\", \"odd\" or \"even\"", t.Parity)
		}
		if t.StopBits != 1 && t.StopBits != 2 {
			bad("transport.stop_bits", "= %d is not supported: use 1 or 2 (tarm/serial has no 1.5)", t.StopBits)
		}
		if t.FlowControl != "none" {
			bad("transport.flow_control", "= %q is not supported: tarm/serial sets no flow control; use \"none\"", t.FlowControl)
		}
		if rt := t.ReadTimeout.Std(); rt < serialMinReadTimeout || rt > serialMaxReadTimeout {
			bad("transport.read_timeout", "= %s is outside what a serial line can do: use 100ms to 25.5s (0.1 s steps); without one, closing the port hangs", t.ReadTimeout)
		}
	case "tcp", "file", "usb-hid":
		for _, f := range []struct {
			key string
			set bool
		}{
			{"baud", t.Baud != 0}, {"data_bits", t.DataBits != 0}, {"parity", t.Parity != ""},
			{"stop_bits", t.StopBits != 0}, {"flow_control", t.FlowControl != ""},
		} {
			if f.set {
				bad("transport."+f.key, "is a serial setting but transport.type = %q: remove it", t.Type)
			}
		}
		if t.ReadTimeout < 0 {
			bad("transport.read_timeout", "= %s is negative: use 0 (none) or a positive duration", t.ReadTimeout)
		}
	default:
		bad("transport.type", "= %q is not a transport: use one of %s", t.Type, strings.Join(transportTypes, ", "))
	}

	for i, u := range p.USB {
		for _, f := range []struct{ key, v string }{{"vendor_id", u.VendorID}, {"product_id", u.ProductID}} {
			if !usbIDRe.MatchString(f.v) {
				bad(fmt.Sprintf("usb[%d].%s", i, f.key), "= %q is not a USB id: write \"0x\" and 4 hex digits as lsusb shows them, or leave the [[usb]] entry out if unknown", f.v)
			}
		}
	}

	tm := p.Timing
	if tm.PollInterval < 0 {
		bad("timing.poll_interval", "= %s is negative: use a positive duration, e.g. \"500ms\"", tm.PollInterval)
	}
	if tm.CommandTimeout < 0 {
		bad("timing.command_timeout", "= %s is negative: use a positive duration, e.g. \"2s\"", tm.CommandTimeout)
	}
	if p.Driver == "idcard" {
		if tm.PollInterval.Std() < ga467MinPoll && tm.PollInterval >= 0 {
			bad("timing.poll_interval", "= %s is below the GA 467 minimum of 300ms; use 300ms or more", tm.PollInterval)
		}
		if tm.CommandTimeout == 0 {
			bad("timing.command_timeout", "is not set: give the longest a command and its response may take, e.g. \"2s\"")
		}
	}

	q := p.Quirks
	if p.Driver != "idcard" {
		if q.ReadFingerprint {
			bad("quirks.read_fingerprint", "applies to driver \"idcard\" only: remove it")
		}
		if q.MaxRFFrame != 0 {
			bad("quirks.max_rf_frame", "applies to driver \"idcard\" only: remove it")
		}
	} else if q.MaxRFFrame < 0 || q.MaxRFFrame > 255 {
		bad("quirks.max_rf_frame", "= %d does not fit the one data byte of command 61 FF: use 0 (keep the reader's default) or 1 to 255", q.MaxRFFrame)
	}
	if p.Driver == "escpos" {
		if q.PaperMM != 58 && q.PaperMM != 80 {
			bad("quirks.paper_mm", "= %d is not a ticket paper width: use 58 or 80", q.PaperMM)
		}
		switch maxCols := paperColumns[q.PaperMM]; {
		case q.Columns < 16 || q.Columns > 64:
			bad("quirks.columns", "= %d is not a line width: use 32 (58 mm), 42 or 48 (80 mm)", q.Columns)
		case maxCols > 0 && q.Columns > maxCols:
			bad("quirks.columns", "= %d does not fit %d mm paper: its %d-dot head prints at most %d columns of font A (12 dots each), and the ticket and its logo are laid out for the columns; use %s",
				q.Columns, q.PaperMM, maxCols*12, maxCols, map[int]string{58: "32", 80: "48, or 42 on a 512-dot head"}[q.PaperMM])
		}
		if !slices.Contains([]string{"partial", "full", "none"}, q.Cutter) {
			bad("quirks.cutter", "= %q is not a cutter: use \"partial\", \"full\" or \"none\"", q.Cutter)
		}
		if q.Status != "realtime" {
			bad("quirks.status", "= %q is not supported: Hallkiosk confirms every ticket through DLE EOT and GS r 1, so the printer must answer them; set status = \"realtime\" (a one-way printer cannot be used for tickets)", q.Status)
		}
	} else {
		for _, f := range []struct {
			key string
			set bool
		}{{"paper_mm", q.PaperMM != 0}, {"columns", q.Columns != 0},
			{"cutter", q.Cutter != ""}, {"native_qr", q.NativeQR}, {"status", q.Status != ""}} {
			if f.set {
				bad("quirks."+f.key, "applies to driver \"escpos\" only: remove it")
			}
		}
	}
	if p.Driver == "barcode" {
		if !slices.Contains([]string{"none", "honeywell", "newland", "zebra-ssi"}, q.Trigger) {
			bad("quirks.trigger", "= %q is not a trigger command set: use \"none\", \"honeywell\", \"newland\" or \"zebra-ssi\"", q.Trigger)
		}
		if !slices.Contains([]string{"cr", "lf", "crlf", "none"}, q.Suffix) {
			bad("quirks.suffix", "= %q is not a suffix: use \"cr\", \"lf\", \"crlf\" or \"none\" as set on the scanner", q.Suffix)
		}
	} else if q.Trigger != "" || q.Suffix != "" || q.AIMPrefix {
		bad("quirks.trigger", "and suffix/aim_prefix apply to driver \"barcode\" only: remove them")
	}

	for i, f := range p.Firmware {
		if strings.TrimSpace(f.Version) == "" {
			bad(fmt.Sprintf("firmware[%d].version", i), "is empty: give the version string the device reports, or leave the [[firmware]] entry out")
		}
	}
	return ps
}
