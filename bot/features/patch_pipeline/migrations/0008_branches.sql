-- What the bot knows of each gated branch (rules push_branches), apart from the heads' runs: a
-- head can also be a pull request's or another branch's, and their decisions must neither
-- clear nor take over this branch's. head_sha: the head the bot last decided for the branch (a
-- push that does not continue from it, after a lost or late delivery or a force-push, is read
-- from the tree); pending: JSON list of the patches pushed since a pipeline last passed with
-- them all (carried to each new head until one does, see pushes.branch); unlisted: 1 when the
-- last decision could not list its patches, so what is pending is unknown and the next decision
-- lists the tree; rules: which files were patches then (pushes.patch_rules), so that a push
-- after the patch globs changed reads the tree (a file that was no patch then may be one now).
CREATE TABLE patch_pipeline_branches (
    repo TEXT NOT NULL,
    branch TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    pending TEXT NOT NULL,
    unlisted INTEGER NOT NULL DEFAULT 0,
    rules TEXT NOT NULL DEFAULT '',
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo, branch)
);
CREATE INDEX patch_pipeline_branches_head ON patch_pipeline_branches (repo, head_sha);
