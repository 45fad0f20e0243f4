-- How many times the cla-recheck-signed job re-checked the verdict of head job_tries_head without
-- a verdict being sent since (a re-check that keeps failing: GitHub refusing the pull request, a
-- commit walk that comes up short, a listing that keeps disagreeing). Past a bound the job gives
-- that head up (features/cla/handlers.py) instead of re-checking it every 10 minutes forever;
-- a verdict sent resets it, and another head starts again from 0.
ALTER TABLE cla_pr_status ADD COLUMN job_tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cla_pr_status ADD COLUMN job_tries_head TEXT;
