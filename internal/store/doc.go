// Package store owns the node's one SQLite file: durable pragmas, a single writer, a read-only pool, embedded migrations, an integrity check at start, and the outbox.
package store
