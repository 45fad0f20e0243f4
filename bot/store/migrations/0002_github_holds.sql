-- Retry-After and secondary-limit holds, shared between replicas: GitHub's limits are per
-- installation, not per process, so when one replica is told to wait, all of them wait.
CREATE TABLE github_holds (
    scope TEXT PRIMARY KEY,
    not_before DOUBLE PRECISION NOT NULL
);
