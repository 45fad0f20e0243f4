"""CLA / DCO check on every pull request (issue 6).

A ``cla`` check run passes only when everyone whose work is in the PR (commit authors,
``Co-authored-by:`` people, committers if the rules say so) and whoever opened it has signed the
current CLA, or is allowlisted; in DCO mode every commit needs a ``Signed-off-by:`` with its author's email.
Signing is a comment with the phrase from the rules; it re-checks every waiting PR at once.
"""
from __future__ import annotations

import json
from datetime import timedelta

from ...core import cla_report
from ...store.db import Database
from ..base import CommandSpec, Feature, JobSpec
from . import cli, handlers, store
from .rules import SECTION
from .standing import check_names, held_check


async def status_line(db: Database, repo: str, head_sha: str) -> str | None:
    """One line for the PR context card, or None when this head was never checked."""
    row = await store.status_by_head(db, repo, head_sha)
    if row is None:
        return None
    missing = [m["login"] for m in json.loads(row["missing"] or "[]")]
    return cla_report.status_line(row["state"], missing, int(row["unlinked"]), int(row["dco"]))


FEATURE = Feature(
    name="cla",
    handlers={
        "pull_request.opened": [handlers.on_pull_request],
        "pull_request.synchronize": [handlers.on_pull_request],
        "pull_request.reopened": [handlers.on_pull_request],
        "pull_request.edited": [handlers.on_base_changed],
        "pull_request.closed": [handlers.on_pull_request_closed],
        "check_run.rerequested": [handlers.on_check_rerequested],
        "issue_comment.created": [handlers.on_comment],
    },
    commands=[CommandSpec(
        name="cla", usage=handlers.USAGE,
        help="`/cla recheck` runs the CLA check again; `/cla record @user` (maintainers) records "
             "a signature made elsewhere.",
        roles=("anyone",), handler=handlers.cla_command)],
    jobs=[JobSpec(name="cla-recheck-signed", every=timedelta(minutes=10), run=handlers.recheck_signed)],
    writers=store.WRITERS,
    guards=store.GUARDS,
    migrations="bot.features.cla.migrations",
    cli=cli.register,
    rules=SECTION,
    # Bot PRs (dependabot, renovate) need the check too, or a required `cla` blocks them;
    # the allowlist in rules/cla.yml decides whether they pass.
    accepts_bot_events=True,
    # The bot closes and reopens pull requests itself (/close, /reopen): a close must stop the
    # waiting, a reopen must check (and wait) again, whoever sent it.
    any_sender=frozenset({"pull_request.closed", "pull_request.reopened"}),
)

__all__ = ["FEATURE", "check_names", "held_check", "status_line"]
