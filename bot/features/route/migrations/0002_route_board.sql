-- The board routing put the issue on ("owner#number", empty if none), and the labels it
-- added: what is undone when the issue's kind changes.
ALTER TABLE route_done ADD COLUMN board TEXT NOT NULL DEFAULT '';
ALTER TABLE route_done ADD COLUMN labels TEXT NOT NULL DEFAULT '';
