-- The login each repository owner (organisation or user account, by its GitHub id) was last seen
-- with. The default agreement is keyed by the owner's login: when the same id shows a new login,
-- the old key's signatures are copied to the new one (see features/cla/store.py, owner_seen).
CREATE TABLE cla_owners (
    owner_id BIGINT PRIMARY KEY,
    login TEXT NOT NULL,
    seen_at DOUBLE PRECISION NOT NULL
);
