-- Whether a repository is private, as its latest event said (1, 0). NULL until an event
-- says: pages open to anyone treat an unknown repository as private.
ALTER TABLE repo_installations ADD COLUMN is_private INTEGER;
