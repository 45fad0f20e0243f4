-- Two events of one kind at one instant that differ in what they are about (two waiting
-- labels taken off in one edit, two pauses for different reasons) were one row: the first
-- kept, the other lost, and a late delivery ordered by them misread. The detail (label,
-- reason) is part of the key now.
ALTER TABLE sla_events DROP CONSTRAINT sla_events_pkey, ADD PRIMARY KEY (repo, number, policy, kind, at, detail);
