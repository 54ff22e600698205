package ui

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestCatalog(t *testing.T) {
	fsys := fstest.MapFS{
		"m/zh.toml": {Data: []byte("\"ticket.ahead\" = \"前面还有 %d 人\"\nhello = \"您好\"\n")},
		"m/en.toml": {Data: []byte("\"ticket.ahead\" = \"%d ahead of you\"\n")},
	}
	c, err := LoadCatalog(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("en", "ticket.ahead", 3); got != "3 ahead of you" {
		t.Errorf("T(en) = %q; want %q", got, "3 ahead of you")
	}
	if got := c.T("en", "hello"); got != "您好" {
		t.Errorf("T(en, hello) = %q; want the zh fallback", got)
	}
	if got := c.T("zh", "nope"); got != "⟦nope⟧" {
		t.Errorf("T(missing) = %q", got)
	}
	err = c.Check()
	if err == nil || !strings.Contains(err.Error(), `en: missing "hello"`) {
		t.Errorf("Check() = %v; want the missing key", err)
	}
	fsys["m/en.toml"] = &fstest.MapFile{Data: []byte("\"ticket.ahead\" = \"%s ahead\"\nhello = \"Hello\"\n")}
	c, _ = LoadCatalog(fsys, "m")
	if err := c.Check(); err == nil || !strings.Contains(err.Error(), "verbs") {
		t.Errorf("Check() = %v; want a verb mismatch", err)
	}
}
