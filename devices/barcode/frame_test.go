package barcode

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// feed is one Feed call (or a Flush when flush is set) at t0+at.
type feed struct {
	data  string
	at    time.Duration
	flush bool
}

func show(r Result) string {
	if r.Err != nil {
		return fmt.Sprintf("err(%v,len=%d)", r.Err, r.Len)
	}
	if r.Symbology != "" {
		return fmt.Sprintf("%q[%s]", r.Code, r.Symbology)
	}
	return fmt.Sprintf("%q", r.Code)
}

func run(f *Framer, feeds []feed) []string {
	var out []string
	for _, fd := range feeds {
		var rs []Result
		if fd.flush {
			rs = f.Flush(t0.Add(fd.at))
		} else {
			rs = f.Feed([]byte(fd.data), t0.Add(fd.at))
		}
		for _, r := range rs {
			out = append(out, show(r))
		}
	}
	return out
}

func TestFramer(t *testing.T) {
	long := strings.Repeat("9", 600)
	max := strings.Repeat("8", 512)
	cases := []struct {
		name  string
		f     Framer
		feeds []feed
		want  []string
	}{
		{"cr", Framer{}, []feed{{data: "ABC\r"}}, []string{`"ABC"`}},
		{"lf", Framer{Suffix: SuffixLF}, []feed{{data: "ABC\n"}}, []string{`"ABC"`}},
		{"crlf", Framer{Suffix: SuffixCRLF}, []feed{{data: "ABC\r\nDEF\r\n"}}, []string{`"ABC"`, `"DEF"`}},
		{"crlf sent, cr set", Framer{}, []feed{{data: "ABC\r\nDEF\r\n"}}, []string{`"ABC"`, `"DEF"`}},
		{"crlf sent, lf set", Framer{Suffix: SuffixLF}, []feed{{data: "ABC\r\nDEF\r\n"}}, []string{`"ABC"`, `"DEF"`}},
		{"crlf split across reads", Framer{Suffix: SuffixCRLF}, []feed{{data: "ABC\r"}, {data: "\nDEF\r", at: time.Millisecond}, {data: "\n", at: 2 * time.Millisecond}},
			[]string{`"ABC"`, `"DEF"`}},
		{"cr then lf in the next read, cr set", Framer{}, []feed{{data: "ABC\r"}, {data: "\nDEF\r", at: time.Millisecond}, {data: "\n", at: 2 * time.Millisecond}},
			[]string{`"ABC"`, `"DEF"`}},
		{"code split across reads", Framer{}, []feed{{data: "69012"}, {data: "34567\r", at: 10 * time.Millisecond}}, []string{`"6901234567"`}},
		{"empty lines ignored", Framer{}, []feed{{data: "\r\r\n\n\rX\r"}}, []string{`"X"`}},
		{"empty lines ignored, lf", Framer{Suffix: SuffixLF}, []feed{{data: "\n\r\n\rX\n"}}, []string{`"X"`}},
		// Only the suffix ends a code: a QR code may hold line breaks.
		{"multi-line qr, cr", Framer{}, []feed{{data: "BEGIN:VCARD\nFN:Zhang\nEND:VCARD\r"}}, []string{`"BEGIN:VCARD\nFN:Zhang\nEND:VCARD"`}},
		{"multi-line qr, lf", Framer{Suffix: SuffixLF}, []feed{{data: "L1\rL2\rL3\n"}}, []string{`"L1\rL2\rL3"`}},
		{"multi-line qr, crlf", Framer{Suffix: SuffixCRLF}, []feed{{data: "L1\nL2\rL3\r"}, {data: "\nNEXT\r\n", at: time.Millisecond}},
			[]string{`"L1\nL2\rL3"`, `"NEXT"`}},
		{"crlf: cr held across reads stays in the code", Framer{Suffix: SuffixCRLF}, []feed{{data: "A\r"}, {data: "B\r\n", at: time.Millisecond}}, []string{`"A\rB"`}},
		{"crlf: cr at max length", Framer{Suffix: SuffixCRLF, MaxLen: 4}, []feed{{data: "1234\r"}, {data: "\n", at: time.Millisecond}}, []string{`"1234"`}},
		{"crlf: cr past max length", Framer{Suffix: SuffixCRLF, MaxLen: 4}, []feed{{data: "1234\rX\r\n"}}, []string{"err(barcode: code too long,len=6)"}},
		{"crlf: gap drops a held cr", Framer{Suffix: SuffixCRLF}, []feed{{data: "ABC\r"}, {at: time.Second, flush: true}}, []string{`"ABC"`}},
		{"lf sent, cr set: gap ends it", Framer{}, []feed{{data: "L1\nL2\n"}, {at: time.Second, flush: true}}, []string{`"L1\nL2"`}},
		{"none: gap only", Framer{Suffix: SuffixNone}, []feed{{data: "A\rB\nC"}, {at: 10 * time.Millisecond, flush: true}, {at: time.Second, flush: true}},
			[]string{`"A\rB\nC"`}},
		{"unknown suffix is cr", Framer{Suffix: "tab"}, []feed{{data: "A\nB\rC\r"}}, []string{`"A\nB"`, `"C"`}},
		{"no terminator: gap flush", Framer{}, []feed{{data: "ABC"}, {at: 30 * time.Millisecond, flush: true}, {at: 100 * time.Millisecond, flush: true}},
			[]string{`"ABC"`}},
		{"gap ends code before next feed", Framer{}, []feed{{data: "ABC"}, {data: "DEF\r", at: 60 * time.Millisecond}}, []string{`"ABC"`, `"DEF"`}},
		{"custom gap", Framer{Gap: 200 * time.Millisecond}, []feed{{data: "AB"}, {at: 100 * time.Millisecond, flush: true}, {data: "C\r", at: 150 * time.Millisecond}},
			[]string{`"ABC"`}},
		{"flush with nothing pending", Framer{}, []feed{{at: time.Hour, flush: true}}, nil},
		{"max length accepted", Framer{}, []feed{{data: max + "\r"}}, []string{fmt.Sprintf("%q", max)}},
		{"too long reported once, then recovers", Framer{}, []feed{{data: long[:300]}, {data: long[300:] + "\r\nOK\r", at: time.Millisecond}},
			[]string{"err(barcode: code too long,len=600)", `"OK"`}},
		{"too long ended by gap", Framer{MaxLen: 4}, []feed{{data: "123456"}, {at: time.Second, flush: true}}, []string{"err(barcode: code too long,len=6)"}},
		{"custom max", Framer{MaxLen: 4}, []feed{{data: "1234\r12345\r"}}, []string{`"1234"`, "err(barcode: code too long,len=5)"}},
		{"invalid utf8", Framer{}, []feed{{data: "\xc3\x28\r"}}, []string{"err(barcode: code is not valid UTF-8,len=2)"}},
		{"truncated utf8 at end", Framer{}, []feed{{data: "\xe4\xb8\r"}}, []string{"err(barcode: code is not valid UTF-8,len=2)"}},
		{"utf8 split across reads", Framer{}, []feed{{data: "\xe4\xb8"}, {data: "\xad\xe6\x96\x87\r", at: time.Millisecond}}, []string{`"中文"`}},
		{"control char", Framer{}, []feed{{data: "AB\x07C\r"}}, []string{"err(barcode: control character in code,len=4)"}},
		{"tab", Framer{}, []feed{{data: "A\tB\r"}}, []string{"err(barcode: control character in code,len=3)"}},
		{"del", Framer{}, []feed{{data: "A\x7f\r"}}, []string{"err(barcode: control character in code,len=2)"}},
		{"c1 control", Framer{}, []feed{{data: "A\u0085\r"}}, []string{"err(barcode: control character in code,len=3)"}},
		{"nul", Framer{}, []feed{{data: "\x00\r"}}, []string{"err(barcode: control character in code,len=1)"}},
		{"aim kept when not configured", Framer{}, []feed{{data: "]Q1https://zwfw.example.cn/x\r"}}, []string{`"]Q1https://zwfw.example.cn/x"`}},
		{"aim qr", Framer{StripAIM: true}, []feed{{data: "]Q1https://zwfw.example.cn/x\r"}}, []string{`"https://zwfw.example.cn/x"[qr]`}},
		{"aim code128", Framer{StripAIM: true}, []feed{{data: "]C0ABC-123\r"}}, []string{`"ABC-123"[code128]`}},
		{"aim ean13", Framer{StripAIM: true}, []feed{{data: "]E06901234567892\r"}}, []string{`"6901234567892"[ean13]`}},
		{"aim ean8", Framer{StripAIM: true}, []feed{{data: "]E469012341\r"}}, []string{`"69012341"[ean8]`}},
		{"aim datamatrix", Framer{StripAIM: true}, []feed{{data: "]d1X\r"}}, []string{`"X"[datamatrix]`}},
		{"no aim prefix", Framer{StripAIM: true}, []feed{{data: "6901234567892\r"}}, []string{`"6901234567892"`}},
		{"bracket without aim", Framer{StripAIM: true}, []feed{{data: "]]x\r]Q\r"}}, []string{`"]]x"`, `"]Q"`}},
		{"aim only", Framer{StripAIM: true}, []feed{{data: "]Q1\r"}}, []string{"err(barcode: empty code after the symbology identifier,len=3)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			got := run(&f, c.feeds)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("Feed(%+v) = %v; want %v", c.feeds, got, c.want)
			}
		})
	}
}

// Rejection messages must never carry the payload.
func TestErrorsHoldNoPayload(t *testing.T) {
	secret := "110105194912310021"
	for _, in := range []string{secret + "\x01\r", secret + "\xff\r", strings.Repeat(secret, 40) + "\r"} {
		var f Framer
		for _, r := range f.Feed([]byte(in), t0) {
			if r.Err == nil {
				t.Fatalf("Feed(%q) accepted", in)
			}
			if strings.Contains(r.Err.Error(), "1101") || r.Code != "" {
				t.Errorf("Feed(%q) = %v; the rejection carries the payload", in, r)
			}
		}
	}
}

func FuzzFramer(f *testing.F) {
	f.Add([]byte("ABC\r\nDEF\r"), uint8(3), uint16(16), false, uint8(0))
	f.Add([]byte("]Q1https://example.cn\n"), uint8(7), uint16(0), true, uint8(1))
	f.Add([]byte("\xc3\x28\x07\r\n\r"), uint8(1), uint16(2), false, uint8(2))
	f.Add([]byte("BEGIN:VCARD\nFN:Zhang\nEND:VCARD\r"), uint8(4), uint16(0), false, uint8(0))
	f.Add([]byte("A\rB\r\r\nC\n\r"), uint8(1), uint16(3), false, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, split uint8, maxLen uint16, aim bool, suffix uint8) {
		suf := Suffixes[int(suffix)%len(Suffixes)]
		fr := Framer{MaxLen: int(maxLen), StripAIM: aim, Suffix: suf}
		lim := fr.maxLen()
		step := int(split)%8 + 1
		var results []Result
		now := t0
		for i := 0; i < len(data); i += step {
			now = now.Add(time.Millisecond)
			results = append(results, fr.Feed(data[i:min(i+step, len(data))], now)...)
		}
		results = append(results, fr.Flush(now.Add(time.Hour))...)
		if fr.Pending() {
			t.Fatalf("pending after a flush past the gap")
		}
		sb, _ := suf.Bytes()
		terminators := 0
		if len(sb) > 0 {
			terminators = bytes.Count(data, sb)
		}
		if len(results) > terminators+1 {
			t.Fatalf("%d results from %d suffixes %q", len(results), terminators, sb)
		}
		for _, r := range results {
			if r.Err != nil {
				if r.Code != "" {
					t.Fatalf("rejected result carries a code: %v", r)
				}
				continue
			}
			if r.Code == "" || len(r.Code) > lim || !utf8.ValidString(r.Code) {
				t.Fatalf("bad code accepted: %q (max %d)", r.Code, lim)
			}
			for _, c := range r.Code {
				if (c < 0x20 && c != '\r' && c != '\n') || c >= 0x7f && c <= 0x9f {
					t.Fatalf("control char accepted in %q", r.Code)
				}
			}
			if len(sb) > 0 && strings.Contains(r.Code, string(sb)) {
				t.Fatalf("code %q holds the suffix %q", r.Code, sb)
			}
			if strings.TrimRight(r.Code, "\r\n") != r.Code || (!aim && strings.TrimLeft(r.Code, "\r\n") != r.Code) {
				t.Fatalf("code %q starts or ends with a line break", r.Code)
			}
			if !aim && !bytes.Contains(data, []byte(r.Code)) {
				t.Fatalf("code %q not in the input", r.Code)
			}
		}
		// Feeding everything at once gives the same codes (no gap inside one read).
		one := Framer{MaxLen: int(maxLen), StripAIM: aim, Suffix: suf}
		all := append(one.Feed(data, t0), one.Flush(t0.Add(time.Hour))...)
		var a, b []string
		for _, r := range results {
			a = append(a, show(r))
		}
		for _, r := range all {
			b = append(b, show(r))
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("split feeding = %v; one feed = %v", a, b)
		}
	})
}

func TestParseSuffix(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Suffix
	}{{"", SuffixCR}, {"cr", SuffixCR}, {"lf", SuffixLF}, {"crlf", SuffixCRLF}, {"none", SuffixNone}} {
		if got, err := ParseSuffix(c.in); err != nil || got != c.want {
			t.Errorf("ParseSuffix(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := ParseSuffix("tab"); err == nil {
		t.Errorf("ParseSuffix(tab) accepted")
	}
}

func TestParseModel(t *testing.T) {
	for _, m := range Models {
		if got, err := ParseModel(string(m)); err != nil || got != m {
			t.Errorf("ParseModel(%q) = %v, %v", m, got, err)
		}
	}
	if _, err := ParseModel("symbol"); err == nil {
		t.Errorf("ParseModel(symbol) accepted")
	}
}
