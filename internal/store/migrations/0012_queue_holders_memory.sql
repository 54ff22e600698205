-- 0012: the open tickets of a person (ID hash and category) and of an appointment are looked
-- up in memory (queue/holders.go), not in these partial indexes: an ID-card or appointment
-- ticket wrote their pages when it was issued, when it was called (state is in their WHERE)
-- and when it finished, one page more in each of those commits than a walk-in ticket's.
-- The queue rebuilds the lookup from the indexes of the open tickets when it starts.
DROP INDEX queue_tickets_id_hash;
DROP INDEX queue_tickets_appointment;
