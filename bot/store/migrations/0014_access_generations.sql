-- What GitHub grants people changed (a member, team or organisation event, a transfer, a push to
-- OWNERS files): the generation of the scope it affects ("repo:owner/name" or "owner:login",
-- lower case) moves on, and every replica keys the roles it caches by the generations it read
-- (see core/access.py), so none goes on with roles cached before the change.
CREATE TABLE access_generations (
    scope TEXT PRIMARY KEY,
    generation BIGINT NOT NULL,
    changed_at DOUBLE PRECISION NOT NULL
);
