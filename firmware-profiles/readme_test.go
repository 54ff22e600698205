package profiles

import (
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// tomlKeys returns the TOML keys of struct type t that hold values, and those that name
// nested tables ([transport], [[usb]]...).
func tomlKeys(t reflect.Type) (keys, tables []string) {
	for i := range t.NumField() {
		f := t.Field(i)
		k, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		switch {
		case k == "" || k == "-":
		case f.Type.Kind() == reflect.Struct || f.Type.Kind() == reflect.Slice:
			tables = append(tables, k)
		default:
			keys = append(keys, k)
		}
	}
	return keys, tables
}

// codeBlock returns the body of the first fenced block after heading in md.
func codeBlock(t *testing.T, md, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(md, heading)
	if !ok {
		t.Fatalf("README.md has no %q", heading)
	}
	_, rest, _ = strings.Cut(rest, "```toml\n")
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatalf("README.md: no toml block under %q", heading)
	}
	return block
}

// The README documents every key the decoder reads, every quirk of every driver, and
// every profile file, so a technician writing a profile finds them all in one place.
func TestReadmeDocumentsSchema(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	documented := func(block string, keys []string, what string) {
		for _, k := range keys {
			if !regexp.MustCompile(`(?m)^(# )?` + regexp.QuoteMeta(k) + ` = `).MatchString(block) {
				t.Errorf("README.md %s does not document key %q", what, k)
			}
		}
	}
	schema := codeBlock(t, md, "## Schema")
	for _, typ := range []any{Profile{}, Transport{}, USBID{}, Timing{}, Quirks{}, Firmware{}} {
		keys, tables := tomlKeys(reflect.TypeOf(typ))
		documented(schema, keys, "schema")
		for _, k := range tables {
			if !strings.Contains(schema, "["+k+"]") {
				t.Errorf("README.md schema has no [%s] table", k)
			}
		}
	}
	overrides, _ := tomlKeys(reflect.TypeOf(Overrides{}))
	documented(codeBlock(t, md, "## Overrides"), overrides, "overrides")

	names, _ := fs.Glob(embedded, "*.toml")
	for _, n := range names {
		if !strings.Contains(md, "`"+n+"`") {
			t.Errorf("README.md's table does not list %s", n)
		}
	}
}
