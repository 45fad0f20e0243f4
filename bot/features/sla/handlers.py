"""Webhook handlers: start, pause, resume and stop the clocks. They decide only;
the store changes are ``Record`` actions.

Closes, reopens, transfers, deletions and label removals reach these handlers whoever
made them, this bot and other bots included (``any_sender`` in the feature): a close
or a label taken off changes what is owed whoever did it. Nothing a bot does counts
as a response (``responses.why_not``)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from ...core.actions import Action, Note
from . import store
from .policy import answer_commands, label_names, matching, pause_labels, policies_for
from .records import activity, is_pause_label, pause_reason, record, start, track, when
from .responses import response_actions, talks_to_the_bot
from .transfer import carried_over

if TYPE_CHECKING:  # pragma: no cover
    from ...context import Context
    from ...core.events import Event

AUTHOR_WAIT = list(store.AUTHOR_WAIT)  # pauses the author's answer ends
# Reviews that say something to the author whatever their text.
VERDICTS = frozenset({"approved", "changes_requested"})


async def on_opened(event: "Event", ctx: "Context") -> list[Action]:
    waiting = pause_labels(ctx.rules)
    item, number = event.item or {}, event.number
    labels = label_names(item)
    entered = matching(policies_for(ctx.rules), is_pr=event.is_pull_request, labels=labels)
    moved = await carried_over(event, ctx, entered)
    if moved is not None:
        return moved
    opened = when(item, "created_at", ctx)
    actions: list[Action] = [track(ctx, event)]
    actions += [start(ctx, number, p, opened) for p in entered]
    actions += [record(ctx, "open_pause", number=number, reason=pause_reason(label), at=opened.timestamp())
                for label in labels if is_pause_label(waiting, label)]
    if entered:
        actions.append(Note(ctx.repo, feature="sla", number=number,
                            text="SLA clock started for " + ", ".join(p.name for p in entered)))
    return actions


async def on_labeled(event: "Event", ctx: "Context") -> list[Action]:
    section = ctx.rules.section("sla")
    item, number = event.item or {}, event.number
    label = str((event.payload.get("label") or {}).get("name") or "")
    at = when(item, "updated_at", ctx)
    labels = {*label_names(item), label}
    tracked = await store.item(ctx.db, ctx.repo, number)
    actions: list[Action] = [*activity(ctx, tracked, number, at)]
    have = {c.policy for c in await store.clocks(ctx.db, ctx.repo, number=number)}
    for policy in matching(policies_for(ctx.rules), is_pr=event.is_pull_request, labels=labels):
        if policy.name in have:
            actions.append(start(ctx, number, policy, at))  # re-entry: ends its "left" pause
        elif tracked is not None and tracked["first_response_at"] is not None:
            actions.append(Note(ctx.repo, feature="sla", number=number,
                                text=f"entered {policy.name} already answered: no clock"))
        else:
            if tracked is None:  # opened before the bot was installed: known from now on
                actions.append(track(ctx, event))
                tracked = {"first_response_at": None}
            actions.append(start(ctx, number, policy, at))
            actions.append(Note(ctx.repo, feature="sla", number=number,
                                text=f"SLA clock started for {policy.name} (label {label})"))
    if tracked is not None and is_pause_label(pause_labels(ctx.rules), label):
        actions.append(record(ctx, "open_pause", number=number, reason=pause_reason(label),
                              at=at.timestamp()))
    if section["label_change_counts"]:
        actions += await response_actions(ctx, number=number, user=event.sender, at=at, kind="label")
    return actions


async def on_unlabeled(event: "Event", ctx: "Context") -> list[Action]:
    """Whoever took the label off (the bot too: the author's ``/kind``, a reclassified
    edit), a policy the item is no longer in stops counting."""
    section = ctx.rules.section("sla")
    item, number = event.item or {}, event.number
    label = str((event.payload.get("label") or {}).get("name") or "")
    at = when(item, "updated_at", ctx)
    tracked = await store.item(ctx.db, ctx.repo, number)
    if tracked is None:
        return []  # an item the bot does not follow
    actions: list[Action] = [record(ctx, "label_removed", number=number, label=label, at=at.timestamp()),
                             *activity(ctx, tracked, number, at)]
    if is_pause_label(pause_labels(ctx.rules), label):
        actions.append(record(ctx, "end_pauses", number=number, reasons=[pause_reason(label)],
                              at=at.timestamp()))
    labels = [name for name in label_names(item) if name.casefold() != label.casefold()]
    still_in = {p.name for p in matching(policies_for(ctx.rules), is_pr=event.is_pull_request, labels=labels)}
    for clock in await store.clocks(ctx.db, ctx.repo, number=number, unanswered=True):
        if clock.policy not in still_in:
            # Out of the policy: its clock stops counting until the item comes back.
            actions.append(record(ctx, "open_pause", number=number, reason="policy",
                                  policy=clock.policy, at=at.timestamp()))
    if section["label_change_counts"]:
        actions += await response_actions(ctx, number=number, user=event.sender, at=at, kind="label")
    return actions


async def on_edited(event: "Event", ctx: "Context") -> list[Action]:
    """An edit may change the classifier's mind (and the bot's labels): remembered as
    activity, so a label the bot then takes off unseen is dated by it."""
    at = when(event.item or {}, "updated_at", ctx)
    return [*activity(ctx, await store.item(ctx.db, ctx.repo, event.number), event.number, at)]


async def on_closed(event: "Event", ctx: "Context") -> list[Action]:
    item, number = event.item or {}, event.number
    at = when(item, "closed_at", ctx)
    actions = await response_actions(ctx, number=number, user=event.sender, at=at, kind="close")
    return [*actions, record(ctx, "set_closed", number=number, closed=True, at=at.timestamp())]


async def on_reopened(event: "Event", ctx: "Context") -> list[Action]:
    at = when(event.item or {}, "updated_at", ctx)
    return [record(ctx, "set_closed", number=event.number, closed=False, at=at.timestamp())]


async def on_gone(event: "Event", ctx: "Context") -> list[Action]:
    """A deleted or transferred issue is owed nothing here any more: its clocks stay
    paused like a closed item's, so it is never counted as open and past due (a
    transferred one carries its clocks to its new repository: ``transfer``)."""
    if await store.item(ctx.db, ctx.repo, event.number) is None:
        return []
    return [record(ctx, "set_closed", number=event.number, closed=True, at=ctx.now().timestamp()),
            Note(ctx.repo, feature="sla", number=event.number, text=f"issue {event.action}: clocks stopped")]


async def _reply(ctx: "Context", number: int, user: Mapping[str, Any] | None, at: datetime,
                 kind: str, body: str = "", *, verdict: bool = False) -> list[Action]:
    tracked = await store.item(ctx.db, ctx.repo, number)
    if tracked is None:
        return []
    if user and user.get("id") is not None and int(user["id"]) == int(tracked["author_id"] or -1):
        if talks_to_the_bot(body):
            # Only commands (``/sla status``, a refused ``/sla resume``): not the answer
            # the wait is for.
            return [*activity(ctx, tracked, number, at)]
        # The author answered: whatever waited on them resumes, and a wait recorded
        # later (a label the sweep reads from the bot's ledger) ends at this answer.
        actions: list[Action] = [*activity(ctx, tracked, number, at, by_author=True)]
        if await store.open_pause_reasons(ctx.db, ctx.repo, number) - {"closed", "policy"}:
            actions.append(record(ctx, "end_pauses", number=number, reasons=AUTHOR_WAIT, at=at.timestamp()))
        return actions
    actions = [*activity(ctx, tracked, number, at)]
    if not verdict and talks_to_the_bot(body, answer_commands(ctx.rules)):
        return actions  # commands (/label, /triage needs-info, /sla status) answer no one
    return actions + await response_actions(ctx, number=number, user=user, at=at, kind=kind)


async def on_comment(event: "Event", ctx: "Context") -> list[Action]:
    comment = event.payload.get("comment") or {}
    return await _reply(ctx, event.number, comment.get("user"), when(comment, "created_at", ctx),
                        "comment", str(comment.get("body") or ""))


async def on_review(event: "Event", ctx: "Context") -> list[Action]:
    review = event.payload.get("review") or {}
    return await _reply(ctx, event.number, review.get("user"), when(review, "submitted_at", ctx),
                        "review", str(review.get("body") or ""),
                        verdict=str(review.get("state") or "").casefold() in VERDICTS)


HANDLERS = {
    "issues.opened": [on_opened],
    "pull_request.opened": [on_opened],
    "issues.labeled": [on_labeled],
    "pull_request.labeled": [on_labeled],
    "issues.unlabeled": [on_unlabeled],
    "pull_request.unlabeled": [on_unlabeled],
    "issues.edited": [on_edited],
    "issues.closed": [on_closed],
    "pull_request.closed": [on_closed],
    "issues.reopened": [on_reopened],
    "issues.deleted": [on_gone],
    "issues.transferred": [on_gone],
    "pull_request.reopened": [on_reopened],
    "issue_comment.created": [on_comment],
    "pull_request_review.submitted": [on_review],
}

# Facts that hold whoever caused them: the pipeline lets these through from any sender.
ANY_SENDER = frozenset({
    "issues.closed", "pull_request.closed", "issues.reopened", "pull_request.reopened",
    "issues.deleted", "issues.transferred", "issues.unlabeled", "pull_request.unlabeled",
})
