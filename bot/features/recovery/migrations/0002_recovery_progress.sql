-- When the latest recovery pass that settled every missed delivery it saw started: later
-- passes read the delivery log back to a little before it, not the whole max_age (a busy
-- App's three days are hundreds of pages).
CREATE TABLE recovery_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    covered_at DOUBLE PRECISION NOT NULL
);
