"""Sandbox deployments: contributors learn on their pull request's card when their merged
change is live in the project's sandbox (a GitHub deployment environment).

A pull request merged into a sandbox branch waits (``pull_request.closed``); a ``success``
deployment status of the sandbox environment whose commit includes its merge commit makes it
live ("Sandbox: live at <url> since <time>"); a ``failure`` or ``error`` says that deployment
failed, with its log, and it waits for the next. With ``create`` the bot asks for the
deployments itself: one GitHub Deployment of each push to a sandbox branch, which the
project's own workflow (``on: deployment``) deploys. No comment, no label: the context card's
status line only (``status_line``, borrowed by pr_context; the card job renders it).
"""
from __future__ import annotations

from datetime import timedelta

from ...store.db import Database
from ..base import Feature, JobSpec
from . import handlers, refresh, store
from .lines import status_text
from .rules import SECTION


async def status_line(db: Database, repo: str, number: int) -> str | None:
    """The card's sandbox line for pull request ``number``, if it was merged into a sandbox branch."""
    row = await store.pull(db, repo, number)
    return status_text(row, wait_days=handlers.WAIT_DAYS) if row else None


FEATURE = Feature(
    name=handlers.FEATURE_NAME,
    handlers={
        "pull_request.closed": [handlers.on_pull_closed],
        "push": [handlers.on_push],
        "deployment_status": [handlers.on_deployment_status],
    },
    jobs=[JobSpec(name="sandbox-cards", every=timedelta(seconds=30), run=refresh.refresh_cards)],
    writers=store.WRITERS,
    migrations="bot.features.sandbox.migrations",
    rules=SECTION,
    # A merge is a fact whoever made it: GitHub's merge queue, a merge bot, the bot's own /merge.
    any_sender=frozenset({"pull_request.closed"}),
)

__all__ = ["FEATURE", "status_line"]
