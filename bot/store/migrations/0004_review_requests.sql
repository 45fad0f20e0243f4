-- What GitHub answered when the executor asked someone to review a pull request: "requested",
-- or "refused" (a 422 for a name that cannot review), so a feature never counts a refused name
-- as asked. Names are lower case (GitHub's logins and team slugs ignore case).
CREATE TABLE review_requests (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    who TEXT NOT NULL,
    result TEXT NOT NULL,
    answered_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number, who)
);
-- Kept in created_objects before this table existed.
DELETE FROM created_objects WHERE kind = 'review_request';
