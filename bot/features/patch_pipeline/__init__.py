"""Signed patch verification pipeline (issue 7).

Patches (rules/pipeline.yml ``patches``) are accepted only when signed: each one's
Sigstore bundle is verified keyless first (accepted identities and issuers), with
configured cosign public keys as the fallback; the verdict is the ``patch-signature``
check run. Only when every patch verifies is the pipeline dispatched (patch-apply ->
kselftest -> boot-to-initrd), and its stages are followed on the ``patch-pipeline``
check run from workflow_run/workflow_job events, with a periodic timeout sweep. A run the bot
ends itself is cancelled on GitHub, and that cancel is owed until GitHub confirms it (cancels).
Patches pushed straight to a gated branch (``push_branches``) pass the same gate on the pushed
commit, with ``pr_number`` 0 (pushes).
"""
from __future__ import annotations

from datetime import timedelta

from ...core import pipeline as P
from ...core.markdown import neutralize
from ...store.db import Database
from ..base import CommandSpec, Feature, JobSpec
from . import cli, handlers, store
from .held import check_names, held_checks
from .rules import SECTION


async def status_line(db: Database, repo: str, number: int, head_sha: str | None = None) -> str | None:
    """One line for the PR context card, or None when no patch of this PR was checked; with
    ``head_sha``, None too when the latest decision is about another head (the PR's patches
    were taken out since: an old "not verified" would mislead)."""
    found = await store.latest_for_pr(db, repo, number)
    if found is None:
        return None
    row, run = found
    if head_sha and row["head_sha"] != head_sha:
        return None
    if row["status"] == store.REJECTED:
        return f"Patch signatures: ❌ not verified ({neutralize(row['reason'], max_len=160)})"
    signers = f" (signed by {neutralize(row['signers'], max_len=120)})" if row["signers"] else ""
    return f"Patch pipeline{signers}: {P.one_line(run)}"


FEATURE = Feature(
    name="patch_pipeline",
    handlers={
        "pull_request.opened": [handlers.on_pull_request],
        "pull_request.synchronize": [handlers.on_pull_request],
        "pull_request.reopened": [handlers.on_pull_request],
        "pull_request.edited": [handlers.on_base_changed],
        "push": [handlers.on_push],
        "check_run.rerequested": [handlers.on_check_rerequested],
        "workflow_run": [handlers.on_workflow_run],
        "workflow_job": [handlers.on_workflow_job],
    },
    commands=[CommandSpec(
        name="verify-patch", usage=handlers.USAGE,
        help="Verify the signatures of this pull request's patches again and, if they all verify, "
             "dispatch the verification pipeline (patch-apply, kselftest, boot-to-initrd).",
        roles=("maintainer",), handler=handlers.verify_command, on_issues=False)],
    # Named for the timeouts it began with; it sends the cancels still owed as well.
    jobs=[JobSpec(name="patch-pipeline-timeouts", every=timedelta(seconds=30), run=handlers.sweep)],
    writers=store.WRITERS,
    migrations="bot.features.patch_pipeline.migrations",
    cli=cli.register,
    rules=SECTION,
)

__all__ = ["FEATURE", "check_names", "held_checks", "status_line"]
