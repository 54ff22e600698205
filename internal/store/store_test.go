package store

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallkiosk/hallkiosk/internal/testlog"
)

func open(t testing.TB, path string) *DB {
	t.Helper()
	d, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestOpenTwiceIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "kioskd.db")
	d := open(t, path)
	if got, want := d.SchemaVersion(), len(mustMigrations(t)); got != want {
		t.Errorf("SchemaVersion() = %d; want %d", got, want)
	}
	if d.Path() != path {
		t.Errorf("Path() = %q; want %q", d.Path(), path)
	}
	if moved, ok := d.Corrupt(); ok {
		t.Errorf("Corrupt() = %q, true on a new database", moved)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("parent directory = %v, %v; want mode 0700", fi.Mode(), err)
	}
	if err := d.Write(context.Background(), func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO meta(key, value) VALUES('node', 'hall-01')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close() = %v; want nil", err)
	}

	d2 := open(t, path)
	var n, applied int
	if err := d2.Read().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if err := d2.Read().QueryRow(`SELECT COUNT(*) FROM meta`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if applied != d2.SchemaVersion() || n != 1 {
		t.Errorf("after reopen: %d migration rows, %d meta rows; want %d and 1", applied, n, d2.SchemaVersion())
	}
}

func TestPragmasInForce(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "kioskd.db"))
	// The writer holds the durability settings; ask it inside a write transaction so the
	// answer comes from the one connection writes use.
	want := map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000",
		"wal_autocheckpoint": "4000"}
	check := func(when string) {
		t.Helper()
		err := d.Write(context.Background(), func(tx *Tx) error {
			for p, w := range want {
				var got string
				if err := tx.QueryRow("PRAGMA " + p).Scan(&got); err != nil {
					return err
				}
				if got != w {
					t.Errorf("writer PRAGMA %s %s = %q; want %q", p, when, got, w)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check("after Open")
	// A writer connection database/sql throws away (as Tx.rollback does when ROLLBACK
	// fails) is replaced by a new one, which must have the same settings.
	conn, err := d.w.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
	check("on a replaced connection")
	var mode string
	if err := d.Read().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("reader PRAGMA journal_mode = %q, %v; want wal", mode, err)
	}
	if _, err := d.Read().Exec(`INSERT INTO meta(key, value) VALUES('x', 'y')`); err == nil {
		t.Error("a write through Read() succeeded; want a read-only error")
	}
}

func TestReadersDoNotWaitForWriter(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "kioskd.db"))
	inTx, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- d.Write(context.Background(), func(tx *Tx) error {
			if _, err := tx.Exec(`INSERT INTO meta(key, value) VALUES('k', 'v')`); err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var n int
	err := d.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM meta`).Scan(&n)
	close(release)
	if err != nil || n != 0 {
		t.Errorf("read during an open write transaction = %d, %v; want 0 rows at once", n, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := d.Read().QueryRow(`SELECT COUNT(*) FROM meta`).Scan(&n); err != nil || n != 1 {
		t.Errorf("read after commit = %d, %v; want 1", n, err)
	}
}

func TestWriteRollsBackOnErrorAndPanic(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "kioskd.db"))
	errMine := errors.New("mine")
	insert := func(tx *Tx) {
		if _, err := tx.Exec(`INSERT INTO meta(key, value) VALUES('k', 'v')`); err != nil {
			t.Fatal(err)
		}
	}
	err := d.Write(context.Background(), func(tx *Tx) error { insert(tx); return errMine })
	if !errors.Is(err, errMine) {
		t.Errorf("Write(failing fn) = %v; want the fn's error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Write swallowed a panic")
			}
		}()
		d.Write(context.Background(), func(tx *Tx) error { insert(tx); panic("boom") })
	}()
	var n int
	if err := d.Read().QueryRow(`SELECT COUNT(*) FROM meta`).Scan(&n); err != nil || n != 0 {
		t.Errorf("rows after failed writes = %d, %v; want 0", n, err)
	}
	// The writer connection is usable after both.
	if err := d.Write(context.Background(), func(tx *Tx) error { insert(tx); return nil }); err != nil {
		t.Errorf("Write after rollback = %v", err)
	}
}

// TestWriteContext: a context cancelled during a write stops it before its next statement
// and rolls it back; one cancelled before Write never takes the writer.
func TestWriteContext(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "kioskd.db"))
	ctx, cancel := context.WithCancel(context.Background())
	err := d.Write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES('a', 'v')`); err != nil {
			return err
		}
		cancel()
		_, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES('b', 'v')`)
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Write cancelled halfway = %v; want context.Canceled", err)
	}
	if err := d.Write(ctx, func(*Tx) error { t.Error("fn ran under a cancelled context"); return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Write(cancelled) = %v; want context.Canceled", err)
	}
	var n int
	if err := d.Read().QueryRow(`SELECT COUNT(*) FROM meta`).Scan(&n); err != nil || n != 0 {
		t.Errorf("rows after the cancelled write = %d, %v; want 0", n, err)
	}
}

// TestFailedCommitRollsBack: a COMMIT that fails (here a deferred foreign key) leaves
// nothing behind and the writer usable.
func TestFailedCommitRollsBack(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "kioskd.db"))
	err := d.Write(context.Background(), func(tx *Tx) error {
		for _, q := range []string{
			`CREATE TABLE parent (id INTEGER PRIMARY KEY)`,
			`CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`,
		} {
			if _, err := tx.Exec(q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Write(context.Background(), func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO child(p) VALUES(42)`)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "commit") {
		t.Fatalf("Write breaking a deferred foreign key = %v; want a commit error", err)
	}
	err = d.Write(context.Background(), func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO parent(id) VALUES(1)`)
		return err
	})
	if err != nil {
		t.Fatalf("Write after a failed commit = %v", err)
	}
	var n int
	if err := d.Read().QueryRow(`SELECT COUNT(*) FROM child`).Scan(&n); err != nil || n != 0 {
		t.Errorf("child rows = %d, %v; want 0", n, err)
	}
}

// corruptCases each leave a damaged database file at path, from garbage to damage that
// only integrity_check sees.
var corruptCases = []struct {
	name string
	make func(t *testing.T, path string)
}{
	{"garbage", func(t *testing.T, path string) {
		garbage := []byte("this is not an SQLite database, it is a power cut's leftovers\x00\x01\x02")
		if err := os.WriteFile(path, bytes.Repeat(garbage, 100), 0o600); err != nil {
			t.Fatal(err)
		}
	}},
	{"short garbage", func(t *testing.T, path string) {
		if err := os.WriteFile(path, []byte("not sqlite\x00\x01\x02"), 0o600); err != nil {
			t.Fatal(err)
		}
	}},
	{"page overwritten", func(t *testing.T, path string) {
		d, err := Open(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Enough rows for a multi-page b-tree, so some page in the middle holds table data.
		err = d.Write(context.Background(), func(tx *Tx) error {
			for i := range 400 {
				if _, err := tx.Exec(`INSERT INTO device_events(at, component, state, code, message) VALUES(?, ?, ?, ?, ?)`,
					"2026-01-01T00:00:00.000+08:00", "idcard", "ok", "idcard.ready", strings.Repeat("x", 100)+fmt.Sprint(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); err != nil { // checkpoints the WAL into the file
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		if fi.Size() < 8*4096 {
			t.Fatalf("test database has only %d bytes", fi.Size())
		}
		// A page near the end: device_events data, well after the schema and root pages.
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5, 0x5A, 0x13, 0x37}, 1024), (fi.Size()/4096-3)*4096); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}},
	{"index disagrees with table", func(t *testing.T, path string) {
		// Every page stays well-formed, so SQLite opens and reads the file; only
		// integrity_check notices that one copy of a value was changed behind its back.
		d, err := Open(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = d.Write(context.Background(), func(tx *Tx) error {
			_, err := tx.Exec(`INSERT INTO device_events(at, component, state, code, message) VALUES(?, ?, ?, ?, ?)`,
				"2026-01-01T00:00:00.000+08:00", "zzmarker", "ok", "x", "y")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Count(b, []byte("zzmarker")) != 2 { // the table row and the index entry
			t.Fatalf("marker found %d times; want 2", bytes.Count(b, []byte("zzmarker")))
		}
		i := bytes.Index(b, []byte("zzmarker"))
		copy(b[i:], "zzmarkes")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}},
}

func TestCorruptFileIsMovedAside(t *testing.T) {
	for _, c := range corruptCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "kioskd.db")
			c.make(t, path)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var sink testlog.Sink
			d, err := Open(context.Background(), path, sink.Logger())
			if err != nil {
				t.Fatalf("Open(corrupt) = %v; want a fresh database", err)
			}
			defer d.Close()
			moved, ok := d.Corrupt()
			if !ok || !strings.HasPrefix(moved, path+".corrupt-") {
				t.Fatalf("Corrupt() = %q, %v; want %s.corrupt-..., true", moved, ok, path)
			}
			if got, err := os.ReadFile(moved); err != nil || !bytes.Equal(got, orig) {
				t.Errorf("moved-aside file differs from the original (%d bytes, %v; want %d bytes)", len(got), err, len(orig))
			}
			if matches, _ := filepath.Glob(path + ".corrupt-*"); len(matches) != 1 {
				t.Errorf("files moved aside = %v; want exactly the database", matches)
			}
			var line struct {
				Level, Msg, Path string
				MovedTo          string `json:"moved_to"`
			}
			for l := range bytes.Lines(sink.Bytes()) {
				if json.Unmarshal(l, &line) == nil && strings.Contains(line.Msg, "integrity") {
					break
				}
			}
			if line.Level != "ERROR" || line.Msg != "store: database failed integrity check; moved aside" || line.Path != path || line.MovedTo != moved {
				t.Errorf("log line = %+v; want ERROR with path and moved_to", line)
			}
			// The fresh database works.
			if err := d.Write(context.Background(), func(tx *Tx) error {
				_, _, err := AppendOutbox(tx, "s", "t", time.Now(), 1)
				return err
			}); err != nil {
				t.Errorf("write to the fresh database = %v", err)
			}
		})
	}
}

func TestMoveAsideNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kioskd.db")
	at := time.Date(2026, 3, 1, 8, 30, 0, 0, time.FixedZone("CST", 8*3600))
	var got []string
	for i := range 3 {
		body := fmt.Sprintf("corrupt %d", i)
		os.WriteFile(path, []byte(body), 0o600)
		os.WriteFile(path+"-wal", []byte(body+" wal"), 0o600)
		moved, err := moveAside(path, at)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(moved); string(b) != body {
			t.Errorf("moveAside #%d: %s holds %q; want %q", i, moved, b, body)
		}
		if b, _ := os.ReadFile(moved + "-wal"); string(b) != body+" wal" {
			t.Errorf("moveAside #%d: %s-wal holds %q; want the WAL moved with it", i, moved, b)
		}
		got = append(got, filepath.Base(moved))
	}
	want := []string{"kioskd.db.corrupt-20260301T003000Z", "kioskd.db.corrupt-20260301T003000Z.2", "kioskd.db.corrupt-20260301T003000Z.3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("moveAside names = %v; want %v", got, want)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("original still at %s: %v", path, err)
	}
}

func TestNewerSchemaIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kioskd.db")
	d := open(t, path)
	known := d.SchemaVersion()
	if err := d.Write(context.Background(), func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO schema_migrations(version, applied_at) VALUES(?, ?)`, known+6, FormatTime(time.Now()))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	_, err := Open(context.Background(), path, nil)
	if err == nil {
		t.Fatal("Open(newer database) succeeded; want an error")
	}
	for _, w := range []string{fmt.Sprint(known + 6), fmt.Sprintf("the %d this kioskd knows", known), "store:"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Open(newer database) = %q; want it to contain %q", err, w)
		}
	}
	// The file is untouched and not moved aside.
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 0 {
		t.Errorf("a newer database was moved aside: %v", m)
	}
}

func TestOpenRejectsNonPaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if d, err := Open(context.Background(), p, nil); err == nil {
			d.Close()
			t.Errorf("Open(%q) = nil error; want one", p)
		}
	}
}

func TestPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a?b#c%41", "kioskd.db")
	d := open(t, path)
	d.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not created at %q: %v", path, err)
	}
}

func TestConcurrentWritersAreSerialised(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kioskd.db")
	d := open(t, path)
	other := open(t, path) // a second handle, as kioskctl next to kioskd would have
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*each)
	for w := range 2 * workers {
		db := d
		if w%2 == 1 {
			db = other
		}
		wg.Go(func() {
			for i := range each {
				err := db.Write(context.Background(), func(tx *Tx) error {
					_, _, err := AppendOutbox(tx, "queue", "ticket.issued", time.Now(), map[string]int{"w": w, "i": i})
					return err
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Write = %v", err)
	}
	var n, maxSeq, distinct int
	if err := d.Read().QueryRow(`SELECT COUNT(*), MAX(seq), COUNT(DISTINCT seq) FROM outbox WHERE stream = 'queue'`).Scan(&n, &maxSeq, &distinct); err != nil {
		t.Fatal(err)
	}
	if want := 2 * workers * each; n != want || maxSeq != want || distinct != want {
		t.Errorf("outbox after concurrent writes: %d rows, max seq %d, %d distinct; want %d each", n, maxSeq, distinct, want)
	}
}

func TestTimeFormat(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	in := time.Date(2026, 3, 1, 8, 30, 5, 123456789, cst)
	s := FormatTime(in)
	if s != "2026-03-01T08:30:05.123+08:00" {
		t.Errorf("FormatTime(%v) = %q; want 2026-03-01T08:30:05.123+08:00", in, s)
	}
	if got, err := ParseTime(s); err != nil || !got.Equal(in.Truncate(time.Millisecond)) {
		t.Errorf("ParseTime(%q) = %v, %v; want %v", s, got, err, in.Truncate(time.Millisecond))
	}
	if s := FormatTime(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); s != "2026-03-01T00:00:00.000Z" {
		t.Errorf("FormatTime(UTC midnight) = %q; want 2026-03-01T00:00:00.000Z", s)
	}
}

func mustMigrations(t *testing.T) []migration {
	t.Helper()
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestFilesAreOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kioskd.db")
	d := open(t, path)
	if err := d.Write(context.Background(), func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO meta(key, value) VALUES('k', 'v')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %v; want 0600", filepath.Base(f), m)
		}
	}
}
