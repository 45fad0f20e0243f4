-- Two events of one kind at one instant that differ in what they are about (two waiting
-- labels taken off in one edit, two pauses for different reasons) were one row: the first
-- kept, the other lost, and a late delivery ordered by them misread. The detail (label,
-- reason) is part of the key now. SQLite cannot change a primary key: the table is rebuilt.
CREATE TABLE sla_events_keyed (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    policy TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (repo, number, policy, kind, at, detail)
);
INSERT INTO sla_events_keyed (repo, number, policy, kind, at, detail)
    SELECT repo, number, policy, kind, at, detail FROM sla_events;
DROP TABLE sla_events;
ALTER TABLE sla_events_keyed RENAME TO sla_events;
