-- A delivery received late (recovered days after it was sent) is the newest received, yet its
-- payload is an old snapshot. private_snapshot_at: the newest repository.updated_at (GitHub's
-- clock, epoch seconds) among the deliveries whose visibility is_private took; one with an older
-- snapshot may not make the repository public (see store/state.py). NULL until one carries it.
ALTER TABLE repo_installations ADD COLUMN private_snapshot_at DOUBLE PRECISION;
