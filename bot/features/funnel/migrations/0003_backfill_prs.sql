-- Pull requests the backfill listed, so their reviews are read even when the PR itself
-- records no act (its author was deleted, or is a bot).
CREATE TABLE funnel_backfill_prs (
    repo_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    PRIMARY KEY (repo_id, number)
);
