-- Deliveries can be processed out of order (a retry, a recovered one: up to 3 days late), and
-- each says the repository's visibility as it was when sent. private_at: when the delivery that
-- set is_private was received; only a newer one may change it. private_authoritative: set by
-- a repository.privatized/publicized event or a live read of the repository (backfill), which
-- an ordinary delivery's older snapshot may not turn from private to public.
ALTER TABLE repo_installations ADD COLUMN private_at DOUBLE PRECISION;
ALTER TABLE repo_installations ADD COLUMN private_authoritative INTEGER NOT NULL DEFAULT 0;
