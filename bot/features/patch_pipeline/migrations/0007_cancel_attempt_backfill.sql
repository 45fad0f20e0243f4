-- 0006 gave every cancel owed before it run_attempt 1, whichever attempt of the run the pipeline
-- had ended. One owed for a later attempt (the run re-run, then ended again by the bot) was then
-- taken for one owed for attempt 1: a late completed event of attempt 1 settles it, and so does
-- the executor, which reads the run before each cancel and finds it on a later attempt than the
-- one owed, leaving the attempt the bot ended running. Such a cancel is owed for the attempt its
-- pipeline ended at: filled in from the pipeline's run (the same repository and workflow run)
-- where that is later. Never from a live pipeline: a re-run of the run after the end re-opened
-- it, and the attempt it follows is not one the bot owes a cancel (the one owed is earlier, which
-- 1 stands for: any later attempt settles it). A cancel owed for a stray run (no pipeline's run)
-- is left as it is.
UPDATE patch_pipeline_cancels SET run_attempt = (
    SELECT MAX(r.attempt) FROM patch_pipeline_runs r
    WHERE r.repo = patch_pipeline_cancels.repo AND r.run_id = patch_pipeline_cancels.run_id
      AND r.status NOT IN ('dispatched', 'running'))
WHERE run_attempt < (
    SELECT MAX(r.attempt) FROM patch_pipeline_runs r
    WHERE r.repo = patch_pipeline_cancels.repo AND r.run_id = patch_pipeline_cancels.run_id
      AND r.status NOT IN ('dispatched', 'running'));
