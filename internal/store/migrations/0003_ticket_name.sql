-- 0003: the masked name (张*) a ticket may show on the hall display when the hall allows it.
-- Only the masked form is ever stored; '' when the ticket was taken without an ID card.
ALTER TABLE queue_tickets ADD COLUMN name_masked TEXT NOT NULL DEFAULT '';
