-- The turn of a rotation each issue took. Claimed while deciding, in the transaction that
-- moves the rotation on, so issues routed at once (other subjects on one worker, other
-- replicas) get successive people; an issue decided again (a retried delivery) gets the
-- same person back without moving the turn again.
CREATE TABLE route_turns (
    repo TEXT NOT NULL,
    rotation TEXT NOT NULL,
    number INTEGER NOT NULL,
    turn_index INTEGER NOT NULL,
    login TEXT NOT NULL,
    skipped TEXT NOT NULL DEFAULT '',
    claimed_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, rotation, number)
);

-- The decision (a delivery, a job's period) that reports the problem: the first to claim it
-- (one statement, so decisions made at once cannot both). '': reported before this column.
ALTER TABLE route_problems ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';

-- Why the RFC's issue is no longer open here ('' while it is): closed, transferred or
-- deleted. The agenda lists open RFCs only; a reopened issue is listed again.
ALTER TABLE rfc_items ADD COLUMN gone TEXT NOT NULL DEFAULT '';
