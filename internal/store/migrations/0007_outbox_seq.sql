-- 0007: outbox seq numbers without a write per event. The next seq of a stream is one past
-- the larger of its highest waiting event and outbox_streams.next_seq - 1; outbox_streams now
-- only remembers, through this trigger, how far deleted (acknowledged, dead-lettered or
-- compacted) events went, so a number is still never reused. Appending an event reads two
-- index entries instead of updating a row in every business transaction.
CREATE TRIGGER outbox_seq_high_water AFTER DELETE ON outbox
BEGIN
    INSERT INTO outbox_streams (stream, next_seq) VALUES (OLD.stream, OLD.seq + 1)
        ON CONFLICT (stream) DO UPDATE SET next_seq = max(next_seq, excluded.next_seq);
END;
