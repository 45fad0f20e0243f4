-- How many times a pull request's verdict was written: a decision writes its verdict only if the
-- row is still at the revision it read (see features/cla/store.py, pr_status). 0: written before.
ALTER TABLE cla_pr_status ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
