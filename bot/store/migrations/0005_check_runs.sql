-- The check run the executor last wrote for each check (repository, head, name), and whether it
-- left that run completed: GitHub does not take a completed run back to queued or in progress,
-- so a check that starts again gets a new run.
CREATE TABLE check_runs (
    repo TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    name TEXT NOT NULL,
    run_id TEXT NOT NULL,
    completed INTEGER NOT NULL DEFAULT 0,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, head_sha, name)
);
-- Kept in created_objects (and a second ':completed' row) before this table existed; the
-- executor finds such a run again on GitHub by its name and head.
DELETE FROM created_objects WHERE kind = 'check_run';
