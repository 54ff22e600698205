-- 0010: one B-tree less in every issue and call. queue_tickets_open indexed every ticket not
-- finished, so issuing (a new entry) and calling (waiting -> called moves the entry) wrote it
-- on top of the indexes those changes write anyway. Open tickets are the waiting ones
-- (queue_tickets_waiting), the called and serving ones (queue_tickets_window_active) and the
-- parked ones, which only this index needs; the few reads of all open tickets (statistics,
-- hall reset, end of day) take the three together.
DROP INDEX queue_tickets_open;
CREATE INDEX queue_tickets_parked ON queue_tickets (id) WHERE state = 'parked';
