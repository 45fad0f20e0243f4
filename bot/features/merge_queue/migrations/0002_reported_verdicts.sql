-- What each check said on a group, not only its digest: a group stacked on this one holds its
-- pull request too, and fails (or waits) while this group's check does. Rows written before
-- these columns have no conclusion and count as unknown.
ALTER TABLE merge_queue_checks ADD COLUMN status TEXT NOT NULL DEFAULT 'completed';
ALTER TABLE merge_queue_checks ADD COLUMN conclusion TEXT;
ALTER TABLE merge_queue_checks ADD COLUMN title TEXT NOT NULL DEFAULT '';
