-- 0001: the tables every node has. STRICT makes SQLite reject a value of the wrong type
-- (a Go string into the JSON BLOB, a number into a time column) instead of storing it.

-- Small node-level facts (enrolment, key ids, last sync marks).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Events waiting for the central platform, written in the same transaction as the business
-- rows they describe. Rows are deleted once the platform acknowledges them; seq keeps counting
-- in outbox_streams so a number is never reused within a stream.
CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,     -- UUIDv7, time-ordered
    stream      TEXT NOT NULL,
    seq         INTEGER NOT NULL,     -- 1, 2, 3... per stream, no gaps at write time
    type        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,        -- RFC 3339 with milliseconds and offset
    data        BLOB NOT NULL,        -- JSON
    created_at  TEXT NOT NULL,
    UNIQUE (stream, seq)
) STRICT;

CREATE TABLE outbox_streams (
    stream   TEXT PRIMARY KEY,
    next_seq INTEGER NOT NULL
) STRICT;

-- Health transitions of devices and loops, for the technician's history.
CREATE TABLE device_events (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    component TEXT NOT NULL,
    state     TEXT NOT NULL,
    code      TEXT NOT NULL,
    message   TEXT NOT NULL
) STRICT;

CREATE INDEX device_events_component_at ON device_events (component, at);
