-- The latest activity on the item the SLA saw (comments, reviews, label changes, edits)
-- and the author's latest answer, by the events' own timestamps. The answer ends a wait
-- on the author even when that pause is recorded afterwards (the sweep reads the labels
-- the bot adds from its ledger); the activity dates a label the bot took off unseen.
ALTER TABLE sla_items ADD COLUMN author_replied_at DOUBLE PRECISION;
ALTER TABLE sla_items ADD COLUMN activity_at DOUBLE PRECISION;

-- Labels of the bot's ledger (bot_labels) the SLA acted on, for items still owed an
-- answer. The bot forgets a label it removes, so one missing from its ledger now was
-- taken off by the bot.
CREATE TABLE sla_ledger (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    label TEXT NOT NULL,
    added_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, number, label)
);
