-- Workflow runs the bot owes a cancel (see cancels.py): the run of a pipeline it ended itself
-- (a stage past its timeout, a newer push, patches no longer trusted, a stray run). Written
-- in the same transaction as that end, deleted once GitHub's answer to a cancel says nothing
-- runs any more (cancelled, 409 already ended, 404 gone), or given up after store.CANCEL_KEEP.
-- delivery_id: the delivery whose decision owes it (its retry sends it again; none for the
-- sweep's). next_at: when the sweep sends it again, later after each attempt.
CREATE TABLE patch_pipeline_cancels (
    repo TEXT NOT NULL,
    run_id BIGINT NOT NULL,
    number INTEGER NOT NULL,
    head_sha TEXT NOT NULL,
    delivery_id TEXT,
    owed_at DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, run_id)
);
CREATE INDEX patch_pipeline_cancels_due ON patch_pipeline_cancels (next_at);
CREATE INDEX patch_pipeline_cancels_delivery ON patch_pipeline_cancels (delivery_id);
