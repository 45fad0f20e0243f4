-- Pull requests merged into a sandbox branch, and what their card says of the sandbox: one row
-- per pull request, from its merge until it is pruned (see store.prune).
-- state: waiting (no deployment including it yet), failed (the newest such deployment failed;
-- still waiting), live (a deployment including it succeeded), expired (none within the wait).
-- deployment_id, status_id: the deployment status the line is about; an older one (a lower
-- deployment id, or a lower status id of the same deployment) never replaces it.
-- line_version counts the line's changes; carded_version is the one the card last showed.
CREATE TABLE sandbox_prs (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    merge_sha TEXT NOT NULL,
    base_ref TEXT NOT NULL DEFAULT '',
    merged_at DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting',
    environment TEXT NOT NULL DEFAULT '',
    deployment_id BIGINT,
    status_id BIGINT,
    deployed_sha TEXT,
    env_url TEXT,
    log_url TEXT,
    status_at DOUBLE PRECISION,
    line_version INTEGER NOT NULL DEFAULT 1,
    carded_version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (repo, number)
);
CREATE INDEX sandbox_prs_state ON sandbox_prs (repo, state);
