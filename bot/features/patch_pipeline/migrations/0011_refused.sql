-- Patches refused before, by content (remembered.py), under the same key as
-- patch_pipeline_verified: a decision does not read and verify them again, so that a head with
-- more refused patches than one decision reads (verification.MAX_PATCHES) goes on to the others
-- at each re-run instead of reading the same refused ones for good. ``reason`` is the verdict as
-- verification gave it (the path-free text). Kept REFUSED_KEEP (remembered) after their last
-- use, then dropped by the feature's periodic job. Kept apart from the successes so that no
-- reader of that table can ever take a refusal for a verification.
CREATE TABLE patch_pipeline_refused (
    repo TEXT NOT NULL,
    key TEXT NOT NULL,
    reason TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, key)
);
CREATE INDEX patch_pipeline_refused_at ON patch_pipeline_refused (at);
