"""Contributor funnel arithmetic (pure): stages, rates, medians, monthly cohorts.

A contributor's history is reduced to four raw instants (epoch seconds, ``None`` when
never seen): the earliest contact act, pull request opened, pull request merged, and
approver rights gained. Reaching a stage counts the earlier ones as reached, so the
effective instant of a stage is the earliest raw instant of that stage *or any later
one*: someone whose first act is a pull request enters stages 1 and 2 at once, and
every stage is a subset of the one before.

"New" follows devstats: a contributor is new in a window when their effective first
contact falls inside it, i.e. nothing earlier exists anywhere in the stored history.
"""
from __future__ import annotations

import fnmatch
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, NamedTuple, Sequence

STAGES = ("first_contact", "first_pr", "first_merge", "approver")
GHOST_ID = 10137
GHOST_LOGIN = "ghost"

Instants = tuple["float | None", "float | None", "float | None", "float | None"]


def cumulative(raw: Sequence[float | None]) -> Instants:
    """Effective stage instants: each is the earliest of its own and the later stages'."""
    out: list[float | None] = [None] * len(STAGES)
    best: float | None = None
    for i in reversed(range(len(STAGES))):
        value = raw[i]
        if value is not None and (best is None or value < best):
            best = value
        out[i] = best
    return tuple(out)  # type: ignore[return-value]


@dataclass(frozen=True)
class BotPolicy:
    """Who is not a person for the funnel: account type Bot, ``[bot]`` logins and the
    deny-list (shell patterns), minus the allow-list. ``ghost`` never counts."""
    deny: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()

    @staticmethod
    def _matches(login: str, patterns: Iterable[str]) -> bool:
        # Only * and ? are wildcards: "[bot]" in a login is literal.
        return any(fnmatch.fnmatchcase(login, p.lower().replace("[", "[[]")) for p in patterns)

    def excludes(self, login: str, is_bot: bool = False, user_id: int | None = None) -> bool:
        login = (login or "").lower()
        if login == GHOST_LOGIN or user_id == GHOST_ID:
            return True
        if self.allow and self._matches(login, self.allow):
            return False
        return is_bot or login.endswith("[bot]") or bool(self.deny and self._matches(login, self.deny))


class Contributor(NamedTuple):
    # A named tuple, not a dataclass: a funnel over a big repository builds hundreds of
    # thousands of these, and a tuple is several times cheaper to make.
    user_id: int
    login: str
    raw: Instants
    is_bot: bool = False

    @property
    def stages(self) -> Instants:
        return cumulative(self.raw)


@dataclass(frozen=True)
class StageFigure:
    name: str
    contributors: int
    rate_from_first: float | None
    rate_from_previous: float | None
    median_hours_from_previous: float | None

    def to_dict(self) -> dict:
        return {"name": self.name, "contributors": self.contributors,
                "rate_from_first": self.rate_from_first, "rate_from_previous": self.rate_from_previous,
                "median_hours_from_previous": self.median_hours_from_previous}


@dataclass(frozen=True)
class Cohort:
    month: str  # YYYY-MM (UTC) of the first contact
    stages: tuple[StageFigure, ...]

    def to_dict(self) -> dict:
        return {"month": self.month, "stages": [s.to_dict() for s in self.stages]}


@dataclass(frozen=True)
class Funnel:
    since: datetime
    until: datetime
    stages: tuple[StageFigure, ...]
    cohorts: tuple[Cohort, ...]
    # New contributors (logins, by first contact), for welcoming by name.
    newcomers: tuple[str, ...] = field(default=())

    def stage(self, name: str) -> StageFigure:
        return next(s for s in self.stages if s.name == name)

    def to_dict(self) -> dict:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(),
                "stages": [s.to_dict() for s in self.stages],
                "cohorts": [c.to_dict() for c in self.cohorts],
                "newcomers": list(self.newcomers)}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def stage_figures(members: Sequence[Instants], until: float) -> tuple[StageFigure, ...]:
    """Counts reached by ``until`` (exclusive), rates and median hours between stages."""
    counts: list[int] = []
    medians: list[float | None] = []
    for i in range(len(STAGES)):
        reached = [m for m in members if m[i] is not None and m[i] < until]  # type: ignore[operator]
        counts.append(len(reached))
        if i == 0 or not reached:
            medians.append(None)
        else:
            gaps = [(m[i] - m[i - 1]) / 3600 for m in reached]  # type: ignore[operator]
            medians.append(round(statistics.median(gaps), 2))
    return tuple(
        StageFigure(name=name, contributors=counts[i], rate_from_first=_rate(counts[i], counts[0]),
                    rate_from_previous=_rate(counts[i], counts[i - 1]) if i else _rate(counts[0], counts[0]),
                    median_hours_from_previous=medians[i])
        for i, name in enumerate(STAGES))


def month_of(instant: float) -> str:
    return datetime.fromtimestamp(instant, timezone.utc).strftime("%Y-%m")


def _months(instants: Iterable[float]) -> list[str]:
    """UTC months of many instants, formatting each day once."""
    by_day: dict[int, str] = {}
    out = []
    for t in instants:
        day = int(t // 86400)
        month = by_day.get(day)
        if month is None:
            month = by_day[day] = month_of(day * 86400)
        out.append(month)
    return out


def months_between(since: datetime, until: datetime) -> list[str]:
    """Every UTC month the window [since, until) touches."""
    since, until = since.astimezone(timezone.utc), until.astimezone(timezone.utc)
    months, year, month = [], since.year, since.month
    while (year, month) < (until.year, until.month) or (
            (year, month) == (until.year, until.month) and until > datetime(year, month, 1, tzinfo=timezone.utc)):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def compute(contributors: Iterable[Contributor], since: datetime, until: datetime,
            bots: BotPolicy = BotPolicy()) -> Funnel:
    """The funnel of the contributors first seen in [since, until), reached by ``until``."""
    lo, hi = since.timestamp(), until.timestamp()
    newcomers: list[tuple[float, str, Instants]] = []
    for c in contributors:
        # The earliest instant of all is the effective first contact: check the window
        # before anything else, most contributors of a long history fall outside it.
        first = min((v for v in c.raw if v is not None), default=None)
        if first is None or not lo <= first < hi or bots.excludes(c.login, c.is_bot, c.user_id):
            continue
        newcomers.append((first, c.login, cumulative(c.raw)))
    newcomers.sort(key=lambda n: (n[0], n[1].lower()))
    members = [n[2] for n in newcomers]
    by_month: dict[str, list[Instants]] = {m: [] for m in months_between(since, until)}
    for month, (_, _, stages) in zip(_months(n[0] for n in newcomers), newcomers):
        by_month.setdefault(month, []).append(stages)
    cohorts = tuple(Cohort(month, stage_figures(rows, hi)) for month, rows in sorted(by_month.items()))
    return Funnel(since=since, until=until, stages=stage_figures(members, hi), cohorts=cohorts,
                  newcomers=tuple(n[1] for n in newcomers))
