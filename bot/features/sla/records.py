"""The ``Record`` actions the handlers decide (each runs a writer of ``store``)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from ...core.actions import Record
from ...core.events import Event, parse_time

if TYPE_CHECKING:  # pragma: no cover
    from ...context import Context
    from .policy import Policy


def record(ctx: "Context", op: str, **args: Any) -> Record:
    return Record(ctx.repo, feature="sla", op=op, args={"repo": ctx.repo, **args})


def when(item: Mapping[str, Any], key: str, ctx: "Context") -> datetime:
    """The payload's own timestamp (deliveries may arrive late or out of order)."""
    return parse_time(item.get(key)) or ctx.now()


def track(ctx: "Context", event: Event, opened: datetime | None = None) -> Record:
    item = event.item or {}
    user = item.get("user") or {}
    opened = opened or when(item, "created_at", ctx)
    return record(ctx, "track_item", number=event.number, is_pr=event.is_pull_request,
                  author_id=int(user.get("id") or 0), author_login=str(user.get("login") or ""),
                  opened_at=opened.timestamp(), seen_at=ctx.now().timestamp())


def start(ctx: "Context", number: int, policy: "Policy", at: datetime) -> Record:
    return record(ctx, "start_clock", number=number, policy=policy.name, started_at=at.timestamp(),
                  target=policy.target, warn=policy.warn, calendar=policy.calendar)


def pause_reason(label: str) -> str:
    return f"label:{label.casefold()}"


def is_pause_label(waiting: "frozenset[str]", label: str) -> bool:
    """Whether ``label`` is one of ``waiting`` (``policy.pause_labels``: casefolded)."""
    return label.casefold() in waiting


def activity(ctx: "Context", tracked: Mapping[str, Any] | None, number: int, at: datetime,
             *, by_author: bool = False) -> list[Record]:
    """Remember the latest activity on an item still owed an answer (it dates a label
    the bot takes off unseen) and the author's latest answer (it ends a wait on them
    recorded afterwards); nothing when the store knows a later instant already."""
    if tracked is None or tracked.get("first_response_at") is not None:
        return []
    t = at.timestamp()
    newer = tracked.get("activity_at") is None or float(tracked["activity_at"]) < t
    if by_author:
        newer = newer or tracked.get("author_replied_at") is None or float(tracked["author_replied_at"]) < t
    return [record(ctx, "note_activity", number=number, at=t, by_author=by_author)] if newer else []
