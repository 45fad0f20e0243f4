-- Installations an owner suspended the App on: no token can be minted for them, so the periodic
-- jobs leave their repositories out rather than fail (and log) for each at every run.
-- suspended: 1 suspended, 0 unsuspended since; at: when that was said (the delivery's reception,
-- or when minting was refused) — an older word does not override a newer one; probed_at: when a
-- job last tried the installation's token (it tries again now and then, should the unsuspend
-- delivery be lost).
CREATE TABLE installation_suspensions (
    installation_id BIGINT PRIMARY KEY,
    suspended INTEGER NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    probed_at DOUBLE PRECISION NOT NULL
);
