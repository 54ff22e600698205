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
		{"lf", Framer{}, []feed{{data: "ABC\n"}}, []string{`"ABC"`}},
		{"crlf one terminator", Framer{}, []feed{{data: "ABC\r\nDEF\r\n"}}, []string{`"ABC"`, `"DEF"`}},
		{"crlf split across reads", Framer{}, []feed{{data: "ABC\r"}, {data: "\nDEF\r", at: time.Millisecond}, {data: "\n", at: 2 * time.Millisecond}},
			[]string{`"ABC"`, `"DEF"`}},
		{"code split across reads", Framer{}, []feed{{data: "69012"}, {data: "34567\r", at: 10 * time.Millisecond}}, []string{`"6901234567"`}},
		{"empty lines ignored", Framer{}, []feed{{data: "\r\r\n\n\rX\r"}}, []string{`"X"`}},
		{"lf cr is two terminators, no empty code", Framer{}, []feed{{data: "A\n\rB\n"}}, []string{`"A"`, `"B"`}},
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
	f.Add([]byte("ABC\r\nDEF\r"), uint8(3), uint16(16), false)
	f.Add([]byte("]Q1https://example.cn\n"), uint8(7), uint16(0), true)
	f.Add([]byte("\xc3\x28\x07\r\n\r"), uint8(1), uint16(2), false)
	f.Fuzz(func(t *testing.T, data []byte, split uint8, maxLen uint16, aim bool) {
		fr := Framer{MaxLen: int(maxLen), StripAIM: aim}
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
		terminators := bytes.Count(data, []byte{'\r'}) + bytes.Count(data, []byte{'\n'})
		if len(results) > terminators+1 {
			t.Fatalf("%d results from %d terminators", len(results), terminators)
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
				if c < 0x20 || c >= 0x7f && c <= 0x9f {
					t.Fatalf("control char accepted in %q", r.Code)
				}
			}
			if !aim && !bytes.Contains(data, []byte(r.Code)) {
				t.Fatalf("code %q not in the input", r.Code)
			}
		}
		// Feeding everything at once gives the same codes (no gap inside one read).
		one := Framer{MaxLen: int(maxLen), StripAIM: aim}
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
