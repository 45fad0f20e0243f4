-- Patches verified before, by content (remembered.py): ``key`` hashes the git blob SHAs of the
-- patch and of its two signature files, whether keys may sign it, and the fingerprint of the
-- trust policy and verifier; the row says who signed. Only successes; kept KEEP (remembered)
-- after their last use, then dropped by the feature's periodic job.
CREATE TABLE patch_pipeline_verified (
    repo TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    signer TEXT NOT NULL,
    issuer TEXT,
    log_index BIGINT,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, key)
);
CREATE INDEX patch_pipeline_verified_at ON patch_pipeline_verified (at);
