-- The kind of each issue as it stands: who set it (bot or human) and how sure the bot was.
CREATE TABLE classify_items (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT,
    source TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL DEFAULT 0,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number)
);

-- Every decision with its signals (JSON), for /explain, the log and measuring the bot.
CREATE TABLE classify_decisions (
    id {{serial_pk}},
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    delivery_id TEXT NOT NULL,
    kind TEXT,
    best TEXT,
    confidence DOUBLE PRECISION NOT NULL,
    source TEXT NOT NULL,
    signals TEXT NOT NULL,
    decided_at DOUBLE PRECISION NOT NULL,
    UNIQUE (delivery_id, repo, number, source)
);
CREATE INDEX classify_decisions_item ON classify_decisions (repo, number, id);

-- Kinds a human confirmed or chose: training examples for the feedback model.
CREATE TABLE classify_examples (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    bot_kind TEXT,
    labelled_by TEXT NOT NULL,
    labelled_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number)
);

-- Kind labels a human removed: the bot never adds them back to that issue.
CREATE TABLE classify_removed_labels (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    label TEXT NOT NULL,
    removed_by TEXT NOT NULL,
    removed_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number, label)
);
