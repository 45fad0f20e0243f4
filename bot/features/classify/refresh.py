"""The ``classify-history`` job: keeps each repository's labelled history fresh, so the
bot has a model of its own as soon as it is installed, without anyone running
``classify train``.

Hourly, it reads the history of the repositories that have none yet or whose copy is
older than ``history_refresh_days``, oldest first and a few per run, so installing the
App on many repositories does not spend the installation's rate limit in one go.
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from ...classify import ClassifierRules
from ...context import JobContext
from ...core.actions import Action, Record
from ..base import JobSpec
from . import store
from .decide import FEATURE
from .history import labelled_issues, ledger

log = logging.getLogger("bot.classify")

REPOS_PER_RUN = 5


def wants_history(section) -> bool:
    """A model file, when named, is the model: the history would not be used."""
    return bool(section["learn_from_history"]) and not section["model_path"]


async def run_history(jctx: JobContext) -> list[Action]:
    now = jctx.now().timestamp()
    reads = await store.history_reads(jctx.db)
    due = []
    for handle in await jctx.repos():
        if not handle.rules.enabled("classify"):
            continue
        section = handle.rules.section("classify")
        last = reads.get(handle.repo)
        if not wants_history(section) or (last is not None and now - last < section["history_refresh_days"] * 86400):
            continue
        due.append((last or 0.0, handle.repo, handle, section))
    due.sort(key=lambda entry: entry[:2])
    actions: list[Action] = []
    for _, repo, handle, section in due[:REPOS_PER_RUN]:
        try:
            found = await labelled_issues(handle.gh, repo, ClassifierRules.from_section(section),
                                          per_kind=int(section["history_per_kind"]),
                                          bot_labelled=ledger(jctx.db, repo))
        except Exception as exc:  # one repository's trouble (an outage, no access) must not stop the others
            log.warning("could not read the labelled history of %s (tried again next hour): %s", repo, exc,
                        extra={"repo": repo})
            continue
        log.info("read the labelled history of %s: %d issues", repo, len(found), extra={"repo": repo})
        actions.append(Record(repo, feature=FEATURE, op="history", args={
            "repo": repo, "examples": [dataclasses.asdict(ex) for ex in found], "read_at": now}))
    return actions


HISTORY = JobSpec(name="classify-history", every=timedelta(hours=1), run=run_history)
