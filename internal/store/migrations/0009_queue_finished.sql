-- 0009: finished tickets by business day, so the live statistics (served and no-shows today,
-- today's print failures) read one day's entries from an index instead of every ticket the
-- hall ever issued. Partial: issuing and calling never touch it, only finishing does.
CREATE INDEX queue_tickets_finished ON queue_tickets (business_date, outcome, finished_at)
    WHERE state = 'finished';
