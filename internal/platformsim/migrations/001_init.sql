-- The platform's own store. Tokens and enrolment codes are kept as sha256 only; ID numbers
-- only as a keyed hash.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE enrol_codes (
    code_hash  TEXT PRIMARY KEY,
    hall       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at    TEXT,
    used_by    TEXT
);
CREATE TABLE nodes (
    node        TEXT PRIMARY KEY,
    hall        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    enrolled_at TEXT NOT NULL,
    inventory   TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    node        TEXT NOT NULL,
    stream      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    type        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    data        TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX events_node_stream ON events (node, stream);
CREATE TABLE streams (
    node         TEXT NOT NULL,
    stream       TEXT NOT NULL,
    accepted     INTEGER NOT NULL DEFAULT 0,
    duplicate    INTEGER NOT NULL DEFAULT 0,
    rejected     INTEGER NOT NULL DEFAULT 0,
    last_seq     INTEGER NOT NULL DEFAULT 0,
    out_of_order INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (node, stream)
);
CREATE TABLE batches (
    node      TEXT PRIMARY KEY,
    batches   INTEGER NOT NULL DEFAULT 0,
    max_batch INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE configs (node TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE catalog (k INTEGER PRIMARY KEY CHECK (k = 1), body BLOB NOT NULL);
CREATE TABLE pickups (
    pickup_id     TEXT PRIMARY KEY,
    node          TEXT NOT NULL,
    id_hash       TEXT NOT NULL,
    holder_masked TEXT NOT NULL,
    title         TEXT NOT NULL,
    pages         INTEGER NOT NULL,
    copies        INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    pdf           BLOB NOT NULL
);
CREATE TABLE appointments (
    appointment_id TEXT PRIMARY KEY,
    node           TEXT NOT NULL,
    code           TEXT NOT NULL,
    category       TEXT NOT NULL,
    slot_start     TEXT NOT NULL,
    slot_end       TEXT NOT NULL,
    id_hash        TEXT NOT NULL,
    holder_masked  TEXT NOT NULL,
    status         TEXT NOT NULL
);
CREATE TABLE cases (
    case_no     TEXT PRIMARY KEY,
    id_key      TEXT NOT NULL,
    item_name   TEXT NOT NULL,
    status      TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    finished_at TEXT,
    steps       TEXT NOT NULL
);
CREATE INDEX cases_id_key ON cases (id_key);
CREATE TABLE materials (
    node        TEXT NOT NULL,
    idem_key    TEXT NOT NULL,
    material_id TEXT NOT NULL,
    local_ref   TEXT NOT NULL,
    name        TEXT NOT NULL,
    pages       INTEGER NOT NULL,
    files       INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (node, idem_key)
);
