-- Redelivery requests the App made, one row per failed attempt asked for: inserting the
-- row is the claim, so replicas running recovery at once never ask twice.
CREATE TABLE recovery_requests (
    attempt_id BIGINT PRIMARY KEY,
    guid TEXT NOT NULL,
    event TEXT NOT NULL,
    action TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    holder TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 1,
    requested_at DOUBLE PRECISION NOT NULL,
    error TEXT
);
CREATE INDEX recovery_requests_guid ON recovery_requests (guid);
