-- The repository's labelled history (issues people gave one kind label), as last read
-- by the classify-history job: the learnt model's examples besides confirmed kinds.
CREATE TABLE classify_history (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (repo, number)
);

-- When each repository's history was last read, and how many issues it gave.
CREATE TABLE classify_history_reads (
    repo TEXT PRIMARY KEY,
    read_at DOUBLE PRECISION NOT NULL,
    examples INTEGER NOT NULL
);
