-- Whether a verdict's GitHub side (check run, labels, comment) was sent: the verdict is written
-- first (a compare-and-set, see 0004), its GitHub actions after it, then this flag. A verdict
-- left unsent (the process died, or the delivery's retry no longer finds the pull request to
-- re-check) is re-checked by the cla-recheck-signed job. 1: sent (rows before this column were).
ALTER TABLE cla_pr_status ADD COLUMN published INTEGER NOT NULL DEFAULT 1;
