"""User-facing outcomes of a command that did nothing.

A command handler (of any feature) may raise these instead of returning actions; the
commands feature puts the message into its one reply to the comment and records it for
``/explain``. Messages are shown as written: neutralise any user text in them
(``bot.core.markdown.neutralize``).
"""
from __future__ import annotations


class CommandError(Exception):
    """The command cannot be carried out as written (bad argument, wrong state...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CommandRefused(CommandError):
    """The user may not do this (beyond the command's roles, e.g. /lgtm on one's own PR)."""
