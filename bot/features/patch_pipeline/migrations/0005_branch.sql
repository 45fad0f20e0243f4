-- The branch a direct push decided the head for (rules push_branches): a newer push to that
-- branch supersedes its pipeline, its patches carry over to the branch's next decision until a
-- pipeline passes, and "Re-run" asks the branch whether the head is still its head. NULL for a
-- head decided for a pull request.
ALTER TABLE patch_pipeline_runs ADD COLUMN branch TEXT;
CREATE INDEX patch_pipeline_runs_branch ON patch_pipeline_runs (repo, branch, dispatched_at);
