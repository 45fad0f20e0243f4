-- One row per verified-or-refused PR head: the signature verdict, then the pipeline run.
-- status: rejected | dispatched | running | completed | superseded
CREATE TABLE patch_pipeline_runs (
    repo TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    number INTEGER NOT NULL,
    status TEXT NOT NULL,
    conclusion TEXT,
    signers TEXT NOT NULL DEFAULT '',
    patches TEXT NOT NULL DEFAULT '[]',
    reason TEXT NOT NULL DEFAULT '',
    run_id BIGINT,
    run_url TEXT,
    superseded_by TEXT,
    dispatched_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, head_sha)
);
CREATE INDEX patch_pipeline_runs_pr ON patch_pipeline_runs (repo, number, updated_at);
CREATE INDEX patch_pipeline_runs_status ON patch_pipeline_runs (status, repo);

-- Stages of a run, in order.
CREATE TABLE patch_pipeline_stages (
    repo TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at DOUBLE PRECISION,
    completed_at DOUBLE PRECISION,
    url TEXT,
    PRIMARY KEY (repo, head_sha, position)
);
