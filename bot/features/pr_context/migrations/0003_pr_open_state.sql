-- The latest close and reopen of each PR by their own instants (the payload's closed_at and
-- updated_at): deliveries come late and out of order, and a close or reopen older than the
-- latest one of the other kind must not end or bring back review requests.
CREATE TABLE IF NOT EXISTS pr_context_open_state (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    closed_at DOUBLE PRECISION,
    reopened_at DOUBLE PRECISION,
    PRIMARY KEY (repo, number)
);
