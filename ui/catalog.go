package ui

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Catalog holds the translated messages of every language: one flat TOML file per language
// (zh.toml, en.toml), key = "text", where text may hold fmt verbs (%s, %d, %[1]s).
type Catalog struct {
	langs map[string]map[string]string
	def   string
}

// DefaultLang is the language a kiosk starts in.
const DefaultLang = "zh"

// LoadCatalog reads every *.toml file in dir of fsys; the file name is the language.
func LoadCatalog(fsys fs.FS, dir string) (*Catalog, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.toml"))
	if err != nil {
		return nil, fmt.Errorf("ui: catalogue: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("ui: catalogue: no *.toml files in %s", dir)
	}
	c := &Catalog{langs: map[string]map[string]string{}, def: DefaultLang}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("ui: catalogue: %w", err)
		}
		m := map[string]string{}
		if err := toml.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("ui: catalogue %s: %w", f, err)
		}
		c.langs[strings.TrimSuffix(path.Base(f), ".toml")] = m
	}
	if _, ok := c.langs[c.def]; !ok {
		return nil, fmt.Errorf("ui: catalogue: no %s.toml in %s", c.def, dir)
	}
	return c, nil
}

// Langs lists the catalogue's languages, default first.
func (c *Catalog) Langs() []string {
	out := []string{c.def}
	for l := range c.langs {
		if l != c.def {
			out = append(out, l)
		}
	}
	slices.Sort(out[1:])
	return out
}

// Has reports whether key exists in the default language.
func (c *Catalog) Has(key string) bool {
	_, ok := c.langs[c.def][key]
	return ok
}

// T returns the message key in lang, formatted with args; it falls back to the default
// language, and a missing key comes back as "⟦key⟧" so it shows up on screen and in goldens.
func (c *Catalog) T(lang, key string, args ...any) string {
	s, ok := c.langs[lang][key]
	if !ok {
		s, ok = c.langs[c.def][key]
	}
	if !ok {
		return "⟦" + key + "⟧"
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

var verb = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// Check reports keys missing from a language and messages whose fmt verbs differ between
// languages (which would print %!d(MISSING) to a citizen).
func (c *Catalog) Check() error {
	var probs []string
	base := c.langs[c.def]
	for _, l := range c.Langs()[1:] {
		m := c.langs[l]
		for k, v := range base {
			tv, ok := m[k]
			if !ok {
				probs = append(probs, fmt.Sprintf("%s: missing %q", l, k))
				continue
			}
			a, b := verbs(v), verbs(tv)
			if !slices.Equal(a, b) {
				probs = append(probs, fmt.Sprintf("%s: %q has verbs %v, %s has %v", l, k, b, c.def, a))
			}
		}
		for k := range m {
			if _, ok := base[k]; !ok {
				probs = append(probs, fmt.Sprintf("%s: %q is not in %s", l, k, c.def))
			}
		}
	}
	if len(probs) > 0 {
		slices.Sort(probs)
		return fmt.Errorf("ui: catalogue: %s", strings.Join(probs, "; "))
	}
	return nil
}

func verbs(s string) []string {
	vs := verb.FindAllString(s, -1)
	vs = slices.DeleteFunc(vs, func(v string) bool { return v == "%%" })
	slices.Sort(vs)
	return vs
}
