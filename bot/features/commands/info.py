"""/help and /explain: what the bot can do here, and what it decided and why.

/explain lists the recent decisions every feature recorded on the item (``Note``s:
which rule fired, on which signals, which command was refused and why), newest last,
plus the asker's roles, so a surprising label or a refusal can be understood without
reading logs.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from ...context import Context
from ...core.actions import Action, Comment
from ...core.events import Event
from ...core.markdown import neutralize
from ...store import state
from ..base import CommandSpec, Invocation
from . import common, replies
from .errors import CommandError
from .registry import Registry

RegistrySource = Callable[[Context], Registry]


def make_help(registry_of: RegistrySource):
    async def help_(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
        if len(inv.args) > 1:
            raise CommandError("use `/help` or `/help COMMAND`")
        body = replies.help_text(registry_of(ctx), is_pr=event.is_pull_request,
                                 only=inv.args[0] if inv.args else None)
        return [Comment(repo=ctx.repo, number=common.number(event), body=body)]
    return help_


def _when(at: float) -> str:
    return datetime.fromtimestamp(float(at), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


async def explain(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    n = common.number(event)
    limit = common.rules(ctx)["explain_limit"]
    decisions = await state.decisions_for(ctx.db, ctx.repo, n, limit=limit)
    roles = await ctx.roles_of(event.sender_login, item_author=common.item_author(event))
    kind = "pull request" if event.is_pull_request else "issue"
    lines = [f"What I decided on this {kind}, newest last:", ""]
    if decisions:
        # Summaries may quote users: shown inert.
        lines += [f"- {_when(d['at'])} · **{neutralize(d['feature'], max_len=40)}**: "
                  f"{neutralize(d['summary'], max_len=400)}" for d in decisions]
    else:
        lines.append("- nothing yet.")
    lines += ["", f"Your roles here: {', '.join(replies.ordered_roles(roles))}. `/help` lists the commands."]
    return [Comment(repo=ctx.repo, number=n, body="\n".join(lines))]


def commands(registry_of: RegistrySource) -> tuple[CommandSpec, ...]:
    return (
        CommandSpec("help", "/help [COMMAND]", "Lists the commands and who may use them.",
                    ("anyone",), make_help(registry_of)),
        CommandSpec("explain", "/explain",
                    "Shows what the bot decided here and why (rules, signals, refusals).",
                    ("anyone",), explain),
    )
