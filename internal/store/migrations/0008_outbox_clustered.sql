-- 0008: the outbox as one B-tree keyed by (stream, seq), the order it is sent in, instead of
-- a rowid table with two more indexes (id and (stream, seq)). Appending an event to a business
-- transaction then writes one B-tree, not three. Nothing looks events up by id: the senders
-- settle by (stream, seq), and the platform deduplicates by id.
CREATE TABLE outbox_new (
    stream      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    id          TEXT NOT NULL,        -- UUIDv7, made when the event was created
    type        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    data        BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
) STRICT, WITHOUT ROWID;

INSERT INTO outbox_new (stream, seq, id, type, occurred_at, data, created_at)
    SELECT stream, seq, id, type, occurred_at, data, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;

-- The high-water trigger of 0007 went with the old table.
CREATE TRIGGER outbox_seq_high_water AFTER DELETE ON outbox
BEGIN
    INSERT INTO outbox_streams (stream, next_seq) VALUES (OLD.stream, OLD.seq + 1)
        ON CONFLICT (stream) DO UPDATE SET next_seq = max(next_seq, excluded.next_seq);
END;
