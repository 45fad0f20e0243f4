"""First-response SLA (issue 8): clocks per item and policy, warnings before a
breach, breach labels and escalations, ``/sla`` commands and figures.

Handlers keep the clocks from webhooks (closes, reopens, transfers and label removals
whoever made them); the periodic sweep (also ``python -m bot sla sweep``) reads the
labels the bot changed itself from its ledger and enforces the clocks;
``report.sla_figures`` feeds the report, the weekly report and the dashboard.
"""
from __future__ import annotations

from datetime import timedelta

from ..base import Feature, JobSpec
from .cli import register
from .commands import COMMANDS
from .handlers import ANY_SENDER, HANDLERS
from .ledger import WRITERS as LEDGER_WRITERS
from .rules import SECTION
from .store import GUARDS, WRITERS
from .sweep import run_sweep

SWEEP = JobSpec(name="sla-sweep", every=timedelta(minutes=10), run=run_sweep)

FEATURE = Feature(
    name="sla",
    handlers=HANDLERS,
    commands=COMMANDS,
    jobs=(SWEEP,),
    writers={**WRITERS, **LEDGER_WRITERS},
    guards=GUARDS,
    migrations="bot.features.sla.migrations",
    cli=register,
    rules=SECTION,
    any_sender=ANY_SENDER,
)
