package hall

import (
	"go/ast"
	"go/token"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hallkiosk/hallkiosk/internal/gosrc"
)

// TestAPIDocCoversEverything keeps API.md from drifting again: every route the handler
// registers, every window operation, and every status and error code a handler can write
// must appear in it. Routes and codes are read from this package's source, so a new
// writeError(w, http.StatusX, "code", ...) or mux.HandleFunc fails here until documented.
func TestAPIDocCoversEverything(t *testing.T) {
	b, err := os.ReadFile("API.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	routes, codes := scanSource(t)
	if len(routes) < 10 {
		t.Fatalf("found only %d routes in the source: %v; has Handler changed shape?", len(routes), routes)
	}
	for _, r := range routes { // (catchAll, the answer to everything else, is not among them)
		if !strings.Contains(doc, "`"+r+"`") && !strings.Contains(doc, "`"+r+"?") {
			t.Errorf("API.md does not document the route %q (write it as `%s`)", r, r)
		}
	}
	for op := range opEvents {
		if !strings.Contains(doc, "| `"+op+"` |") {
			t.Errorf("API.md's table of window operations has no row for %q", op)
		}
	}
	for _, m := range errorCodes {
		codes = append(codes, strconv.Itoa(m.status)+" "+m.code)
	}
	if len(codes) < 15 {
		t.Fatalf("found only %d error codes in the source: %v", len(codes), codes)
	}
	for _, c := range codes {
		if !strings.Contains(doc, "`"+c+"`") {
			t.Errorf("API.md does not document the error `%s`", c)
		}
	}
}

// statusNames are the net/http constants handlers may use. A handler using another must
// add it here, and document it.
var statusNames = map[string]int{
	"StatusBadRequest": http.StatusBadRequest, "StatusUnauthorized": http.StatusUnauthorized,
	"StatusForbidden": http.StatusForbidden, "StatusNotFound": http.StatusNotFound,
	"StatusMethodNotAllowed": http.StatusMethodNotAllowed, "StatusConflict": http.StatusConflict,
	"StatusInternalServerError": http.StatusInternalServerError,
	"StatusServiceUnavailable":  http.StatusServiceUnavailable,
}

// scanSource returns the patterns of mux.HandleFunc and mux.Handle calls and the
// "status code" of every writeError call with a literal code in the package's non-test files.
func scanSource(t *testing.T) (routes, codes []string) {
	gosrc.Inspect(t, ".", func(fset *token.FileSet, n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch fn := call.Fun.(type) {
		case *ast.SelectorExpr:
			if (fn.Sel.Name == "HandleFunc" || fn.Sel.Name == "Handle") && len(call.Args) == 2 {
				if p, ok := stringValue(call.Args[0]); ok {
					routes = append(routes, p)
				} else if id, ok := call.Args[0].(*ast.Ident); !ok || id.Name != "catchAll" {
					t.Errorf("%s: a route whose pattern is not a literal: the test cannot check it", fset.Position(call.Pos()))
				}
			}
		case *ast.Ident:
			if fn.Name != "writeError" || len(call.Args) != 4 {
				return true
			}
			code, ok := stringValue(call.Args[2])
			if !ok {
				return true // queueError's table, checked from errorCodes itself
			}
			sel, ok := call.Args[1].(*ast.SelectorExpr)
			status, known := 0, false
			if ok {
				status, known = statusNames[sel.Sel.Name]
			}
			if !known {
				t.Errorf("%s: writeError with a status the test does not know: add it to statusNames", fset.Position(call.Pos()))
				return true
			}
			codes = append(codes, strconv.Itoa(status)+" "+code)
		}
		return true
	})
	slices.Sort(codes)
	return routes, slices.Compact(codes)
}

func stringValue(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}
