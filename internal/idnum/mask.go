package idnum

import (
	"strings"
	"unicode"
)

// MaskID shows the first 6 and last 4 characters of an ID number and stars in between:
// 11010519491231002X -> 110105********002X. Shorter inputs keep fewer characters so that
// at least four are always hidden; fewer than 8 characters become all stars.
func MaskID(s string) string {
	r := []rune(s)
	n := len(r)
	if n < 8 {
		return strings.Repeat("*", n)
	}
	head, tail := 6, 4
	if n < 14 {
		tail = min(4, (n-4)/2)
		head = n - 4 - tail
	}
	return string(r[:head]) + strings.Repeat("*", n-head-tail) + string(r[n-tail:])
}

// MaskName keeps the first character of a Chinese name (张三 -> 张*, 欧阳娜娜 -> 欧***) and
// the first letter of every word of a Latin name (SMITH, JOHN -> S****, J***); separators
// stay as they are. A one-character Chinese name becomes a single star.
func MaskName(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) == 0 {
		return ""
	}
	han := false
	for _, c := range r {
		if unicode.Is(unicode.Han, c) {
			han = true
			break
		}
	}
	if han {
		if len(r) == 1 {
			return "*"
		}
		return string(r[0]) + strings.Repeat("*", len(r)-1)
	}
	var b strings.Builder
	inWord := false
	for _, c := range r {
		word := unicode.IsLetter(c) || unicode.IsDigit(c)
		switch {
		case word && !inWord:
			b.WriteRune(c)
		case word:
			b.WriteByte('*')
		default:
			b.WriteRune(c)
		}
		inWord = word
	}
	return b.String()
}

// maxAdminRunes bounds the administrative prefix MaskAddress keeps. The longest real
// ones (新疆维吾尔自治区伊犁哈萨克自治州伊宁市) are 19 characters; a "district" found later
// than this is a 小区 or a street name, not an administrative unit.
const maxAdminRunes = 20

// MaskAddress keeps an address down to its district or county and replaces the rest by
// "****": 北京市朝阳区建国路88号 -> 北京市朝阳区****. It keeps through the first 区, 县 or
// 旗 (not the 区 of 自治区, 特别行政区, 地区, 小区 or 社区), else through the second 市, else
// through a 市 that follows an autonomous prefecture (自治州), league (盟) or region (地区), else the first
// 6 characters. Nothing after a digit or 号 is ever kept, since administrative names have
// neither and house numbers have both.
func MaskAddress(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) == 0 {
		return ""
	}
	// limit is where the kept part must end at the latest.
	limit := min(len(r), maxAdminRunes)
	for i := 0; i < limit; i++ {
		if unicode.IsDigit(r[i]) || r[i] == '号' {
			limit = i
			break
		}
	}
	end := adminEnd(r[:limit])
	if end < 0 {
		end = min(6, limit)
	}
	if end >= len(r) {
		return string(r)
	}
	return string(r[:end]) + "****"
}

// adminEnd returns the index just past the district-level unit of r, or -1.
func adminEnd(r []rune) int {
	has := func(i int, prefix string) bool {
		p := []rune(prefix)
		return i >= len(p) && string(r[i-len(p):i]) == prefix
	}
	for i, c := range r {
		switch c {
		case '县', '旗':
			return i + 1
		case '区':
			// Province-level 自治区/特别行政区 and prefecture-level 地区 come before the
			// district; 小区 and 社区 are housing estates and communities after it.
			if has(i, "自治") || has(i, "行政") || has(i, "地") || has(i, "小") || has(i, "社") {
				continue
			}
			return i + 1
		}
	}
	cities := 0
	afterPrefecture := false
	for i, c := range r {
		switch {
		case c == '市':
			cities++
			if cities == 2 || afterPrefecture {
				return i + 1
			}
		case c == '州' && has(i, "自治"), c == '盟', c == '区' && has(i, "地"):
			afterPrefecture = true
		}
	}
	return -1
}
