-- 0006: waiting tickets counted per category and calling class, kept by triggers in the same
-- transaction as every ticket change. A new ticket's "people ahead" is then a sum over a few
-- rows instead of a count over every waiting ticket of its category (O(1), not O(waiting)).
CREATE TABLE queue_waiting (
    category TEXT NOT NULL,
    class    INTEGER NOT NULL,
    n        INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (category, class)
) STRICT, WITHOUT ROWID;

INSERT INTO queue_waiting (category, class, n)
    SELECT category, class, COUNT(*) FROM queue_tickets WHERE state = 'waiting' GROUP BY category, class;

CREATE TRIGGER queue_waiting_insert AFTER INSERT ON queue_tickets WHEN NEW.state = 'waiting'
BEGIN
    INSERT INTO queue_waiting (category, class, n) VALUES (NEW.category, NEW.class, 1)
        ON CONFLICT (category, class) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER queue_waiting_leave AFTER UPDATE OF state, category, class ON queue_tickets
    WHEN OLD.state = 'waiting' AND (NEW.state != 'waiting' OR NEW.category != OLD.category OR NEW.class != OLD.class)
BEGIN
    UPDATE queue_waiting SET n = n - 1 WHERE category = OLD.category AND class = OLD.class;
END;

CREATE TRIGGER queue_waiting_enter AFTER UPDATE OF state, category, class ON queue_tickets
    WHEN NEW.state = 'waiting' AND (OLD.state != 'waiting' OR NEW.category != OLD.category OR NEW.class != OLD.class)
BEGIN
    INSERT INTO queue_waiting (category, class, n) VALUES (NEW.category, NEW.class, 1)
        ON CONFLICT (category, class) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER queue_waiting_delete AFTER DELETE ON queue_tickets WHEN OLD.state = 'waiting'
BEGIN
    UPDATE queue_waiting SET n = n - 1 WHERE category = OLD.category AND class = OLD.class;
END;
