"""Contributor funnel (issue 9): first contact -> first PR -> first merge -> approver.

Milestones come from live events (handlers), GH Archive hours (importer) and the API
(backfill); ``query.funnel_for`` computes the funnel; a weekly job posts the report as
a Discussion; ``/dashboard`` charts it.
"""
from __future__ import annotations

from datetime import timedelta

from ...store.renames import NameColumns
from ..base import Feature, JobSpec
from .cli import register
from .dashboard import register as register_web
from .handlers import HANDLERS
from .rules import SECTION
from .store import WRITERS
from .weekly import JOB_NAME, run_weekly

# Checked every quarter hour; each repository's report goes out once its time has come.
WEEKLY_REPORT = JobSpec(name=JOB_NAME, every=timedelta(minutes=15), run=run_weekly)

FEATURE = Feature(
    name="funnel",
    handlers=HANDLERS,
    writers=WRITERS,
    migrations="bot.features.funnel.migrations",
    rules=SECTION,
    cli=register,
    jobs=(WEEKLY_REPORT,),
    web=register_web,
    # A merge queue or bot may merge a person's PR: the author still reached first_merge.
    accepts_bot_events=True,
    repo_names=NameColumns(kept={
        "funnel_repos.name": "keyed by repository id: the funnel follows the name itself, the newest event's",
        "funnel_repos.name_key": "the same name in lower case",
    }),
)
