-- 0002: the hall queue (package queue). Times are TEXT in store.TimeLayout; durations are
-- integer milliseconds so that sums stay exact.

-- One row per category per business day (hall-local date): the last number handed out.
-- Numbering reads and bumps this row, never counts tickets, so deleting or archiving
-- tickets can never make a number come round twice; a new day is simply a new row.
CREATE TABLE queue_counters (
    category      TEXT NOT NULL,
    business_date TEXT NOT NULL,      -- YYYY-MM-DD in the hall's zone
    last_number   INTEGER NOT NULL,
    PRIMARY KEY (category, business_date)
) STRICT;

-- One row per ticket. A multi-step ticket (多窗联办) keeps its row and number and only
-- changes category; origin_category is the one that numbered it.
CREATE TABLE queue_tickets (
    id              INTEGER PRIMARY KEY,
    business_date   TEXT NOT NULL,
    number          TEXT NOT NULL,    -- "A023", as printed and announced
    origin_category TEXT NOT NULL,
    category        TEXT NOT NULL,    -- where it waits or is served now
    state           TEXT NOT NULL CHECK (state IN ('waiting', 'called', 'serving', 'parked', 'finished')),
    outcome         TEXT CHECK (outcome IN ('served', 'no_show', 'cancelled', 'reset')),
    reason          TEXT NOT NULL DEFAULT '',
    priority        TEXT NOT NULL CHECK (priority IN ('', 'green', 'appointment')),
    source          TEXT NOT NULL CHECK (source IN ('walk_in', 'id_card', 'appointment')),
    id_hash         TEXT,
    appointment_id  TEXT,
    class           INTEGER NOT NULL, -- calling order class: 0 front, 1 appointment, 2 green, 3 normal
    queue_key       INTEGER NOT NULL, -- unix ms the ticket counts as waiting from (calling order, long wait)
    window_id       INTEGER,          -- the window that last called it
    call_count      INTEGER NOT NULL DEFAULT 0,
    issued_at       TEXT NOT NULL,
    called_at       TEXT,             -- first call
    started_at      TEXT,             -- first start of service
    finished_at     TEXT,
    since_ms        INTEGER NOT NULL, -- unix ms the current state was entered
    wait_ms         INTEGER NOT NULL DEFAULT 0,
    call_ms         INTEGER NOT NULL DEFAULT 0, -- called-to-start
    serve_ms        INTEGER NOT NULL DEFAULT 0,
    park_ms         INTEGER NOT NULL DEFAULT 0,
    step_serve_ms   INTEGER NOT NULL DEFAULT 0, -- serving time in the current category only
    UNIQUE (number, business_date), -- number first: staff look tickets up by number
    CHECK ((state = 'finished') = (outcome IS NOT NULL))
) STRICT;

CREATE INDEX queue_tickets_waiting ON queue_tickets (category, class, queue_key) WHERE state = 'waiting';
CREATE INDEX queue_tickets_open ON queue_tickets (state) WHERE state != 'finished';
CREATE INDEX queue_tickets_id_hash ON queue_tickets (id_hash, category) WHERE id_hash IS NOT NULL AND state != 'finished';
CREATE INDEX queue_tickets_appointment ON queue_tickets (appointment_id) WHERE appointment_id IS NOT NULL AND state != 'finished';
-- A window holds at most one called or serving ticket; the database refuses anything else.
CREATE UNIQUE INDEX queue_tickets_window_active ON queue_tickets (window_id) WHERE state IN ('called', 'serving');

-- One row per finished service step, for estimates (median of recent service times).
CREATE TABLE queue_services (
    id            INTEGER PRIMARY KEY,
    ticket_id     INTEGER NOT NULL REFERENCES queue_tickets (id),
    category      TEXT NOT NULL,
    business_date TEXT NOT NULL,
    window_id     INTEGER NOT NULL,
    finished_at   TEXT NOT NULL,
    serve_ms      INTEGER NOT NULL
) STRICT;

CREATE INDEX queue_services_recent ON queue_services (category, business_date, id);

-- Smooth weighted round robin state per window and category, so weights hold across restarts.
CREATE TABLE queue_window_credits (
    window_id INTEGER NOT NULL,
    category  TEXT NOT NULL,
    credit    INTEGER NOT NULL,
    PRIMARY KEY (window_id, category)
) STRICT;
