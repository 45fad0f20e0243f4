-- First-timer decision per PR, made once when the card is first rendered.
CREATE TABLE IF NOT EXISTS pr_context_prs (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    author_id BIGINT NOT NULL,
    first_timer INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    decided_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number)
);

-- Authors of merged PRs, by user id (logins change, ids do not).
CREATE TABLE IF NOT EXISTS pr_context_merged (
    repo TEXT NOT NULL,
    owner TEXT NOT NULL,
    number INTEGER NOT NULL,
    user_id BIGINT NOT NULL,
    login TEXT NOT NULL,
    merged_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number)
);
CREATE INDEX IF NOT EXISTS pr_context_merged_user ON pr_context_merged (user_id, owner);

-- Review requests the bot made: never asked twice on one PR; active ones are a reviewer's load.
CREATE TABLE IF NOT EXISTS pr_context_review_requests (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    login TEXT NOT NULL,
    requested_at DOUBLE PRECISION NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (repo, number, login)
);
CREATE INDEX IF NOT EXISTS pr_context_review_requests_login ON pr_context_review_requests (login, active);
