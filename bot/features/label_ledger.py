"""The bot removes only labels it added. The executor keeps the ledger of the labels it put
on (``bot.store.state.bot_labels``) and forgets one when it takes it off itself. This
feature forgets one that someone else took off, a person or another bot, whichever feature
had added it (a kind label, ``cla: no``, a routing label...): should it be put back by
hand, it is that person's, and no feature removes it."""
from __future__ import annotations

from ..context import Context
from ..core.actions import Action, Note, Record
from ..core.events import Event
from ..store.state import bot_added, release_bot_label
from .base import Feature

NAME = "labels"
UNLABELED = frozenset({"issues.unlabeled", "pull_request.unlabeled"})


async def on_unlabeled(event: Event, ctx: Context) -> list[Action]:
    item = event.payload.get("issue") or event.payload.get("pull_request") or {}
    label = str((event.payload.get("label") or {}).get("name") or "")
    if not item or not label or event.sender_login.casefold() == ctx.bot_login.casefold():
        return []  # the bot's own removals: the executor forgot those as it made them
    repo, number = ctx.repo, int(item["number"])
    if not await bot_added(ctx.db, repo, number, label):
        return []
    return [Record(repo, feature=NAME, op="released", args={"repo": repo, "number": number, "label": label,
                                                           "removed_by": event.sender_login}),
            Note(repo, feature=NAME, number=number,
                 text=f"label {label} removed by @{event.sender_login}: no longer the bot's to remove")]


FEATURE = Feature(
    name=NAME,
    handlers={qualified: [on_unlabeled] for qualified in UNLABELED},
    writers={"released": release_bot_label},
    # Other bots' removals count too (a label-sync workflow), so these reach it from anyone.
    any_sender=UNLABELED,
)
