// Package gosrc reads a package's own Go source, for tests that hold code to its documents
// and catalogues (every route documented, every message key in the catalogue).
package gosrc

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Inspect parses the non-test .go files in dir and walks each as ast.Inspect does; fset
// gives positions for error messages.
func Inspect(t testing.TB, dir string, fn func(fset *token.FileSet, n ast.Node) bool) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("gosrc: no Go files in %s", dir)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool { return fn(fset, n) })
	}
}
