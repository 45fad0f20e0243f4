"""Round-robin assignment (pure): the next person after the last one picked, skipping
anyone away, at the cap of open items, or whose open items could not be counted."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence


@dataclass(frozen=True)
class Pick:
    login: str | None
    index: int                     # the position picked (the next turn starts after it)
    skipped: tuple[str, ...] = ()  # who was passed over, with why: "alice (away)"


def next_assignee(people: Sequence[str], last_index: int, *, away: Sequence[str] = (),
                  open_counts: Mapping[str, int | None] | None = None, max_open: int = 0) -> Pick:
    """``open_counts``: None for someone GitHub's search refused (a renamed login)."""
    if not people:
        return Pick(None, last_index)
    away_set = {a.casefold() for a in away}
    counts = {k.casefold(): v for k, v in (open_counts or {}).items()}
    skipped = []
    for step in range(1, len(people) + 1):
        index = (last_index + step) % len(people)
        login = people[index]
        if login.casefold() in away_set:
            skipped.append(f"{login} (away)")
            continue
        if max_open and login.casefold() in counts and counts[login.casefold()] is None:
            skipped.append(f"{login} (search refused)")
            continue
        if max_open and (counts.get(login.casefold()) or 0) >= max_open:
            skipped.append(f"{login} (at {max_open} open)")
            continue
        return Pick(login, index, tuple(skipped))
    return Pick(None, last_index, tuple(skipped))
