-- Whether the deliveries the bot keeps were searched for the logins an owner had before it was
-- first remembered here (a rename this table never saw: before it existed, or before any check
-- since): see features/cla/check.py, _owner_sighting. 0: not yet (owners remembered before this
-- column, and owners remembered by a signature), searched at the next check of one of its PRs.
ALTER TABLE cla_owners ADD COLUMN history_searched INTEGER NOT NULL DEFAULT 0;
