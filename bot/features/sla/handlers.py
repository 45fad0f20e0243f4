"""Webhook handlers: start, pause, resume and stop the clocks. They decide only;
the store changes are ``Record`` actions."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from ...core.actions import Action, Note, Record
from ...core.events import Event, parse_time
from . import store
from .policy import label_names, matching, policies_for
from .responses import response_actions

if TYPE_CHECKING:  # pragma: no cover
    from ...context import Context

AUTHOR_WAIT = ["label:*", "command"]  # pauses the author's answer ends


def _record(ctx: "Context", op: str, **args: Any) -> Record:
    return Record(ctx.repo, feature="sla", op=op, args={"repo": ctx.repo, **args})


def _when(item: Mapping[str, Any], key: str, ctx: "Context") -> datetime:
    """The payload's own timestamp (deliveries may arrive late or out of order)."""
    return parse_time(item.get(key)) or ctx.now()


def _track(ctx: "Context", event: Event) -> Record:
    item = event.item or {}
    user = item.get("user") or {}
    return _record(ctx, "track_item", number=event.number, is_pr=event.is_pull_request,
                   author_id=int(user.get("id") or 0), author_login=str(user.get("login") or ""),
                   opened_at=_when(item, "created_at", ctx).timestamp(), seen_at=ctx.now().timestamp())


def _start(ctx: "Context", number: int, policy, at: datetime) -> Record:
    return _record(ctx, "start_clock", number=number, policy=policy.name, started_at=at.timestamp(),
                   target=policy.target, warn=policy.warn, calendar=policy.calendar)


def _pause_reason(label: str) -> str:
    return f"label:{label.casefold()}"


def _is_pause_label(section: Mapping[str, Any], label: str) -> bool:
    return label.casefold() in {p.casefold() for p in section["pause_labels"]}


async def on_opened(event: Event, ctx: "Context") -> list[Action]:
    section = ctx.rules.section("sla")
    item, number = event.item or {}, event.number
    opened = _when(item, "created_at", ctx)
    labels = label_names(item)
    actions: list[Action] = [_track(ctx, event)]
    entered = matching(policies_for(ctx.rules), is_pr=event.is_pull_request, labels=labels)
    actions += [_start(ctx, number, p, opened) for p in entered]
    actions += [_record(ctx, "open_pause", number=number, reason=_pause_reason(label), at=opened.timestamp())
                for label in labels if _is_pause_label(section, label)]
    if entered:
        actions.append(Note(ctx.repo, feature="sla", number=number,
                            text="SLA clock started for " + ", ".join(p.name for p in entered)))
    return actions


async def on_labeled(event: Event, ctx: "Context") -> list[Action]:
    section = ctx.rules.section("sla")
    item, number = event.item or {}, event.number
    label = str((event.payload.get("label") or {}).get("name") or "")
    at = _when(item, "updated_at", ctx)
    actions: list[Action] = []
    labels = {*label_names(item), label}
    tracked = await store.item(ctx.db, ctx.repo, number)
    have = {c.policy for c in await store.clocks(ctx.db, ctx.repo, number=number)}
    for policy in matching(policies_for(ctx.rules), is_pr=event.is_pull_request, labels=labels):
        if policy.name in have:
            actions.append(_start(ctx, number, policy, at))  # re-entry: ends its "left" pause
        elif tracked is not None and tracked["first_response_at"] is not None:
            actions.append(Note(ctx.repo, feature="sla", number=number,
                                text=f"entered {policy.name} already answered: no clock"))
        else:
            if tracked is None:  # opened before the bot was installed: known from now on
                actions.append(_track(ctx, event))
                tracked = {"first_response_at": None}
            actions.append(_start(ctx, number, policy, at))
            actions.append(Note(ctx.repo, feature="sla", number=number,
                                text=f"SLA clock started for {policy.name} (label {label})"))
    if tracked is not None and _is_pause_label(section, label):
        actions.append(_record(ctx, "open_pause", number=number, reason=_pause_reason(label),
                               at=at.timestamp()))
    if section["label_change_counts"]:
        actions += await response_actions(ctx, number=number, user=event.sender, at=at, kind="label")
    return actions


async def on_unlabeled(event: Event, ctx: "Context") -> list[Action]:
    section = ctx.rules.section("sla")
    item, number = event.item or {}, event.number
    label = str((event.payload.get("label") or {}).get("name") or "")
    at = _when(item, "updated_at", ctx)
    if await store.item(ctx.db, ctx.repo, number) is None:
        return []  # an item the bot does not follow
    actions: list[Action] = [_record(ctx, "label_removed", number=number, label=label, at=at.timestamp())]
    if _is_pause_label(section, label):
        actions.append(_record(ctx, "end_pauses", number=number, reasons=[_pause_reason(label)],
                               at=at.timestamp()))
    labels = [name for name in label_names(item) if name.casefold() != label.casefold()]
    still_in = {p.name for p in matching(policies_for(ctx.rules), is_pr=event.is_pull_request, labels=labels)}
    for clock in await store.clocks(ctx.db, ctx.repo, number=number, unanswered=True):
        if clock.policy not in still_in:
            # Out of the policy: its clock stops counting until the item comes back.
            actions.append(_record(ctx, "open_pause", number=number, reason="policy",
                                   policy=clock.policy, at=at.timestamp()))
    if section["label_change_counts"]:
        actions += await response_actions(ctx, number=number, user=event.sender, at=at, kind="label")
    return actions


async def on_closed(event: Event, ctx: "Context") -> list[Action]:
    item, number = event.item or {}, event.number
    at = _when(item, "closed_at", ctx)
    actions = await response_actions(ctx, number=number, user=event.sender, at=at, kind="close")
    return [*actions, _record(ctx, "set_closed", number=number, closed=True, at=at.timestamp())]


async def on_reopened(event: Event, ctx: "Context") -> list[Action]:
    at = _when(event.item or {}, "updated_at", ctx)
    return [_record(ctx, "set_closed", number=event.number, closed=False, at=at.timestamp())]


async def on_gone(event: Event, ctx: "Context") -> list[Action]:
    """A deleted or transferred issue is owed nothing here any more: its clocks stay
    paused like a closed item's, so it is never counted as open and past due."""
    if await store.item(ctx.db, ctx.repo, event.number) is None:
        return []
    return [_record(ctx, "set_closed", number=event.number, closed=True, at=ctx.now().timestamp()),
            Note(ctx.repo, feature="sla", number=event.number, text=f"issue {event.action}: clocks stopped")]


def _only_sla_commands(body: str) -> bool:
    lines = [line.strip() for line in (body or "").splitlines() if line.strip()]
    return bool(lines) and all(line.startswith("/sla") for line in lines)


async def _reply(ctx: "Context", number: int, user: Mapping[str, Any] | None, at: datetime,
                 kind: str, body: str = "") -> list[Action]:
    tracked = await store.item(ctx.db, ctx.repo, number)
    if tracked is None:
        return []
    if user and user.get("id") is not None and int(user["id"]) == int(tracked["author_id"] or -1):
        # The author answered: whatever waited on them resumes.
        if await store.open_pause_reasons(ctx.db, ctx.repo, number) - {"closed", "policy"}:
            return [_record(ctx, "end_pauses", number=number, reasons=AUTHOR_WAIT, at=at.timestamp())]
        return []
    if _only_sla_commands(body):
        return []  # looking at the clock is not answering the reporter
    return await response_actions(ctx, number=number, user=user, at=at, kind=kind)


async def on_comment(event: Event, ctx: "Context") -> list[Action]:
    comment = event.payload.get("comment") or {}
    return await _reply(ctx, event.number, comment.get("user"), _when(comment, "created_at", ctx),
                        "comment", str(comment.get("body") or ""))


async def on_review(event: Event, ctx: "Context") -> list[Action]:
    review = event.payload.get("review") or {}
    return await _reply(ctx, event.number, review.get("user"), _when(review, "submitted_at", ctx),
                        "review", str(review.get("body") or ""))


HANDLERS = {
    "issues.opened": [on_opened],
    "pull_request.opened": [on_opened],
    "issues.labeled": [on_labeled],
    "pull_request.labeled": [on_labeled],
    "issues.unlabeled": [on_unlabeled],
    "pull_request.unlabeled": [on_unlabeled],
    "issues.closed": [on_closed],
    "pull_request.closed": [on_closed],
    "issues.reopened": [on_reopened],
    "issues.deleted": [on_gone],
    "issues.transferred": [on_gone],
    "pull_request.reopened": [on_reopened],
    "issue_comment.created": [on_comment],
    "pull_request_review.submitted": [on_review],
}
