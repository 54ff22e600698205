-- 0011: the waiting counts leave the database. queue_waiting (0006) was kept by triggers in
-- the transaction of every ticket change, so every issue, call and finish also wrote its
-- page; a queue operation's commit time grows with the pages it writes. The queue now
-- keeps the counts in memory and rebuilds them from queue_tickets_waiting when it starts
-- (queue/waiting.go).
DROP TRIGGER queue_waiting_insert;
DROP TRIGGER queue_waiting_leave;
DROP TRIGGER queue_waiting_enter;
DROP TRIGGER queue_waiting_delete;
DROP TABLE queue_waiting;
