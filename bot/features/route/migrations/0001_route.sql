-- Which kinds an issue has been routed for (routing happens once per kind).
CREATE TABLE route_done (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    routed_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number, kind)
);

-- Where each rotation's turn stands.
CREATE TABLE route_rotation (
    repo TEXT NOT NULL,
    rotation TEXT NOT NULL,
    last_index INTEGER NOT NULL,
    last_login TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, rotation)
);

-- Configuration problems already reported to the maintainers (reported once each).
CREATE TABLE route_problems (
    repo TEXT NOT NULL,
    problem TEXT NOT NULL,
    reported_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, problem)
);

-- RFCs and their state; the agenda lists those in review, oldest first.
CREATE TABLE rfc_items (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    opened_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number)
);
CREATE INDEX rfc_items_state ON rfc_items (repo, state, opened_at);

-- Agendas posted, one per repository and ISO week.
CREATE TABLE rfc_agendas (
    repo TEXT NOT NULL,
    week TEXT NOT NULL,
    target TEXT NOT NULL,
    items INTEGER NOT NULL,
    posted_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, week)
);
