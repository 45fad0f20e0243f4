"""Small readers the generic commands share: the item, its labels, logins in arguments."""
from __future__ import annotations

import re
from typing import Any, Iterable

from ...context import Context
from ...core.events import Event
from ...core.markdown import code
from ...store import state
from .errors import CommandError

FEATURE_NAME = "commands"
# Enterprise Managed Users' logins end in "_SHORTCODE" (as in bot.core.markdown.is_login).
_LOGIN = re.compile(r"@?([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:_[A-Za-z0-9]{1,20})?)")
_TEAM = re.compile(r"@?([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9_.-]+)")


def rules(ctx: Context) -> dict[str, Any]:
    return ctx.rules.section(FEATURE_NAME)


def number(event: Event) -> int:
    if event.number is None:  # sources only hand over events about an item
        raise CommandError("this command needs an issue or a pull request")
    return event.number


def item_labels(event: Event) -> list[str]:
    return [str(label.get("name")) for label in (event.item or {}).get("labels") or ()
            if isinstance(label, dict) and label.get("name")]


def has_label(event: Event, name: str) -> bool:
    return name.lower() in {label.lower() for label in item_labels(event)}


def is_open(event: Event) -> bool:
    return (event.item or {}).get("state", "open") == "open"


def item_author(event: Event) -> str:
    return str(((event.item or {}).get("user") or {}).get("login") or "")


async def bot_added(ctx: Context, event: Event) -> set[str]:
    """Labels on this item that the bot added (the only ones it may remove), lower case."""
    n = number(event)
    labels = await ctx.cached(f"bot_labels:{ctx.repo}#{n}", lambda: state.bot_labels(ctx.db, ctx.repo, n))
    return {label.lower() for label in labels}


def clipped(text: str, limit: int = 80) -> str:
    """User text on one line, cut to ``limit`` characters: replies and notes quote it, and a
    comment may hold 65,536 characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def shown(text: str) -> str:
    """User text inside our reply: inert as inline code (no pings, links or markup there)."""
    text = clipped(text)
    return code(text) if text else "''"


def logins(args: Iterable[str], *, allow_teams: bool = False) -> tuple[list[str], list[str]]:
    """(@user logins, org/team slugs) named in ``args``; anything else is a usage error."""
    users: list[str] = []
    teams: list[str] = []
    for arg in args:
        if allow_teams and (m := _TEAM.fullmatch(arg)):
            teams.append(m.group(2))
            continue
        m = _LOGIN.fullmatch(arg)
        if not m:
            raise CommandError(f"{shown(arg)} is not a GitHub login")
        if m.group(1).lower() not in {u.lower() for u in users}:
            users.append(m.group(1))
    return users, teams
