-- Deliveries: the durable queue. seq keeps arrival order (per subject order).
CREATE TABLE deliveries (
    seq {{serial_pk}},
    delivery_id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    action TEXT NOT NULL DEFAULT '',
    repo TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL,
    installation_id BIGINT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    received_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    locked_by TEXT,
    last_error TEXT,
    body TEXT NOT NULL
);
CREATE INDEX deliveries_status ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_subject ON deliveries (subject, seq);

-- What the executor already did for a delivery, so a retry skips it.
CREATE TABLE executed_actions (
    delivery_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    kind TEXT NOT NULL,
    result TEXT,
    done_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (delivery_id, fingerprint)
);

CREATE TABLE repo_installations (
    repo TEXT PRIMARY KEY,
    installation_id BIGINT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);

-- Last good per-repo override of the rules (.github/contributor-flow.yml).
CREATE TABLE repo_config (
    repo TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    sha TEXT,
    saved_at DOUBLE PRECISION NOT NULL
);

-- Labels the bot added itself: it only ever removes these.
CREATE TABLE bot_labels (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    label TEXT NOT NULL,
    feature TEXT NOT NULL DEFAULT '',
    added_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number, label)
);

-- Decisions, for /explain and the log.
CREATE TABLE decisions (
    id {{serial_pk}},
    repo TEXT NOT NULL,
    number INTEGER NOT NULL DEFAULT 0,
    feature TEXT NOT NULL,
    delivery_id TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
CREATE INDEX decisions_item ON decisions (repo, number, id);

-- Periodic jobs: one row per job and period, so each period runs once.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    period_key TEXT NOT NULL,
    holder TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    lease_until DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION,
    outcome TEXT,
    PRIMARY KEY (job, period_key)
);

-- Objects the executor created, keyed by the action's fingerprint (idempotence
-- across retries and after answers lost in transit).
CREATE TABLE created_objects (
    fingerprint TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
