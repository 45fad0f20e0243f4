"""Issue classification (issue 3): every new issue gets a kind, with a confidence and
the signals that fired; below the threshold the author is asked; a human's word wins.

The classifier itself is pure (``bot.classify``); this package turns its decisions
into actions, keeps decisions and human-confirmed examples, and hands known kinds to
the routing feature (``bot.features.route``).
"""
from __future__ import annotations

from ..base import Feature
from .cli import register
from .commands import COMMANDS
from .handlers import HANDLERS
from .refresh import HISTORY
from .rules import SECTION
from .store import WRITERS

FEATURE = Feature(
    name="classify",
    handlers=HANDLERS,
    commands=COMMANDS,
    jobs=(HISTORY,),
    writers=WRITERS,
    migrations="bot.features.classify.migrations",
    rules=SECTION,
    cli=register,
    # A maintainer's /reopen is carried out by the bot, whose own events are otherwise
    # ignored: the kind given while the issue was closed is routed on that reopen as on a
    # person's. Other bots' reopens start nothing (unless in core.allowed_bots).
    own_events=frozenset({"issues.reopened"}),
)
