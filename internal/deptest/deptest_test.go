// Package deptest enforces the layering rules of ARCHITECTURE.md by reading imports.
package deptest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/hallkiosk/hallkiosk"

// forbidden maps a package tree to the trees it must not import.
var forbidden = map[string][]string{
	"devices":           {"queue", "kiosk", "ui", "cmd", "web"},
	"queue":             {"devices", "kiosk", "ui", "cmd", "web"},
	"ui":                {"devices", "queue", "kiosk", "cmd", "web"},
	"kiosk":             {"cmd"},
	"web":               {"cmd"},
	"internal":          {"cmd", "devices", "queue", "kiosk", "ui", "web"},
	"firmware-profiles": {"cmd", "devices", "queue", "kiosk", "ui", "web"},
}

func under(path, tree string) bool { return path == tree || strings.HasPrefix(path, tree+"/") }

func TestLayering(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n != "." && (strings.HasPrefix(n, ".") || n == "testdata" || n == "var" || n == "bin") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module+"/") {
				continue
			}
			target := strings.TrimPrefix(p, module+"/")
			for tree, bans := range forbidden {
				if !under(rel, tree) {
					continue
				}
				for _, ban := range bans {
					if under(target, ban) {
						t.Errorf("%s imports %s: %s/ must not depend on %s/", filepath.Join(rel, filepath.Base(path)), p, tree, ban)
					}
				}
			}
			if under(target, "cmd") {
				t.Errorf("%s imports %s: nothing imports a command", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("checked only %d files; is the walk rooted at the module?", checked)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("root %s has no go.mod", root)
	}
}
