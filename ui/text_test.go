package ui

import (
	"slices"
	"testing"
)

// monoAdv measures like a CJK font in units: ideographs and full-width marks 2, others 1.
func monoAdv(r rune) int {
	if isCJK(r) || r == '“' || r == '”' {
		return 2
	}
	return 1
}

func wrapStrings(s string, w int) []string {
	var out []string
	for _, l := range breakLines(s, w, monoAdv) {
		out = append(out, s[l.Start:l.End])
	}
	return out
}

func TestBreakLines(t *testing.T) {
	tests := []struct {
		name string
		s    string
		w    int
		want []string
	}{
		{"ideographs", "办理业务请取号", 6, []string{"办理业", "务请取", "号"}},
		{"fits", "请取号", 6, []string{"请取号"}},
		{"empty", "", 6, []string{""}},
		{"comma never starts a line", "您好，欢迎光临", 4, []string{"您", "好，", "欢迎", "光临"}},
		{"full stop never starts a line", "请取号。谢谢", 4, []string{"请取", "号。", "谢谢"}},
		{"closing bracket and stop", "请到窗口（三号）。", 8, []string{"请到窗口", "（三", "号）。"}},
		{"opening bracket never ends a line", "请到《办事指南》查看", 6, []string{"请到", "《办事", "指南》", "查看"}},
		{"several closing marks stay together", "他说：“好。”然后", 10, []string{"他说：", "“好。”然", "后"}},
		{"enumeration comma", "身份证、居住证、照片", 6, []string{"身份", "证、居", "住证、", "照片"}},
		{"latin words", "Please take a number", 10, []string{"Please", "take a", "number"}},
		{"latin spaces hang", "take   a number", 6, []string{"take", "a", "number"}},
		{"long latin word is split", "abcdefghijkl", 5, []string{"abcde", "fghij", "kl"}},
		{"latin word after ideographs moves whole", "请刷ID card", 7, []string{"请刷ID", "card"}},
		{"mixed keeps words", "请在card reader上刷卡", 8, []string{"请在card", "reader上", "刷卡"}},
		{"digits are a word", "等候 12345 人", 6, []string{"等候", "12345", "人"}},
		{"latin punctuation stays with word", "Hello, world.", 6, []string{"Hello,", "world."}},
		{"hard break", "第一行\n第二行", 20, []string{"第一行", "第二行"}},
		{"ellipsis pair is one mark", "正在连接……", 9, []string{"正在连", "接……"}},
		{"closing mark hangs when nothing else works", "朝下）。如", 4, []string{"朝", "下）。", "如"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrapStrings(tt.s, tt.w)
			if !slices.Equal(got, tt.want) {
				t.Errorf("breakLines(%q, %d) = %q; want %q", tt.s, tt.w, got, tt.want)
			}
		})
	}
}

// TestBreakLinesRules checks the line-start and line-end rules over many widths.
func TestBreakLinesRules(t *testing.T) {
	texts := []string{
		"身份证读取失败，请重新放置身份证（芯片面朝下）。如仍失败，请到人工窗口办理。",
		"网络中断：进度查询暂不可用，您仍可取号和打印已下载的证照。",
		"请携带《营业执照》「副本」及经办人身份证；办理时限：3 个工作日！",
		"Offline: progress queries are unavailable; take a number (window 3).",
	}
	for _, s := range texts {
		for w := 4; w < 60; w++ {
			lines := breakLines(s, w, monoAdv)
			var joined string
			for i, l := range lines {
				line := s[l.Start:l.End]
				joined += line
				rs := []rune(line)
				if len(rs) == 0 {
					t.Errorf("w=%d %q: empty line %d", w, s, i)
					continue
				}
				if i > 0 && isClosing(rs[0]) {
					t.Errorf("w=%d: line %q starts with closing punctuation", w, line)
				}
				if i < len(lines)-1 && isOpening(rs[len(rs)-1]) {
					t.Errorf("w=%d: line %q ends with opening punctuation", w, line)
				}
				if l.W > w && len(rs) > 1 && !isClosing(rs[len(rs)-1]) {
					t.Errorf("w=%d: line %q is %d wide and does not end in hanging punctuation", w, line, l.W)
				}
			}
			if stripSpaces(joined) != stripSpaces(s) {
				t.Errorf("w=%d: lines %q lose text of %q", w, joined, s)
			}
		}
	}
}

func stripSpaces(s string) string {
	out := []rune{}
	for _, r := range s {
		if r != ' ' {
			out = append(out, r)
		}
	}
	return string(out)
}

func TestEllipsize(t *testing.T) {
	f := loadTestFonts(t)
	fc := f.face(24, true, false)
	s := "税务登记与发票领用"
	w := fc.width(s)
	if got := fc.ellipsize(s, w); got != s {
		t.Errorf("ellipsize(%q, own width) = %q; want it unchanged", s, got)
	}
	got := fc.ellipsize(s, w/2)
	if fc.width(got) > w/2 || []rune(got)[len([]rune(got))-1] != '…' {
		t.Errorf("ellipsize(%q, %d) = %q (%d px); want <= %d px ending in …", s, w/2, got, fc.width(got), w/2)
	}
}

// TestProportionalPunctuation checks that Western text gets narrow quotes and a baseline
// ellipsis instead of the CJK font's full-width forms.
func TestProportionalPunctuation(t *testing.T) {
	f := loadTestFonts(t)
	zh, en := f.face(30, false, false), f.face(30, false, true)
	for _, r := range "“”…" {
		if a, b := zh.advance(r), en.advance(r); b >= a {
			t.Errorf("advance(%q): en %d, zh %d; want en narrower", r, b, a)
		}
	}
	if g := en.glyph('…'); g.rect.Max.Y > 1 {
		t.Errorf("en ellipsis ends %d px below the baseline; want dots on it", g.rect.Max.Y)
	}
}
