-- Installations GitHub said were removed (full_name '') and repositories taken out of one: a
-- delivery received before that moment (queued, retried, recovered late) must not put them back
-- into repo_installations, where the periodic jobs would take them up again. gone_at: when the
-- delivery that said so was received (or when minting the installation's token was answered 404).
-- Named full_name, not repo: renames do not move these rows (nothing is sent about a repository
-- the App no longer sees).
CREATE TABLE installation_departures (
    installation_id BIGINT NOT NULL,
    full_name TEXT NOT NULL,
    gone_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (installation_id, full_name)
);
