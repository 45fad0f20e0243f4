-- Pipelines the bot ended itself (a stage past its timeout, a newer push, patches no longer
-- trusted) before GitHub reported their workflow run, so that the run is cancelled when its
-- events come (see strays.py). run_id: that run, once cancelled (once per run).
CREATE TABLE patch_pipeline_strays (
    id {{serial_pk}},
    repo TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    dispatched_at DOUBLE PRECISION NOT NULL,
    number INTEGER NOT NULL,
    ended_at DOUBLE PRECISION NOT NULL,
    run_id BIGINT,
    stopped_at DOUBLE PRECISION,
    UNIQUE (repo, head_sha, dispatched_at)
);
CREATE INDEX patch_pipeline_strays_run ON patch_pipeline_strays (repo, run_id);

-- Pipelines ended so before this version: superseded, or timed out by the sweep (a run
-- concluded by GitHub's events always has its id).
INSERT INTO patch_pipeline_strays (repo, head_sha, dispatched_at, number, ended_at)
SELECT repo, head_sha, dispatched_at, number, updated_at FROM patch_pipeline_runs
WHERE status IN ('superseded', 'completed') AND run_id IS NULL;
