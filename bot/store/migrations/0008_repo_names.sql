-- The name each repository's rows are kept under, by GitHub's repository id (names change:
-- a rename or a transfer; ids do not). changed_at: when the delivery that gave the current name
-- was received; snapshot_at: the newest repository.updated_at (GitHub's clock) seen with this
-- name. A delivery with another name renames the repository only if it is newer on both counts
-- (see store/repo_names.py).
CREATE TABLE repo_names (
    repo_id BIGINT PRIMARY KEY,
    full_name TEXT NOT NULL,
    changed_at DOUBLE PRECISION NOT NULL,
    snapshot_at DOUBLE PRECISION
);
CREATE INDEX repo_names_full_name ON repo_names (full_name);

-- Names a repository had, whose rows were moved to the name it had then: a delivery queued
-- under one and processed late moves nothing again (and another repository created later under
-- that name keeps its own rows).
CREATE TABLE repo_former_names (
    repo_id BIGINT NOT NULL,
    full_name TEXT NOT NULL,
    renamed_to TEXT NOT NULL,
    moved_at DOUBLE PRECISION NOT NULL,
    rows_moved INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (repo_id, full_name)
);
