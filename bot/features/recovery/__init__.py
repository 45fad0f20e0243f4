"""Missed-delivery recovery (issue 10).

GitHub never retries a failed delivery. While the bot is down, or its database is, every
delivery fails; this feature finds them in the App's delivery log and asks GitHub to send
them again (same ``X-GitHub-Delivery``, so intake deduplicates). It has no handlers: it runs
as a periodic job and once at start-up (see ``service``), app-wide, with the bundled rules.
"""
from __future__ import annotations

from ..base import Feature
from .cli import register
from .rules import SECTION

FEATURE = Feature(name="recovery", rules=SECTION, migrations="bot.features.recovery.migrations",
                  cli=register)
