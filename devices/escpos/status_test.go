package escpos_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/hallkiosk/hallkiosk/devices/escpos"
)

// Worked values of DEVICES.md 3.3.
func TestDecodeStatus(t *testing.T) {
	cases := []struct {
		n, b byte
		want escpos.Status
	}{
		{1, 0x12, escpos.Status{Online: true}},
		{1, 0x16, escpos.Status{Online: true}}, // drawer pin 3: not reported
		{1, 0x1A, escpos.Status{Offline: true}},
		{1, 0x52, escpos.Status{Online: true, FeedButton: true}},
		{2, 0x12, escpos.Status{}},
		{2, 0x16, escpos.Status{CoverOpen: true}},
		{2, 0x32, escpos.Status{PaperEndStop: true}},
		{2, 0x52, escpos.Status{ErrorOccurred: true}},
		{3, 0x12, escpos.Status{}},
		{3, 0x1A, escpos.Status{CutterError: true}},
		{3, 0x32, escpos.Status{Unrecoverable: true}},
		{3, 0x52, escpos.Status{AutoRecoverable: true}},
		{4, 0x12, escpos.Status{}},                                   // python-escpos RT_MASK_PAPER: paper OK
		{4, 0x1E, escpos.Status{PaperNearEnd: true}},                 // RT_MASK_LOWPAPER
		{4, 0x72, escpos.Status{PaperOut: true}},                     // RT_MASK_NOPAPER
		{4, 0x7E, escpos.Status{PaperNearEnd: true, PaperOut: true}}, // hardless example
	}
	for _, c := range cases {
		var got escpos.Status
		if err := escpos.DecodeStatus(c.n, c.b, &got); err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("DecodeStatus(%d, %#02x) = %+v, %v; want %+v, nil", c.n, c.b, got, err, c.want)
		}
	}
}

func TestDecodeStatusRejects(t *testing.T) {
	for _, b := range []byte{0x00, 0x0F, 0x13, 0x92, 0x10, 0x02, 0xFF, 0x93} {
		for n := byte(1); n <= 4; n++ {
			s := escpos.Status{PaperOut: true, Offline: true}
			if err := escpos.DecodeStatus(n, b, &s); !errors.Is(err, escpos.ErrBadStatusByte) {
				t.Errorf("DecodeStatus(%d, %#02x) = %v; want ErrBadStatusByte", n, b, err)
			}
			if !s.PaperOut || !s.Offline {
				t.Errorf("DecodeStatus(%d, %#02x) changed the status on error: %+v", n, b, s)
			}
		}
	}
	for _, n := range []byte{0, 5, 0x31} {
		var s escpos.Status
		if err := escpos.DecodeStatus(n, 0x12, &s); !errors.Is(err, escpos.ErrBadStatusRequest) {
			t.Errorf("DecodeStatus(%d, 0x12) = %v; want ErrBadStatusRequest", n, err)
		}
	}
}

func TestDecodeAll(t *testing.T) {
	cases := []struct {
		b      [4]byte
		want   escpos.Status
		faults []string
	}{
		{[4]byte{0x12, 0x12, 0x12, 0x12}, escpos.Status{Online: true}, nil},
		// Out-of-paper printer: DLE EOT 1/2/4 = 1A 32 7E.
		{[4]byte{0x1A, 0x32, 0x12, 0x7E},
			escpos.Status{Offline: true, PaperEndStop: true, PaperNearEnd: true, PaperOut: true},
			[]string{"printer.offline", "printer.paper_out"}},
		{[4]byte{0x12, 0x12, 0x12, 0x1E}, escpos.Status{Online: true, PaperNearEnd: true}, []string{"printer.paper_low"}},
		{[4]byte{0x1A, 0x56, 0x12, 0x12}, escpos.Status{Offline: true, CoverOpen: true, ErrorOccurred: true},
			[]string{"printer.offline", "printer.cover_open"}},
		{[4]byte{0x1A, 0x52, 0x3A, 0x1E},
			escpos.Status{Offline: true, ErrorOccurred: true, CutterError: true, Unrecoverable: true, PaperNearEnd: true},
			[]string{"printer.offline", "printer.paper_low", "printer.cutter_error", "printer.unrecoverable"}},
		{[4]byte{0x1A, 0x52, 0x52, 0x12}, escpos.Status{Offline: true, ErrorOccurred: true, AutoRecoverable: true},
			[]string{"printer.offline"}},
	}
	for _, c := range cases {
		got, err := escpos.DecodeAll(c.b)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("DecodeAll(% X) = %+v, %v; want %+v, nil", c.b, got, err, c.want)
		}
		if f := got.Faults(); !slices.Equal(f, c.faults) {
			t.Errorf("DecodeAll(% X).Faults() = %q; want %q", c.b, f, c.faults)
		}
	}
	if _, err := escpos.DecodeAll([4]byte{0x12, 0x12, 0x00, 0x12}); !errors.Is(err, escpos.ErrBadStatusByte) {
		t.Errorf("DecodeAll(12 12 00 12) = %v; want ErrBadStatusByte", err)
	}
}

func FuzzDecodeStatus(f *testing.F) {
	for _, s := range [][]byte{{1, 0x12}, {4, 0x72}, {4, 0x1E}, {2, 0x32}, {1, 0x1A}, {3, 0x00}, {9, 0xFF}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, n, b byte) {
		var s escpos.Status
		err := escpos.DecodeStatus(n, b, &s)
		valid := n >= 1 && n <= 4 && b&0x93 == 0x12
		if (err == nil) != valid {
			t.Fatalf("DecodeStatus(%d, %#02x) = %v; want error %v", n, b, err, !valid)
		}
		if err != nil && s != (escpos.Status{}) {
			t.Fatalf("DecodeStatus(%d, %#02x) set %+v on error", n, b, s)
		}
		if err == nil && n == 1 && s.Online == s.Offline {
			t.Fatalf("DecodeStatus(1, %#02x) = %+v: Online and Offline agree", b, s)
		}
	})
}
