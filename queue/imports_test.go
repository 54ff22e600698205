package queue

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestImports enforces ARCHITECTURE.md: queue imports nothing from devices, kiosk or ui.
func TestImports(t *testing.T) {
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/hallkiosk/hallkiosk/"
	for _, fi := range files {
		if !strings.HasSuffix(fi.Name(), ".go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), fi.Name(), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			for _, banned := range []string{"devices", "kiosk", "ui", "web"} {
				if p == mod+banned || strings.HasPrefix(p, mod+banned+"/") {
					t.Errorf("%s imports %s; queue must not depend on %s", fi.Name(), p, banned)
				}
			}
		}
	}
}
