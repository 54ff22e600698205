package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
)

// Tx is one DB.Write transaction on the writer connection. It has the query methods of
// *sql.Tx, but its statements run under no context: a statement that started finishes, and
// a cancelled context only stops the transaction before its next statement (the error is
// the context's, and Write rolls back).
//
// Why not *sql.Tx: database/sql starts a goroutine for every transaction and for every
// query on one, and go-sqlite3 runs each statement under a cancellable context on a
// goroutine of its own. A queue operation of eight statements paid a dozen goroutine
// hand-offs between the two cores; dropping them alone took queue's BenchmarkIssue from
// p50 0.28-0.33 ms and p99 2.0x a bare commit's to p50 0.24 ms and p99 1.5x in that run.
type Tx struct {
	conn *sql.Conn
	seqs txSeqs // outbox seqs this transaction took (outbox.go)
}

// bg is the context statements run under: never done, so the driver runs them in place.
var bg = context.Background()

func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return tx.conn.ExecContext(bg, query, args...)
}

func (tx *Tx) Exec(query string, args ...any) (sql.Result, error) {
	return tx.conn.ExecContext(bg, query, args...)
}

func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return tx.conn.QueryContext(bg, query, args...)
}

func (tx *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	return tx.conn.QueryContext(bg, query, args...)
}

// QueryRowContext is QueryRow; a cancelled ctx shows as the Row's error.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if ctx.Err() != nil {
		// A Row carries its error only from a query; one that needs no database does.
		return tx.conn.QueryRowContext(ctx, query, args...)
	}
	return tx.conn.QueryRowContext(bg, query, args...)
}

func (tx *Tx) QueryRow(query string, args ...any) *sql.Row {
	return tx.conn.QueryRowContext(bg, query, args...)
}

// Prepare prepares a statement for this transaction; close it before the transaction ends.
func (tx *Tx) Prepare(query string) (*sql.Stmt, error) {
	return tx.conn.PrepareContext(bg, query)
}

// begin takes the writer connection (waiting at most as long as ctx allows) and starts an
// immediate transaction on it, so the write lock is held from the first statement.
func (d *DB) begin(ctx context.Context) (*Tx, error) {
	conn, err := d.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(bg, "BEGIN IMMEDIATE"); err != nil {
		conn.Close()
		return nil, err
	}
	return &Tx{conn: conn, seqs: txSeqs{c: &d.seqs}}, nil
}

// commit ends tx with COMMIT and hands the connection back. A failed COMMIT is rolled
// back, so the connection never goes back with a transaction open.
func (tx *Tx) commit() error {
	_, err := tx.conn.ExecContext(bg, "COMMIT")
	if err != nil {
		tx.rollback()
		return err
	}
	return tx.conn.Close()
}

// rollback ends tx with ROLLBACK and hands the connection back. SQLite has already rolled
// back after some errors (a full disk, an I/O error); a connection whose rollback fails
// otherwise is discarded, not reused with a transaction open.
func (tx *Tx) rollback() {
	_, err := tx.conn.ExecContext(bg, "ROLLBACK")
	if err != nil && !strings.Contains(err.Error(), "no transaction is active") {
		tx.conn.Raw(func(any) error { return driver.ErrBadConn }) // discards it
	}
	tx.conn.Close()
}
