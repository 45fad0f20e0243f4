-- "Re-run jobs" in the Actions UI keeps the workflow run id with a new run_attempt: the
-- attempt followed, and when it began (the clock of the stages it re-runs).
ALTER TABLE patch_pipeline_runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE patch_pipeline_runs ADD COLUMN attempt_started_at DOUBLE PRECISION;
-- Bumped by every write: a decision carries the revision it read, and its write is refused
-- (the delivery decided again) when the run changed in between (events of one run arrive on
-- different queues: the PR's, the repository's, the timeout sweep).
ALTER TABLE patch_pipeline_runs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- A stage's workflow jobs (one, or the legs of a matrix) as JSON: the stage passes only when
-- every leg does.
ALTER TABLE patch_pipeline_stages ADD COLUMN legs TEXT NOT NULL DEFAULT '[]';
