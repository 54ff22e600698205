package idnum

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Valid vectors from DEVICES.md 2.1 (GB 11643 example, id-validator samples, 2023 foreign
// permanent resident samples) and the simulator's fictitious people.
var validIDs = []string{
	"11010519491231002X",
	"440524188001010014",
	"440308199901101512",
	"810000199408230021",
	"830000199201300022",
	"932682198501010017",
	"911124198108030024",
	"931586198001010028",
	"110105198503070019",
	"51010719560309007X",
	"110105200002290013", // 29 February of a leap year
}

func TestCheckID(t *testing.T) {
	for _, s := range validIDs {
		if err := CheckID(s); err != nil {
			t.Errorf("CheckID(%q) = %v; want nil", s, err)
		}
		if !ValidID(s) {
			t.Errorf("ValidID(%q) = false; want true", s)
		}
	}
	bad := []struct {
		in   string
		want error
	}{
		{"", ErrLength},
		{"11010519491231002", ErrLength},
		{"11010519491231002X1", ErrLength},
		{"110105194912310021", ErrCheckDigit},
		{"110105194912310020", ErrCheckDigit},
		{"440524188001010015", ErrCheckDigit},
		{"11010519491231002Y", ErrFormat},
		{"1101051949123100XX", ErrFormat},
		{"A1010519491231002X", ErrFormat},
		{"110105********002X", ErrFormat},
		{"110105194902310026", ErrDate}, // check digit right, 31 February
		{"110105190002290017", ErrDate}, // 1900 was not a leap year
		{"110105194913310029", ErrDate},
		{"110105000012310028", ErrDate},
		{"１１０１０５１９４９１２３１００２Ｘ", ErrLength}, // full-width digits
	}
	for _, c := range bad {
		err := CheckID(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("CheckID(%q) = %v; want %v", c.in, err, c.want)
		}
		if ValidID(c.in) {
			t.Errorf("ValidID(%q) = true; want false", c.in)
		}
		if err != nil && strings.Contains(err.Error(), c.in) && c.in != "" {
			t.Errorf("CheckID(%q) error %q repeats the number", c.in, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"11010519491231002x", "11010519491231002X"},
		{" 11010519491231002X\n", "11010519491231002X"},
		{"440524188001010014", "440524188001010014"},
		{"", ""},
		{"x", "X"},
	}
	for _, c := range cases {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	if err := CheckID("11010519491231002x"); err != nil {
		t.Errorf("CheckID(%q) = %v; want nil", "11010519491231002x", err)
	}
}

func TestCheckDigit(t *testing.T) {
	for _, s := range validIDs {
		got, err := CheckDigit(s[:17])
		if err != nil || got != s[17] {
			t.Errorf("CheckDigit(%q) = %q, %v; want %q", s[:17], got, err, s[17])
		}
	}
	for _, s := range []string{"", "1101051949123100", "110105194912310021", "1101051949123100X"} {
		if got, err := CheckDigit(s); err == nil {
			t.Errorf("CheckDigit(%q) = %q, nil; want an error", s, got)
		}
	}
}

func TestUpgrade15(t *testing.T) {
	cases := []struct {
		in, want string
		err      error
	}{
		{"110105491231002", "11010519491231002X", nil},
		{"440308990110151", "440308199901101512", nil},
		{" 110105491231002 ", "11010519491231002X", nil},
		{"11010549123100", "", ErrLength},
		{"11010549123100A", "", ErrFormat},
		{"110105490231002", "", ErrDate},
	}
	for _, c := range cases {
		got, err := Upgrade15(c.in)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Upgrade15(%q) = %q, %v; want %q, %v", c.in, got, err, c.want, c.err)
		}
		if err := CheckID15(c.in); !errors.Is(err, c.err) {
			t.Errorf("CheckID15(%q) = %v; want %v", c.in, err, c.err)
		}
		if c.err == nil && !ValidID(got) {
			t.Errorf("Upgrade15(%q) = %q, which ValidID rejects", c.in, got)
		}
	}
}

func TestCheckUSCC(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"91350100M000100Y43", nil},
		{"91440300708461136T", nil},
		{"91110108551385082Q", nil},
		{"91230184MA1BUFLT44", nil},
		{"92371000MA3MXH0E3W", nil},
		{"913502000728319549", nil},
		{"91230184ma1buflt44", nil},
		{" 913502000728319549 ", nil},
		{"91350100M0001TGQXM", ErrUSCCCheck}, // a real pilot code; computed check is 1
		{"913502000728319548", ErrUSCCCheck},
		{"91440300708461136Y", ErrUSCCCheck},
		{"", ErrUSCCFormat},
		{"91440300708461136", ErrUSCCFormat},
		{"91440300708461136TT", ErrUSCCFormat},
		{"9144030070846113OT", ErrUSCCFormat}, // O is not in the alphabet
		{"91440300708461136I", ErrUSCCFormat},
		{"91440300-08461136T", ErrUSCCFormat},
	}
	for _, c := range cases {
		err := CheckUSCC(c.in)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("CheckUSCC(%q) = %v; want %v", c.in, err, c.want)
		}
		if errors.Is(err, ErrUSCCCheck) && errors.Is(err, ErrUSCCFormat) {
			t.Errorf("CheckUSCC(%q) = %v; is both a check and a format error", c.in, err)
		}
	}
}

func TestMaskID(t *testing.T) {
	cases := []struct{ in, want string }{
		{"11010519491231002X", "110105********002X"},
		{"440524188001010014", "440524********0014"},
		{"110105491231002", "110105*****1002"},
		{"USA310085010112", "USA310*****0112"},
		{"12345678901234", "123456****1234"},
		{"1234567890123", "12345****0123"},
		{"123456789012", "1234****9012"},
		{"1234567890", "123****890"},
		{"12345678", "12****78"},
		{"1234567", "*******"},
		{"", ""},
		{"1", "*"},
		{"张三李四王五赵六", "张三****赵六"},
	}
	for _, c := range cases {
		if got := MaskID(c.in); got != c.want {
			t.Errorf("MaskID(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestMaskName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"张三", "张*"},
		{"欧阳娜娜", "欧***"},
		{"王建国", "王**"},
		{"张", "*"},
		{"买买提·艾力", "买*****"},
		{"SMITH, JOHN", "S****, J***"},
		{"MARY ANN LEE", "M*** A** L**"},
		{"O'NEIL-SMITH", "O'N***-S****"},
		{"J", "J"},
		{"  李娜 ", "李*"},
		{"", ""},
		{"   ", ""},
	}
	for _, c := range cases {
		if got := MaskName(c.in); got != c.want {
			t.Errorf("MaskName(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestMaskAddress(t *testing.T) {
	cases := []struct{ in, want string }{
		{"北京市朝阳区建国路88号院3号楼1单元502室", "北京市朝阳区****"},
		{"广东省深圳市宝安区新安街道创业二路66号", "广东省深圳市宝安区****"},
		{"四川省成都市武侯区人民南路四段12号", "四川省成都市武侯区****"},
		{"河北省保定市涞水县永阳镇", "河北省保定市涞水县****"},
		{"内蒙古自治区鄂尔多斯市伊金霍洛旗阿勒腾席热镇", "内蒙古自治区鄂尔多斯市伊金霍洛旗****"},
		{"广西壮族自治区南宁市青秀区民族大道100号", "广西壮族自治区南宁市青秀区****"},
		{"江苏省苏州市昆山市玉山镇前进路1号", "江苏省苏州市昆山市****"},
		{"新疆维吾尔自治区伊犁哈萨克自治州伊宁市斯大林街", "新疆维吾尔自治区伊犁哈萨克自治州伊宁市****"},
		{"黑龙江省大兴安岭地区加格达奇区红旗路", "黑龙江省大兴安岭地区加格达奇区****"},
		{"香港特别行政区湾仔区告士打道", "香港特别行政区湾仔区****"},
		{"江苏省昆山市玉山镇前进路1号", "江苏省昆山市****"}, // no district: first 6 characters
		{"朝阳路幸福小区5号楼", "朝阳路幸福小****"},     // 小区 is not a district
		{"建国路88号院", "建国路****"},           // never past a house number
		{"北京市海淀区", "北京市海淀区"},             // nothing left to hide
		{"北京", "北京"},
		{"", ""},
		{"某某某某某某某某某某某某某某某某某某某某某某区", "某某某某某某****"}, // 区 too far in to be administrative
	}
	for _, c := range cases {
		if got := MaskAddress(c.in); got != c.want {
			t.Errorf("MaskAddress(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestFindIDs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{`{"msg":"card read","id":"11010519491231002X"}`, []string{"11010519491231002X"}},
		{"id=11010519491231002x.", []string{"11010519491231002x"}},
		{"masked 110105********002X only", nil},
		{"bad check 110105194912310021", nil},
		{"bad date 110105194902310026", nil},
		{"two 440524188001010014 and 440308199901101512", []string{"440524188001010014", "440308199901101512"}},
		{"glued 011010519491231002X", []string{"11010519491231002X"}},
		{"张三11010519491231002X住址", []string{"11010519491231002X"}},
		{"hash 5d41402abc4b2a76b9719d911017c592", nil},
		{"ts 1732304400123456789", nil},
	}
	for _, c := range cases {
		if got := FindIDs(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("FindIDs(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	// No valid number hides in the masked form of any valid number.
	for _, s := range validIDs {
		if got := FindIDs(MaskID(s)); got != nil {
			t.Errorf("FindIDs(MaskID(%q)) = %q; want nothing", s, got)
		}
	}
}

func TestHash(t *testing.T) {
	key := []byte("deployment-key")
	m := hmac.New(sha256.New, key)
	m.Write([]byte("11010519491231002X"))
	want := hex.EncodeToString(m.Sum(nil))
	for _, in := range []string{"11010519491231002X", "11010519491231002x", " 11010519491231002X "} {
		if got := Hash(key, in); got != want {
			t.Errorf("Hash(key, %q) = %s; want %s", in, got, want)
		}
	}
	if Hash([]byte("other"), "11010519491231002X") == want {
		t.Errorf("Hash ignores the key")
	}
	if Hash(key, "440524188001010014") == want {
		t.Errorf("Hash gives two numbers the same value")
	}
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "张三", "SMITH, JOHN", "北京市朝阳区建国路88号", "\xff\xfe", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		MaskID(s)
		MaskName(s)
		MaskAddress(s)
		CheckUSCC(s)
		CheckID(s)
		for _, id := range FindIDs(s) {
			if !isFullID(id) || !strings.Contains(s, id) {
				t.Fatalf("FindIDs(%q) returned %q", s, id)
			}
		}
		if m := MaskID(s); len(FindIDs(m)) != 0 {
			t.Fatalf("MaskID(%q) = %q still holds an ID", s, m)
		}
	})
}

func BenchmarkFindIDs(b *testing.B) {
	line := strings.Repeat(`{"time":"2025-11-22T21:06:00Z","level":"INFO","msg":"card read","card":{"type":"resident","name":"张*","id":"110105********002X"}}`+"\n", 100)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		FindIDs(line)
	}
}
