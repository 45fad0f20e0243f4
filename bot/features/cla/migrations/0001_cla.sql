-- Signatures: one row per person, agreement and version signed (the first signature is kept).
CREATE TABLE cla_signatures (
    agreement TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    version TEXT NOT NULL,
    login TEXT NOT NULL,
    signed_at DOUBLE PRECISION NOT NULL,
    comment_url TEXT NOT NULL DEFAULT '',
    repo TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (agreement, user_id, version)
);
CREATE INDEX cla_signatures_user ON cla_signatures (user_id, signed_at);

-- The last verdict per pull request (for the context card and for re-checks).
CREATE TABLE cla_pr_status (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    head_sha TEXT NOT NULL,
    state TEXT NOT NULL,
    conclusion TEXT NOT NULL,
    missing TEXT NOT NULL DEFAULT '[]',
    unlinked INTEGER NOT NULL DEFAULT 0,
    dco INTEGER NOT NULL DEFAULT 0,
    commented INTEGER NOT NULL DEFAULT 0,
    is_open INTEGER NOT NULL DEFAULT 1,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number)
);
CREATE INDEX cla_pr_status_head ON cla_pr_status (repo, head_sha);

-- Open pull requests waiting for a person's signature: signing re-checks exactly these.
CREATE TABLE cla_waiting (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    user_id BIGINT NOT NULL,
    PRIMARY KEY (repo, number, user_id)
);
CREATE INDEX cla_waiting_user ON cla_waiting (user_id);
