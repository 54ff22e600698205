-- 0005: what the node pulls from the platform (kiosk/uplink pull_*.go) and the scanned
-- materials waiting to go up (kiosk/uplink live.go). Times are TEXT in store.TimeLayout;
-- *_ms columns are unix milliseconds for comparisons in SQL.

-- The last good copy of each pulled resource with its ETag. name is 'config', 'catalog',
-- 'pickups' or 'appointments'; body is the validated JSON for config and catalog, and the
-- query the ETag belongs to for the lists (whose rows live in their own tables).
CREATE TABLE downlink_pulls (
    name       TEXT PRIMARY KEY,
    etag       TEXT NOT NULL,
    body       BLOB NOT NULL,
    fetched_at TEXT NOT NULL,  -- when this copy arrived (200)
    checked_at TEXT NOT NULL   -- when the platform last confirmed it (200 or 304)
) STRICT;

-- Certificates ready for pickup at this hall. document is nonce || AES-256-GCM(PDF) under
-- the node's document key with the pickup id as additional data; it is NULL once the print
-- was acknowledged ('done': a tombstone so that a late listing cannot bring it back).
CREATE TABLE downlink_pickups (
    pickup_id       TEXT PRIMARY KEY,
    id_hash         TEXT NOT NULL,
    holder_masked   TEXT NOT NULL,
    title           TEXT NOT NULL,
    pages           INTEGER NOT NULL,
    copies          INTEGER NOT NULL,
    document_sha256 TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    expires_ms      INTEGER NOT NULL,
    document        BLOB,
    state           TEXT NOT NULL CHECK (state IN ('ready', 'printed', 'done')),
    printed_copies  INTEGER NOT NULL DEFAULT 0,
    printed_at      TEXT,
    fetched_at      TEXT NOT NULL,
    CHECK ((state = 'done') = (document IS NULL))
) STRICT;

CREATE INDEX downlink_pickups_expires ON downlink_pickups (expires_ms);
CREATE INDEX downlink_pickups_id_hash ON downlink_pickups (id_hash) WHERE state != 'done';

-- Appointments booked for this hall, kept so that check-in works offline. day is the
-- hall-local date of slot_start; cancelled ones stay with their status.
CREATE TABLE downlink_appointments (
    appointment_id TEXT PRIMARY KEY,
    code           TEXT NOT NULL,
    category       TEXT NOT NULL,
    slot_start     TEXT NOT NULL,
    slot_end       TEXT NOT NULL,
    day            TEXT NOT NULL,
    id_hash        TEXT NOT NULL,
    holder_masked  TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    fetched_at     TEXT NOT NULL
) STRICT;

CREATE INDEX downlink_appointments_day ON downlink_appointments (day, slot_start);
CREATE INDEX downlink_appointments_code ON downlink_appointments (code);

-- Scanned materials, uploaded in local_id order before the application that names them.
-- idempotency_key is made before the first attempt, so an upload retried after a crash
-- reuses it and the platform answers the same material id. sealed is nonce ||
-- AES-256-GCM({name, pages, files}) with local_id as additional data, emptied once uploaded.
CREATE TABLE uplink_materials (
    local_id        TEXT PRIMARY KEY,  -- UUIDv7: creation order
    idempotency_key TEXT NOT NULL UNIQUE,
    local_ref       TEXT NOT NULL,
    sealed          BLOB NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'uploaded', 'rejected')),
    material_id     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    uploaded_at     TEXT,
    CHECK ((state = 'uploaded') = (material_id IS NOT NULL))
) STRICT;

CREATE INDEX uplink_materials_ref ON uplink_materials (local_ref);
