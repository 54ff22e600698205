package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// TimeLayout is how the store writes times: RFC 3339 with milliseconds and the offset, so a
// value read back is unambiguous without knowing which zone wrote it.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime formats t with TimeLayout.
func FormatTime(t time.Time) string { return t.Format(TimeLayout) }

// ParseTime parses a time written by FormatTime (any number of fraction digits is accepted,
// so rows written with time.RFC3339Nano read back too).
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: %w", err)
	}
	return t, nil
}

// now is the store's clock for created_at columns and the moved-aside file name. The
// signatures of Open and AppendOutbox take no clock; tests replace this.
var now = time.Now

// DSN parameters (mattn/go-sqlite3 keys). The writer sets WAL and synchronous=FULL so a
// committed transaction survives a power cut; _synchronous must come with _journal_mode
// because the driver lowers synchronous to NORMAL when it sees WAL alone. _txlock=immediate
// takes the write lock at BEGIN, so two writers queue on busy_timeout instead of one failing
// with SQLITE_BUSY when it upgrades a read lock. Readers open the file read-only: they
// cannot write by mistake, and in WAL mode they never wait for the writer.
// _stmt_cache_size keeps prepared statements per connection: the queue's operations run the
// same few statements every time, and preparing them anew cost a fifth of an issue's CPU.
const (
	writerParams = "_journal_mode=WAL&_synchronous=FULL&_busy_timeout=5000&_txlock=immediate&_foreign_keys=on&_stmt_cache_size=64"
	readerParams = "mode=ro&_busy_timeout=5000&_foreign_keys=on&_stmt_cache_size=64"
	readers      = 4
)

// DB is the node's SQLite database: one writer connection and a read-only pool.
type DB struct {
	path    string
	log     *slog.Logger
	w       *sql.DB // exactly one connection: every write goes through Write
	r       *sql.DB
	movedTo string
	version int
	seqs    seqCache      // the next outbox seq per stream (outbox.go)
	added   chan struct{} // OutboxAdded
	claims  sync.Map      // Claim: name -> struct{}
}

// Claim reserves name on this handle for one user, and fails if it is taken. A component
// that keeps copies of its tables in memory claims the handle: a second instance on the
// same handle would write through the same connection, and nothing (not even PRAGMA
// data_version, which counts other connections' commits) would tell the first.
func (d *DB) Claim(name string) error {
	if _, taken := d.claims.LoadOrStore(name, struct{}{}); taken {
		return fmt.Errorf("store: %s is already in use on %s: one per database handle", name, d.path)
	}
	return nil
}

// Open opens (or creates) the database at path, checks its integrity and applies pending
// migrations. A file that is not a database or fails PRAGMA integrity_check is moved aside
// with its -wal and -shm, never deleted, and a fresh database is started: Corrupt reports
// it. A database written by a newer binary (a higher schema version) is an error.
func Open(ctx context.Context, path string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: %q is not a file path: give the database file's path, e.g. /var/lib/hallkiosk/kioskd.db", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	keepHeap()
	d := &DB{path: path, log: log, added: make(chan struct{}, 1)}
	if err := d.open(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *DB) open(ctx context.Context) error {
	w, problem, err := openWriter(ctx, d.path)
	if err != nil {
		return err
	}
	if problem != "" {
		moved, err := moveAside(d.path, now())
		if err != nil {
			return fmt.Errorf("store: %s failed its integrity check (%s) and could not be moved aside: %w", d.path, problem, err)
		}
		d.movedTo = moved
		d.log.Error("store: database failed integrity check; moved aside", "path", d.path, "moved_to", moved, "problem", problem)
		if w, problem, err = openWriter(ctx, d.path); err != nil {
			return err
		}
		if problem != "" {
			return fmt.Errorf("store: the fresh database %s fails its integrity check too (%s): check the disk", d.path, problem)
		}
	}
	d.w = w
	// The queue's rows are personal data (ID hashes, masked names): owner only, like the
	// key files. SQLite gives the -wal and -shm it makes later the database file's mode.
	for _, f := range []string{d.path, d.path + "-wal", d.path + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("store: %w", err)
		}
	}

	r, err := sql.Open("sqlite3", dsn(d.path, readerParams))
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	d.r = r
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		return fmt.Errorf("store: opening read-only connection to %s: %w", d.path, err)
	}

	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		return err
	}
	return d.migrate(ctx, ms)
}

// writerDriver is go-sqlite3 with the writer's per-connection settings applied to every
// connection it opens, so a writer connection that database/sql replaces (after a failed
// rollback, say) has them too.
const writerDriver = "sqlite3_hallkiosk_writer"

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// SQLite checkpoints inside the commit that takes the WAL past this many pages. A
		// queue operation dirties about ten pages, so at the default 1,000 every hundredth
		// operation paid a checkpoint: its 99th percentile (issue p99 3.1x a bare commit's,
		// 2.2x at 4,000). 4,000 pages keep the WAL under 16 MB. (A background checkpointer
		// was tried: its fsyncs competing with commits made every commit slower, bare ones
		// included.)
		_, err := c.Exec("PRAGMA wal_autocheckpoint=4000", nil)
		if err != nil && isCorruption(err) {
			return nil // integrityCheck reports the damage
		}
		return err
	}})
}

// openWriter opens the single writer connection and runs the integrity check on it. A
// non-empty problem means the file is damaged; the handle is then already closed.
func openWriter(ctx context.Context, path string) (w *sql.DB, problem string, err error) {
	w, err = sql.Open(writerDriver, dsn(path, writerParams))
	if err != nil {
		return nil, "", fmt.Errorf("store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	problem, err = integrityCheck(ctx, w)
	if err != nil || problem != "" {
		w.Close()
		return nil, problem, err
	}
	return w, "", nil
}

// integrityCheck runs PRAGMA integrity_check. A damaged file shows either as rows other
// than "ok" or as SQLITE_NOTADB/SQLITE_CORRUPT already when the connection sets its
// pragmas; both are a problem, any other error (permissions, a full disk) is returned as
// an error so that a healthy file is never moved aside.
func integrityCheck(ctx context.Context, db *sql.DB) (problem string, err error) {
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		if isCorruption(err) {
			return err.Error(), nil
		}
		return "", fmt.Errorf("store: integrity check: %w", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", fmt.Errorf("store: integrity check: %w", err)
		}
		msgs = append(msgs, s)
	}
	if err := rows.Err(); err != nil {
		if isCorruption(err) {
			return err.Error(), nil
		}
		return "", fmt.Errorf("store: integrity check: %w", err)
	}
	switch {
	case len(msgs) == 1 && msgs[0] == "ok":
		return "", nil
	case len(msgs) == 0:
		return "integrity_check returned no rows", nil
	case len(msgs) > 3:
		msgs = append(msgs[:3], fmt.Sprintf("and %d more", len(msgs)-3))
	}
	return strings.Join(msgs, "; "), nil
}

func isCorruption(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrNotADB || se.Code == sqlite3.ErrCorrupt)
}

// sidecars are the files SQLite keeps next to a database. They belong to it: a fresh
// database must not find an old WAL or hot journal beside it, or SQLite would replay it.
var sidecars = []string{"-wal", "-shm", "-journal"}

// moveAside renames path and its sidecars to path.corrupt-YYYYMMDDTHHMMSSZ[-wal|-shm]. It
// never overwrites: if that name is taken, a counter is appended. The sidecars go first so
// that a failure half way never leaves an old WAL next to a new database.
func moveAside(path string, t time.Time) (string, error) {
	base := path + ".corrupt-" + t.UTC().Format("20060102T150405Z")
	dst := base
	for i := 2; taken(dst); i++ {
		dst = fmt.Sprintf("%s.%d", base, i)
	}
	for _, s := range sidecars {
		if err := os.Rename(path+s, dst+s); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	if err := os.Rename(path, dst); err != nil {
		return "", err
	}
	syncDir(filepath.Dir(path))
	return dst, nil
}

func taken(name string) bool {
	for _, s := range append([]string{""}, sidecars...) {
		if _, err := os.Lstat(name + s); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// syncDir makes the renames durable; best effort, as a failure here changes nothing the
// caller could act on.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// dsn builds a file: URI. SQLite decodes %HH in the path, and the driver splits the
// parameters at the first '?', so those characters are escaped.
func dsn(path, params string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(path) + "?" + params
}

// Write runs fn in one immediate transaction on the writer connection and commits it if fn
// returns nil. Writers queue for the one connection, so they never fail with SQLITE_BUSY
// against each other. fn's own error is returned unchanged (after the rollback), so
// callers can match their sentinel errors; a panic in fn rolls back and is re-raised.
func (d *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	if d == nil || d.w == nil {
		return errors.New("store: database is closed")
	}
	tx, err := d.begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.commit(); err != nil {
		d.seqs.forget()  // committed or not, the database knows
		committed = true // commit has already rolled back
		return fmt.Errorf("store: commit: %w", err)
	}
	committed = true
	if tx.seqs.commit() {
		select {
		case d.added <- struct{}{}:
		default: // a signal is already waiting: the receiver reads everything new
		}
	}
	return nil
}

// OutboxAdded receives after a Write that appended outbox events has committed, so the
// uplink sends them at once instead of at its next poll. Signals are coalesced (several
// commits may give one), and only one receiver should take them.
func (d *DB) OutboxAdded() <-chan struct{} { return d.added }

// Read returns the read-only connection pool. Queries on it see the last committed state
// and do not wait for a running write transaction; writes through it fail.
func (d *DB) Read() *sql.DB { return d.r }

// Path is the database file's path as given to Open.
func (d *DB) Path() string { return d.path }

// SchemaVersion is the migration version the database is at.
func (d *DB) SchemaVersion() int { return d.version }

// Corrupt reports whether Open found the file damaged and where it moved it.
func (d *DB) Corrupt() (movedTo string, ok bool) { return d.movedTo, d.movedTo != "" }

// Close closes both connection pools. It is safe after a failed or partial Open and when
// called twice. Closing the writer last lets SQLite checkpoint the WAL into the main file.
func (d *DB) Close() error {
	if d == nil {
		return nil
	}
	var errs []error
	if d.r != nil {
		errs = append(errs, d.r.Close())
		d.r = nil
	}
	if d.w != nil {
		errs = append(errs, d.w.Close())
		d.w = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}
