"""A label the bot added and someone else took off is not the bot's any more: the ledger
forgets it, so should a person put it back the bot never removes it (the bot removes only
labels it added). Each feature releases the labels it adds: classify its kind labels and
needs-triage, route its routing and RFC labels. The bot's own removals never reach
features (the executor forgets those itself)."""
from __future__ import annotations

from typing import Callable

from ...context import Context
from ...core.actions import Action, Note, Record
from ...core.events import Event
from ...store.state import bot_added
from .plan import FEATURE


async def released(event: Event, ctx: Context, feature: str, owns: Callable[[str], bool]) -> list[Action]:
    """For ``issues.unlabeled``: the Record that releases the label, if ``owns`` it and the
    ledger says the bot added it."""
    issue = event.payload.get("issue") or {}
    label = str((event.payload.get("label") or {}).get("name") or "")
    if not issue or not label or event.sender_login.casefold() == ctx.bot_login.casefold() or not owns(label):
        return []
    repo, number = ctx.repo, int(issue["number"])
    if not await bot_added(ctx.db, repo, number, label):
        return []
    return [Record(repo, feature=feature, op="label_released", args={"repo": repo, "number": number, "label": label}),
            Note(repo, feature=feature, number=number,
                 text=f"label {label} removed by @{event.sender_login}: no longer the bot's to remove")]


def routing_labels(section) -> set[str]:
    """Every label routing may add (folded): the routes' labels and the RFC state labels."""
    labels = {label for spec in (section.get("routes") or {}).values() for label in spec["labels"]}
    labels |= {label for label in section["rfc"]["labels"].values() if label}
    return {label.casefold() for label in labels}


async def on_unlabeled(event: Event, ctx: Context) -> list[Action]:
    ours = routing_labels(ctx.rules.section("routing"))
    return await released(event, ctx, FEATURE, lambda label: label.casefold() in ours)
