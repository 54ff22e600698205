package kiosk

import (
	"go/ast"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/hallkiosk/hallkiosk/internal/gosrc"
)

func TestMessagesCheck(t *testing.T) {
	c, err := Messages()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(); err != nil {
		t.Error(err)
	}
	if got := c.Langs(); !slices.Equal(got, []string{"zh", "en"}) {
		t.Errorf("Langs() = %v; want [zh en]", got)
	}
}

// TestMessageKeys reads the package's Go files: every key passed to tr or T must be a
// literal in the catalogue, every catalogue key must be used, and no string literal may hold
// Chinese (a sentence for citizens belongs in the catalogue).
func TestMessageKeys(t *testing.T) {
	c, err := Messages()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	gosrc.Inspect(t, ".", func(fset *token.FileSet, n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			return n.Name.Name != "tr" // the one place that passes keys on
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "tr" && sel.Sel.Name != "T") || len(n.Args) == 0 {
				return true
			}
			lit, ok := n.Args[0].(*ast.BasicLit)
			if sel.Sel.Name == "T" {
				// Catalog.T(lang, key, ...): the key is the second argument.
				if len(n.Args) < 2 {
					return true
				}
				lit, ok = n.Args[1].(*ast.BasicLit)
			}
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: %s called with a computed key; write the key as a literal so this test sees it", fset.Position(n.Pos()), sel.Sel.Name)
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			used[key] = true
			if !c.Has(key) {
				t.Errorf("%s: key %q is not in messages/zh.toml", fset.Position(n.Pos()), key)
			}
		case *ast.BasicLit:
			if n.Kind == token.STRING && strings.ContainsFunc(n.Value, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Errorf("%s: Chinese text %s in Go code; put it in messages/", fset.Position(n.Pos()), n.Value)
			}
		}
		return true
	})
	if len(used) < 50 {
		t.Fatalf("found only %d keys; is the scan broken?", len(used))
	}
	var unused []string
	for _, key := range catalogKeys(t) {
		if !used[key] {
			unused = append(unused, key)
		}
	}
	if len(unused) > 0 {
		t.Errorf("catalogue keys no code uses: %v", unused)
	}
}

// catalogKeys lists the keys of zh.toml.
func catalogKeys(t *testing.T) []string {
	t.Helper()
	data, err := messages.ReadFile("messages/zh.toml")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if uq, err := strconv.Unquote(strings.TrimSpace(k)); err == nil {
			keys = append(keys, uq)
		} else {
			keys = append(keys, strings.TrimSpace(k))
		}
	}
	return keys
}
