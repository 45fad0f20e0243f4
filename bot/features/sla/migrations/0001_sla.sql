-- Issues and pull requests the SLA feature has seen opened (or enter a policy), and
-- their first qualifying response, whatever the policies.
CREATE TABLE sla_items (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    is_pr INTEGER NOT NULL DEFAULT 0,
    author_id BIGINT NOT NULL DEFAULT 0,
    author_login TEXT NOT NULL DEFAULT '',
    opened_at DOUBLE PRECISION NOT NULL,
    closed_at DOUBLE PRECISION,
    first_response_at DOUBLE PRECISION,
    first_responder TEXT NOT NULL DEFAULT '',
    first_response_kind TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (repo, number)
);

-- One clock per item and policy. Target, warning point and calendar are copied from
-- the rules when the clock starts, so reports need only the store.
CREATE TABLE sla_clocks (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    policy TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    target_seconds DOUBLE PRECISION NOT NULL,
    warn_seconds DOUBLE PRECISION NOT NULL,
    calendar TEXT NOT NULL DEFAULT '',
    answered_at DOUBLE PRECISION,
    warned_at DOUBLE PRECISION,
    breached_at DOUBLE PRECISION,
    due_at DOUBLE PRECISION,
    PRIMARY KEY (repo, number, policy)
);
CREATE INDEX sla_clocks_open ON sla_clocks (repo, answered_at);

-- Pauses: policy '' applies to every clock of the item (waiting on the author,
-- closed); a policy name to that clock only (the item left the policy).
CREATE TABLE sla_pauses (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    policy TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    ended_at DOUBLE PRECISION,
    PRIMARY KEY (repo, number, policy, reason, started_at)
);

-- What happened to the clocks, for /sla status, /explain and audits.
CREATE TABLE sla_events (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    policy TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (repo, number, policy, kind, at)
);
