"""The funnel of a repository or an organisation over a window, from the store."""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Collection, Mapping

from ...core.funnel import BotPolicy, Funnel, compute
from ...store.db import Database
from . import store


def bot_policy(section: Mapping[str, Any]) -> BotPolicy:
    bots = section.get("bots") or {}
    return BotPolicy(deny=tuple(bots.get("deny") or ()), allow=tuple(bots.get("allow") or ()))


def scope_of(repo: str, section: Mapping[str, Any]) -> str:
    """The repository, or its organisation in org mode."""
    return repo.split("/", 1)[0] if section.get("org_mode") else repo


async def funnel_for(db: Database, scope: str, since: datetime, until: datetime,
                     section: Mapping[str, Any], *, among: Collection[str] | None = None) -> Funnel:
    """``among``: only the repositories of these (lower-case) names count."""
    people = await store.contributors(db, scope, section.get("approver_teams") or (),
                                      since.timestamp(), until.timestamp(), among=among)
    # Seconds of arithmetic for a large repository: off the loop that takes the webhooks.
    return await asyncio.to_thread(compute, people, since, until, bot_policy(section))
