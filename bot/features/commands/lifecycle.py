"""/close and /reopen."""
from __future__ import annotations

from ...context import Context
from ...core.actions import Action, Close, Reopen
from ...core.events import Event
from ..base import CommandSpec, Invocation
from . import common
from .errors import CommandError

_REASONS = {"": "completed", "completed": "completed", "not-planned": "not_planned",
            "not_planned": "not_planned"}


async def close(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    arg = inv.args[0].lower() if inv.args else ""
    if len(inv.args) > 1 or arg not in _REASONS:
        raise CommandError("use `/close` or `/close not-planned`")
    if not common.is_open(event):
        return []
    return [Close(repo=ctx.repo, number=common.number(event), reason=_REASONS[arg])]


async def reopen(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    if inv.args:
        raise CommandError("`/reopen` takes no arguments")
    if common.is_open(event):
        return []
    return [Reopen(repo=ctx.repo, number=common.number(event))]


COMMANDS = (
    CommandSpec("close", "/close [not-planned]", "Closes the issue or pull request.",
                ("author", "triager", "maintainer"), close),
    CommandSpec("reopen", "/reopen", "Reopens it.", ("author", "triager", "maintainer"), reopen),
)
