-- The facts of the commits a verdict was decided from, whatever the rules were (who the work is
-- by, committers and allowlisted people included; commits without a sign-off, by people and by
-- bots), and the organisation/team membership answers GitHub gave for that head: a merge group's
-- check weighs the verdict again under the rules in force then, as the pull request's own
-- re-check would (see features/cla/recorded.py). NULL facts: recorded before they were kept.
ALTER TABLE cla_pr_status ADD COLUMN facts TEXT;
ALTER TABLE cla_pr_status ADD COLUMN members TEXT;
