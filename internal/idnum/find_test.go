package idnum

import (
	"reflect"
	"strings"
	"testing"
)

// The leak check must see every kind of number a GA 467 reader reads, not only the
// 18-character one: legacy 15-digit numbers and 2017 foreign permanent resident numbers.
func TestFindIDsEveryKind(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		// 2017 foreign permanent resident numbers: 3 capital letters and 12 digits.
		{`{"msg":"card read","id":"USA310085010112"}`, []string{"USA310085010112"}},
		{"pr=CAN110070120314.", []string{"CAN110070120314"}},
		{"永居证USA310085010112已读", []string{"USA310085010112"}},
		{"masked USA310*****0112", nil},
		{"lower usa310085010112", nil},
		{"glued XUSA310085010112", nil},           // 4 letters: a token, not a number
		{"glued USA3100850101123", nil},           // 13 digits
		{"glued USA310085010112Z", nil},           // a letter after
		{"short USA31008501011", nil},             // 11 digits
		{"token REQ20240601123000A", nil},         // a longer token
		{"b64 QUJDREVGR0hJSktMTU5PUFFS", nil},     // no digit run
		{"hex DEADBEEF1234567890123456ABCD", nil}, // letters glued on both sides
		// 2023 foreign permanent resident numbers are 18 digits starting with 9 and pass
		// the GB 11643 check, like citizen numbers.
		{"id 932682198501010017", []string{"932682198501010017"}},
		// Legacy 15-digit numbers: a run of exactly 15 digits, province code first, real
		// 19YYMMDD date.
		{"legacy 110105491231002 end", []string{"110105491231002"}},
		{`"id":"440524800101001"`, []string{"440524800101001"}},
		{"姓名张三身份证号110105491231002住址", []string{"110105491231002"}},
		{"legacy bad date 110105491331002", nil},
		{"not a province 990105491231002", nil},
		{"not a province 000105491231002", nil},
		{"16 digits 1101054912310021", nil},
		{"fraction 0.110105491231002", nil},
		{"ms 1732304400123", nil},
		{"µs 1732304400123456", nil},
		{"masked 110105*****1002", nil},
		// All three kinds in one line, in order of appearance.
		{"a USA310085010112 b 110105491231002 c 11010519491231002X",
			[]string{"USA310085010112", "110105491231002", "11010519491231002X"}},
	}
	for _, c := range cases {
		if got := FindIDs(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("FindIDs(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	for _, s := range []string{"USA310085010112", "110105491231002", "932682198501010017"} {
		if got := FindIDs(MaskID(s)); got != nil {
			t.Errorf("FindIDs(MaskID(%q)) = %q; want nothing", s, got)
		}
	}
}

// Everything FindIDs returns is one of the numbers it documents.
func TestIsFullID(t *testing.T) {
	for _, s := range append([]string{"USA310085010112", "110105491231002"}, validIDs...) {
		if !isFullID(s) {
			t.Errorf("isFullID(%q) = false; want true", s)
		}
	}
	for _, s := range []string{"", "USA31008501011", "US1310085010112", "110105491331002", "110105194912310021",
		strings.Repeat("0", 15)} {
		if isFullID(s) {
			t.Errorf("isFullID(%q) = true; want false", s)
		}
	}
}
