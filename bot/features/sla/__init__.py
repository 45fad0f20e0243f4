"""First-response SLA (issue 8): clocks per item and policy, warnings before a
breach, breach labels and escalations, ``/sla`` commands and figures.

Handlers keep the clocks from webhooks; the periodic sweep (also ``python -m bot
sla sweep``) enforces them; ``report.sla_figures`` feeds the report, the weekly
report and the dashboard.
"""
from __future__ import annotations

from datetime import timedelta

from ..base import Feature, JobSpec
from .cli import register
from .commands import COMMANDS
from .handlers import HANDLERS
from .rules import SECTION
from .store import WRITERS
from .sweep import run_sweep

SWEEP = JobSpec(name="sla-sweep", every=timedelta(minutes=10), run=run_sweep)

FEATURE = Feature(
    name="sla",
    handlers=HANDLERS,
    commands=COMMANDS,
    jobs=(SWEEP,),
    writers=WRITERS,
    migrations="bot.features.sla.migrations",
    cli=register,
    rules=SECTION,
)
