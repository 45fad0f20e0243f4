-- Merge groups the merge queue asked checks of: one row per group commit, kept after the group
-- is destroyed as a tombstone (a checks_requested redelivered late then reports nothing), and
-- dropped a few days later.
CREATE TABLE merge_queue_groups (
    repo TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    head_ref TEXT NOT NULL DEFAULT '',
    base_ref TEXT NOT NULL DEFAULT '',
    number INTEGER,
    pr_head_sha TEXT,
    requested_at DOUBLE PRECISION NOT NULL,
    destroyed_at DOUBLE PRECISION,
    reason TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (repo, head_sha)
);
CREATE INDEX merge_queue_groups_live ON merge_queue_groups (destroyed_at, requested_at);

-- What was last reported on a live group, per check (a digest of its status, conclusion and
-- text): a verdict that changes on the pull request while the group is queued is reported again.
CREATE TABLE merge_queue_checks (
    repo TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, head_sha, name)
);
