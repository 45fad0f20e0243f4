"""Routing (issue 3): each kind of issue goes where the project wants it.

Bugs: triage label, an assignee from the rotation, the triage board. Feature requests:
the RFC Draft board and ``rfc/draft``, moved on by ``/rfc``; a weekly agenda lists the
RFCs waiting for review. Questions: a label and a pointer to the support channel, or
nothing. The classify feature calls :func:`plan.route` once a kind is known.
"""
from __future__ import annotations

from datetime import timedelta

from ..base import Feature, JobSpec
from . import lifecycle
from .agenda import JOB_NAME, run_agenda
from .rfc import COMMANDS, on_rfc_label, on_rfc_unlabel
from .rules import SECTION
from .store import WRITERS

AGENDA = JobSpec(name=JOB_NAME, every=timedelta(minutes=15), run=run_agenda)

FEATURE = Feature(
    name="route",
    commands=COMMANDS,
    handlers={"issues.labeled": [on_rfc_label],
              "issues.unlabeled": [on_rfc_unlabel],
              **lifecycle.HANDLERS},
    jobs=(AGENDA,),
    writers=WRITERS,
    migrations="bot.features.route.migrations",
    rules=SECTION,
    any_sender=lifecycle.ANY_SENDER,
)
