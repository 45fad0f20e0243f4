"""A transferred issue arrives in its new repository as ``issues.opened`` with
``changes.old_issue`` and ``changes.old_repository``. Its clocks carry over (start,
first response, pauses) from the old repository's store, so the move neither resets
what the reporter is owed nor forgets an answer given before it; an item the store did
not follow there counts from the move, as an item the bot first meets by a label does
(its history there is unknown: an issue years old would be past due at once).

GitHub keeps the old issue's ``created_at`` on the moved one, so the move is dated by the
payload's ``updated_at``: the issue as it was at the move, the same in every redelivery of
the opening. The delivery's arrival is no date for it: a redelivery (GitHub's "redeliver",
the bot's recovery of missed deliveries) may be the first the bot sees of it, long after."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ...core.actions import Action, Note
from ...core.events import parse_time
from . import store
from .policy import label_names, pause_labels
from .records import is_pause_label, pause_reason, record, start, track, when

if TYPE_CHECKING:  # pragma: no cover
    from ...context import Context
    from ...core.events import Event
    from .policy import Policy


async def carried_over(event: "Event", ctx: "Context", entered: Sequence["Policy"]) -> list[Action] | None:
    """The opening's actions for a transferred issue; None for any other opening."""
    came_from = event.transferred_from
    if came_from is None:
        return None
    old_repo, old_number = came_from
    item, number = event.item or {}, event.number
    # The arrival only when the payload has no instant; never before the creation.
    moved = max(parse_time(item.get("updated_at")) or event.received_at, when(item, "created_at", ctx))
    old = await store.item(ctx.db, old_repo, old_number)
    opened = store.dt(old["opened_at"]) if old else moved
    clocks = {c.policy: c for c in await store.clocks(ctx.db, old_repo, number=old_number)}
    actions: list[Action] = [track(ctx, event, opened)]
    actions += [start(ctx, number, p, clocks[p.name].started if p.name in clocks else opened)
                for p in entered]
    labels = {name.casefold() for name in label_names(item)}
    carried = {"", *(p.name for p in entered)}
    reasons = set()
    for row in await store.pause_rows(ctx.db, old_repo, old_number):
        reason, policy, ended = row["reason"], row["policy"], row["ended_at"]
        if policy not in carried or (reason == "closed" and ended is None):
            continue  # another policy's, or the move itself (the item is open here)
        if ended is None and (reason == "policy" or (reason.startswith("label:") and reason[6:] not in labels)):
            ended = moved.timestamp()  # in the policy again here, or the label did not come along
        actions.append(record(ctx, "open_pause", number=number, reason=reason, policy=policy,
                              at=float(row["started_at"])))
        if ended is not None:
            actions.append(record(ctx, "end_pauses", number=number, reasons=[reason], policy=policy,
                                  at=float(ended)))
        reasons.add(reason)
    # A waiting label that came without a pause of its own waits from the move.
    actions += [record(ctx, "open_pause", number=number, reason=pause_reason(label), at=moved.timestamp())
                for label in label_names(item)
                if is_pause_label(pause_labels(ctx.rules), label) and pause_reason(label) not in reasons]
    if old is not None and old["first_response_at"] is not None:
        actions.append(record(ctx, "record_response", number=number, at=float(old["first_response_at"]),
                              responder=old["first_responder"], kind=old["first_response_kind"]))
    if old is not None and old["author_replied_at"] is not None:
        actions.append(record(ctx, "note_activity", number=number, at=float(old["author_replied_at"]),
                              by_author=True))
    kept = [p.name for p in entered if p.name in clocks]
    actions.append(Note(ctx.repo, feature="sla", number=number,
                        text=f"transferred from {old_repo}#{old_number}: "
                             + (f"clocks carried over ({', '.join(kept)})" if kept
                                else "counted from its opening there" if old is not None
                                else "not followed there: counted from the move")))
    return actions
