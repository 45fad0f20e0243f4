"""Which deliveries to ask GitHub for again: a pure function over the App's delivery log.

GitHub lists one entry per attempt (the first delivery and each redelivery, with the same
``guid``), newest first. A delivery is missed when no attempt of the last ``max_age`` got a
2xx answer and the bot has not stored it (a 202 that GitHub counted as a timeout is stored).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

Wanted = Callable[[str, str], bool]


@dataclass(frozen=True)
class Attempt:
    """One row of ``GET /app/hook/deliveries``."""
    id: int
    guid: str
    event: str
    action: str
    status_code: int
    delivered_at: float  # epoch seconds
    redelivery: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> "Attempt":
        return cls(id=int(item["id"]), guid=str(item["guid"]), event=str(item.get("event") or ""),
                   action=str(item.get("action") or ""),
                   status_code=int(item.get("status_code") or 0),
                   delivered_at=parse_time(str(item["delivered_at"])),
                   redelivery=bool(item.get("redelivery")))


@dataclass(frozen=True)
class Missed:
    guid: str
    attempt_id: int   # the latest failed attempt: what POST .../attempts is given
    event: str
    action: str
    first_at: float


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def event_filter(events: Iterable[str], handled: Iterable[str]) -> Wanted:
    """``events`` from the rules ('event' or 'event.action'); empty means ``handled`` (the
    keys of every feature's handlers, in the same two forms)."""
    keys = frozenset(events) or frozenset(handled)

    def wanted(event: str, action: str) -> bool:
        return event in keys or (bool(action) and f"{event}.{action}" in keys)

    return wanted


def missed(attempts: Iterable[Attempt], *, now: float, max_age: float, wanted: Wanted,
           stored: set[str], asked: Mapping[str, tuple[set[int], int]], max_requests: int
           ) -> list[Missed]:
    """Deliveries to ask for, oldest first (GitHub sends them again in about that order).

    ``asked``: guid -> (attempt ids already asked for, number of requests made) so one failed
    attempt is never asked for twice, and one delivery at most ``max_requests`` times.
    """
    cutoff = now - max_age
    by_guid: dict[str, list[Attempt]] = {}
    for a in attempts:
        if a.delivered_at >= cutoff:
            by_guid.setdefault(a.guid, []).append(a)
    out = []
    for guid, tries in by_guid.items():
        if guid in stored or any(t.ok for t in tries):
            continue
        latest = max(tries, key=lambda t: t.id)
        if not wanted(latest.event, latest.action):
            continue
        ids, count = asked.get(guid, (set(), 0))
        if latest.id in ids or count >= max_requests:
            continue
        out.append(Missed(guid=guid, attempt_id=latest.id, event=latest.event,
                          action=latest.action, first_at=min(t.delivered_at for t in tries)))
    out.sort(key=lambda m: (m.first_at, m.attempt_id))
    return out
