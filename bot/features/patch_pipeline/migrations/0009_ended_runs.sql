-- Workflow runs of pipelines the bot ended itself (tracking.stop), kept after their cancel is
-- settled: a head decided again gets a new pipeline that no run is linked to yet, and a late
-- event of the ended run (a job's, after the run's completed one) names the same head within the
-- dispatch skew. Known here, it is never taken for the new pipeline's run (tracking.find_run).
-- Kept ENDED_RUN_KEEP (store), then dropped by the feature's periodic job.
CREATE TABLE patch_pipeline_ended_runs (
    repo TEXT NOT NULL,
    run_id BIGINT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, run_id)
);
CREATE INDEX patch_pipeline_ended_runs_at ON patch_pipeline_ended_runs (at);
