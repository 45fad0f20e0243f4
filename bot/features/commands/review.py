"""/hold, /unhold, /lgtm and /approve: merge gates kept as labels.

``/lgtm cancel``, ``/approve cancel`` and ``/hold cancel`` withdraw. The author of a pull
request cannot /lgtm it (a second pair of eyes is the point); approvers may approve
their own, as in Prow, since approval is about ownership of the code.
"""
from __future__ import annotations

from ...context import Context
from ...core.actions import Action, AddLabels
from ...core.events import Event
from ..base import CommandSpec, Invocation
from . import common
from .errors import CommandError, CommandRefused
from .labeling import label_removals


def _cancel(inv: Invocation) -> bool:
    if not inv.args:
        return False
    if [a.lower() for a in inv.args] == ["cancel"]:
        return True
    raise CommandError(f"use `/{inv.name}` or `/{inv.name} cancel`")


async def _toggle(inv: Invocation, event: Event, ctx: Context, label: str, *, on: bool) -> list[Action]:
    if on:
        if common.has_label(event, label):
            return []
        return [AddLabels(repo=ctx.repo, number=common.number(event), labels=(label,))]
    if not common.has_label(event, label):
        return []
    return await label_removals(ctx, event, [label], strict=True)


async def hold(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    return await _toggle(inv, event, ctx, common.rules(ctx)["labels"]["hold"], on=not _cancel(inv))


async def unhold(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    if inv.args:
        raise CommandError("`/unhold` takes no arguments")
    return await _toggle(inv, event, ctx, common.rules(ctx)["labels"]["hold"], on=False)


async def lgtm(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    cancel = _cancel(inv)
    if not cancel and event.sender_login.lower() == common.item_author(event).lower():
        raise CommandRefused("you cannot LGTM your own pull request; ask a reviewer.")
    return await _toggle(inv, event, ctx, common.rules(ctx)["labels"]["lgtm"], on=not cancel)


async def approve(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    return await _toggle(inv, event, ctx, common.rules(ctx)["labels"]["approved"], on=not _cancel(inv))


COMMANDS = (
    CommandSpec("hold", "/hold [cancel]", "Blocks merging with the do-not-merge/hold label.",
                ("author", "triager", "maintainer", "approver"), hold),
    CommandSpec("unhold", "/unhold", "Lifts /hold.", ("author", "triager", "maintainer", "approver"), unhold),
    CommandSpec("lgtm", "/lgtm [cancel]", "Marks the pull request as reviewed (not by its author).",
                ("triager", "maintainer", "approver"), lgtm, on_issues=False),
    CommandSpec("approve", "/approve [cancel]", "Approves the pull request for merging.",
                ("approver",), approve, on_issues=False),
)
