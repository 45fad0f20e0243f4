-- Which decision wrote the verdict (a token; NULL for decisions that name none). The periodic
-- re-check sends the actions of many pull requests in one run: a verdict of its refused as stale
-- (another decision wrote the row since it was read) drops only that pull request's actions,
-- whose guards and "sent" mark then need more than the revision, which the other decision may
-- have written with the same number (features/cla/store.py).
ALTER TABLE cla_pr_status ADD COLUMN decision TEXT;
