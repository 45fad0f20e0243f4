"""Contributor funnel (issue 9): first contact -> first PR -> first merge -> approver.

Milestones come from live events (handlers), GH Archive hours (importer) and the API
(backfill); ``query.funnel_for`` computes the funnel; a weekly job posts the report as
a Discussion; ``/dashboard`` charts it.
"""
from __future__ import annotations

from ..base import Feature
from .cli import register
from .handlers import HANDLERS
from .rules import SECTION
from .store import WRITERS

FEATURE = Feature(
    name="funnel",
    handlers=HANDLERS,
    writers=WRITERS,
    migrations="bot.features.funnel.migrations",
    rules=SECTION,
    cli=register,
    # A merge queue or bot may merge a person's PR: the author still reached first_merge.
    accepts_bot_events=True,
)
