-- Who opened the pull request ({"id", "login", "type"}; {} for none), as GitHub named them to a
-- merge group's check of a verdict whose facts do not say (recorded before the opener had to be
-- covered, see features/cla/standing.py): kept so the follow job, which reads no GitHub, weighs
-- them too. NULL: not asked. A pull request's opener never changes, whatever its head.
ALTER TABLE cla_pr_status ADD COLUMN opener TEXT;
