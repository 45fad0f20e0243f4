-- An archived repository is read-only: every write to it is refused, so the periodic jobs leave
-- it out. archived_at: when the delivery that said so was received (a late delivery saying
-- otherwise, received before, changes nothing); NULL until one said.
ALTER TABLE repo_installations ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
ALTER TABLE repo_installations ADD COLUMN archived_at DOUBLE PRECISION;
