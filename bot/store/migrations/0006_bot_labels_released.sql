-- A label the bot added and someone else took off (a person, another bot) is no longer the
-- bot's to remove, but it is remembered as taken off, by whom and when: a feature does not put
-- back what a person removed (the PR card's area labels). NULL: still the bot's.
ALTER TABLE bot_labels ADD COLUMN removed_at DOUBLE PRECISION;
ALTER TABLE bot_labels ADD COLUMN removed_by TEXT NOT NULL DEFAULT '';
