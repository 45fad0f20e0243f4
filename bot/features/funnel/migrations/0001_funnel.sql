-- Contributor funnel. Ids are GitHub's integer ids and instants are epoch seconds
-- (integers: GitHub timestamps have second resolution), so a million acts stay small.

CREATE TABLE funnel_repos (
    repo_id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL            -- lower case: GitHub compares names that way
);
CREATE INDEX funnel_repos_name ON funnel_repos (name_key);

CREATE TABLE funnel_users (
    user_id BIGINT PRIMARY KEY,
    login TEXT NOT NULL,
    is_bot INTEGER NOT NULL DEFAULT 0,
    seen_at BIGINT NOT NULL DEFAULT 0  -- the login is the one seen most recently
);

-- Every act once, keyed by the GitHub object it comes from (see features/funnel/extract.py).
CREATE TABLE funnel_acts (
    act_key BIGINT PRIMARY KEY,
    repo_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    kind SMALLINT NOT NULL,
    at BIGINT NOT NULL
);

-- Approver rights gained, per repository and source; the earliest instant is kept.
CREATE TABLE funnel_grants (
    repo_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    source TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (repo_id, user_id, source)
);

-- Team memberships (organisation-wide); a repository's rules say which teams approve.
CREATE TABLE funnel_team_grants (
    org TEXT NOT NULL,
    team TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (org, team, user_id)
);

-- The earliest raw instant of each stage per contributor and repository, maintained
-- with every write so the funnel reads one row per contributor, not their history.
CREATE TABLE funnel_milestones (
    repo_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    contact_at BIGINT,
    pr_at BIGINT,
    merge_at BIGINT,
    approver_at BIGINT,
    PRIMARY KEY (repo_id, user_id)
);

-- Backfill progress, so an interrupted run resumes where it stopped.
CREATE TABLE funnel_backfill (
    repo TEXT NOT NULL,
    stream TEXT NOT NULL,
    cursor TEXT NOT NULL DEFAULT '',
    done INTEGER NOT NULL DEFAULT 0,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, stream)
);

-- Weekly reports posted, with their figures (the next report compares against them).
CREATE TABLE funnel_reports (
    repo TEXT NOT NULL,
    week TEXT NOT NULL,
    figures TEXT NOT NULL,
    posted_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, week)
);
