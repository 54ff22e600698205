package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
)

// migrationFiles are the schema steps, applied in order and never edited once released:
// a change to the schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string // file name, for logs and errors
	sql     string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$`)

// loadMigrations reads migrations/NNNN_name.sql from fsys. Versions must run 0001, 0002, ...
// without gaps or repeats, so that "version N" names exactly one schema on every node.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries { // sorted by name, so by version
		name := e.Name()
		m := migrationName.FindStringSubmatch(name)
		if e.IsDir() || m == nil {
			return nil, fmt.Errorf("store: migrations/%s: name must be NNNN_name.sql (four digits, then lowercase words joined by '_')", name)
		}
		v, _ := strconv.Atoi(m[1])
		if want := len(ms) + 1; v != want {
			return nil, fmt.Errorf("store: migrations/%s: version %d where %04d was expected; number migrations 0001, 0002, ... without gaps or repeats", name, v, want)
		}
		b, err := fs.ReadFile(fsys, "migrations/"+name)
		if err != nil {
			return nil, fmt.Errorf("store: migrations/%s: %w", name, err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("store: no migrations found")
	}
	return ms, nil
}

// migrate brings the schema to the last of ms. Each migration commits together with its
// schema_migrations row, so a power cut leaves the database at a whole version. The version
// is re-read inside each transaction: another process on the same file may have migrated it
// meanwhile.
func (d *DB) migrate(ctx context.Context, ms []migration) error {
	err := d.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at TEXT NOT NULL
		) STRICT`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: creating schema_migrations: %w", err)
	}
	cur, err := d.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if known := len(ms); cur > known {
		return fmt.Errorf("store: %s is at schema version %d, newer than the %d this kioskd knows: run a kioskd at least as new as the one that wrote it", d.path, cur, known)
	}
	for _, m := range ms[cur:] {
		applied := false
		err := d.Write(ctx, func(tx *Tx) error {
			var v int
			if err := tx.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
				return err
			}
			if v >= m.version {
				return nil
			}
			if _, err := tx.Exec(m.sql); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO schema_migrations(version, applied_at) VALUES(?, ?)`, m.version, FormatTime(now())); err != nil {
				return err
			}
			applied = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if applied {
			d.log.Info("store: applied migration", "path", d.path, "version", m.version, "file", m.name)
		}
	}
	d.version, err = d.schemaVersion(ctx)
	return err
}

func (d *DB) schemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := d.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: reading schema version: %w", err)
	}
	return v, nil
}
