-- 0004: the uplink senders' own tables (kiosk/uplink).

-- Events the platform rejected (or that the node could never send: over the contract's 1 MiB
-- batch limit, data that is not JSON). Kept until a technician re-queues them; never retried
-- by the sender itself. The columns are the outbox row's, plus why and when it died.
CREATE TABLE outbox_dead (
    id          TEXT PRIMARY KEY,     -- the event's id, kept when re-queued
    stream      TEXT NOT NULL,
    seq         INTEGER NOT NULL,     -- the seq it had when it died
    type        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    data        BLOB NOT NULL,        -- JSON
    created_at  TEXT NOT NULL,
    error       TEXT NOT NULL,        -- the platform's error, or the node's reason
    dead_at     TEXT NOT NULL
) STRICT;

CREATE INDEX outbox_dead_stream ON outbox_dead (stream, seq);

-- Per-stream facts that must survive a restart: when the platform last settled a batch, and
-- how many telemetry events were compacted away or dropped by the backlog cap.
CREATE TABLE uplink_streams (
    stream          TEXT PRIMARY KEY,
    last_success_at TEXT NOT NULL DEFAULT '',
    compacted       INTEGER NOT NULL DEFAULT 0,
    dropped         INTEGER NOT NULL DEFAULT 0
) STRICT;
