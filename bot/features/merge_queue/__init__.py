"""Merge queue support: the bot's pull-request checks reported on merge-group commits.

A repository that requires ``cla`` (or the configuration or patch checks) and turns on GitHub's
merge queue gets, for each queued pull request, a commit on ``gh-readonly-queue/<base>/pr-<N>-<sha>``
on which GitHub waits for every required check (``merge_group.checks_requested``). The bot reports
there each check it reported on the pull request's head, with the verdict it holds for that head
now, or a failure saying why it has none; the group's checks follow verdict changes until the
group is destroyed (``merge_group.destroyed``) or its pull request closed. "Re-run" on one of them (``check_run`` or
``check_suite`` ``rerequested``) decides the group's checks again. Checks only: no comment, no label.
"""
from __future__ import annotations

from datetime import timedelta

from ..base import Feature, JobSpec
from . import follow, handlers, store
from .rules import SECTION

FEATURE = Feature(
    name=handlers.FEATURE_NAME,
    handlers={
        "merge_group.checks_requested": [handlers.on_checks_requested],
        "merge_group.destroyed": [handlers.on_destroyed],
        "check_run.rerequested": [handlers.on_check_run_rerequested],
        "check_suite.rerequested": [handlers.on_check_suite_rerequested],
        "pull_request.closed": [handlers.on_pull_closed],
    },
    jobs=[JobSpec(name="merge-queue-follow", every=timedelta(seconds=30), run=follow.follow_groups)],
    writers=store.WRITERS,
    migrations="bot.features.merge_queue.migrations",
    rules=SECTION,
)

__all__ = ["FEATURE"]
