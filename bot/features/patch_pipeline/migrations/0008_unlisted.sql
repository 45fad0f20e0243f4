-- A head refused because its patches could not be listed (GitHub listed its tree only in part):
-- it recorded no patches, so whatever it brought to its branch is unknown. The branch's next
-- push then cannot go by the files its own payload lists: it lists the tree at its head (see
-- pushes.pending). 1 for such a refusal, 0 otherwise.
ALTER TABLE patch_pipeline_runs ADD COLUMN unlisted INTEGER NOT NULL DEFAULT 0;
