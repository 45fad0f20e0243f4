-- GitHub's 202 to a cancel only says it accepted it: jobs whose condition holds on cancellation
-- (if: always(), cancelled()) go on, and a run can hang cancelling. So an accepted cancel stays
-- owed, with when it was first accepted (requested_at), until the run is reported completed or a
-- later cancel is answered 409 or 404; the sweep force-cancels it if the run has not ended a while
-- after (see cancels.py).
ALTER TABLE patch_pipeline_cancels ADD COLUMN requested_at DOUBLE PRECISION;
-- The run's attempt the cancel is owed for: a completed event settles it only for that attempt or
-- a later one (a late event of an earlier attempt, before a "Re-run", does not).
ALTER TABLE patch_pipeline_cancels ADD COLUMN run_attempt INTEGER NOT NULL DEFAULT 1;
