package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedMigrationsAreNumberedWithoutGaps(t *testing.T) {
	ms := mustMigrations(t)
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %s has version %d; want %d", m.name, m.version, i+1)
		}
	}
}

func TestLoadMigrationsRejects(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("CREATE TABLE t (x);")}
	cases := []struct {
		name  string
		files []string
		want  string
	}{
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, "0003_c.sql: version 3 where 0002 was expected"},
		{"repeat", []string{"0001_a.sql", "0001_b.sql"}, "0001_b.sql: version 1 where 0002 was expected"},
		{"not from one", []string{"0002_b.sql"}, "where 0001 was expected"},
		{"short number", []string{"1_init.sql"}, "1_init.sql: name must be NNNN_name.sql"},
		{"upper case", []string{"0001_Init.sql"}, "name must be NNNN_name.sql"},
		{"other file", []string{"0001_a.sql", "README.md"}, "README.md: name must be"},
		{"empty", nil, "no migrations"},
	}
	for _, c := range cases {
		fsys := fstest.MapFS{"migrations": &fstest.MapFile{Mode: 0o755 | 1<<31}}
		for _, f := range c.files {
			fsys["migrations/"+f] = file
		}
		_, err := loadMigrations(fsys)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("loadMigrations(%s %q) = %v; want an error containing %q", c.name, c.files, err, c.want)
		}
	}
}
