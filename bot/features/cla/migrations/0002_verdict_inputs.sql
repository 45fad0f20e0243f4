-- What a verdict was decided with, so it can be weighed again against the signature store
-- alone (a merge group's check): the rules' mode and CLA version, and the people it counted as
-- signed ([{"id", "login"}]; those still missing are in `missing`). NULL version: a verdict
-- recorded before these columns, which can only be carried as it is.
ALTER TABLE cla_pr_status ADD COLUMN mode TEXT;
ALTER TABLE cla_pr_status ADD COLUMN version TEXT;
ALTER TABLE cla_pr_status ADD COLUMN signed TEXT NOT NULL DEFAULT '[]';
