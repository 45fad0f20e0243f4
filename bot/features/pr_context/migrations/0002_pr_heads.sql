-- Head commit of each PR the card was rendered for: a check run on a fork's branch comes
-- with an empty pull_requests list, and its head_sha finds the PR here.
CREATE TABLE IF NOT EXISTS pr_context_heads (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    head_sha TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number)
);
CREATE INDEX IF NOT EXISTS pr_context_heads_sha ON pr_context_heads (repo, head_sha);

-- Logins are compared in lower case (GitHub's ignore case): keep the load count indexed.
CREATE INDEX IF NOT EXISTS pr_context_review_requests_lower_login
    ON pr_context_review_requests (lower(login), active);
