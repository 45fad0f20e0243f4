"""First-response SLA arithmetic: how much of the budget a clock has used, when it is
due, and what state it is in. Pure: every instant comes in as an argument.

A clock counts time from ``started`` until the first response, minus its pauses
(waiting on the author, item closed, item out of the policy). Time is counted
either as plain elapsed seconds or as working seconds of a business calendar.

All instants are aware datetimes and every subtraction is done in UTC: two aware
datetimes sharing a ZoneInfo subtract as wall-clock times in Python, which is an
hour wrong across a daylight-saving change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

UTC = timezone.utc
# A calendar with no working time at all would never reach a due instant.
_MAX_DAYS = 3 * 366

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("naive datetime: SLA arithmetic needs aware instants")
    return t.astimezone(UTC)


class ElapsedCalendar:
    """Every second counts (the default)."""

    def working_seconds(self, start: datetime, end: datetime) -> float:
        return max(0.0, (_utc(end) - _utc(start)).total_seconds())

    def add(self, start: datetime, seconds: float) -> datetime:
        return _utc(start) + timedelta(seconds=seconds)

    def to_spec(self) -> dict:
        return {}


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours ``start``..``end`` (local wall clock in ``tz``) on ``days``
    (0 = Monday), except ``holidays``. A window is built per local date, so a
    daylight-saving change moves it in UTC and a day spanning the change really
    has 23 or 25 hours."""
    tz: str = "UTC"
    days: frozenset[int] = frozenset(range(5))
    start: time = time(9)
    end: time = time(17)
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # unknown zones fail here, not in the middle of a sweep
        if not self.days:
            raise ValueError("a business calendar needs at least one working day")
        if self.end <= self.start and self.end != time(0):
            raise ValueError("working hours must end after they start")

    @classmethod
    def from_spec(cls, spec: dict) -> "BusinessCalendar":
        days = frozenset(DAY_NAMES.index(d[:3].lower()) for d in spec.get("days", DAY_NAMES[:5]))
        return cls(
            tz=spec.get("timezone", "UTC"),
            days=days,
            start=time.fromisoformat(spec.get("start", "09:00")),
            end=time.fromisoformat(spec.get("end", "17:00")),
            holidays=frozenset(date.fromisoformat(d) for d in spec.get("holidays", [])),
        )

    def to_spec(self) -> dict:
        return {
            "timezone": self.tz,
            "days": [DAY_NAMES[d] for d in sorted(self.days)],
            "start": self.start.isoformat("minutes"),
            "end": self.end.isoformat("minutes"),
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.days or day in self.holidays:
            return None
        zone = ZoneInfo(self.tz)
        opens = datetime.combine(day, self.start, tzinfo=zone)
        # "end: 00:00" means until midnight, i.e. the start of the next local day.
        closes = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
                  if self.end == time(0) else datetime.combine(day, self.end, tzinfo=zone))
        return _utc(opens), _utc(closes)

    def _windows_from(self, t: datetime) -> Iterable[tuple[datetime, datetime]]:
        day = _utc(t).astimezone(ZoneInfo(self.tz)).date() - timedelta(days=1)
        for offset in range(_MAX_DAYS):
            window = self._window(day + timedelta(days=offset))
            if window is not None:
                yield window

    def working_seconds(self, start: datetime, end: datetime) -> float:
        start, end = _utc(start), _utc(end)
        total = 0.0
        if end <= start:
            return total
        for opens, closes in self._windows_from(start):
            if opens >= end:
                break
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant when ``seconds`` of working time have passed since ``start``."""
        start = _utc(start)
        remaining = seconds
        for opens, closes in self._windows_from(start):
            if closes <= start:
                continue
            lo = max(opens, start)
            available = (closes - lo).total_seconds()
            if remaining <= available:
                return lo + timedelta(seconds=remaining)
            remaining -= available
        raise ValueError("the business calendar has no working time in the next three years")


Calendar = ElapsedCalendar | BusinessCalendar


def calendar_from_spec(spec: dict | None) -> Calendar:
    return BusinessCalendar.from_spec(spec) if spec else ElapsedCalendar()


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime | None = None   # None: still paused


@dataclass(frozen=True)
class Clock:
    started: datetime
    target: float                 # seconds of counted time owed
    warn: float                   # seconds of counted time before the warning
    calendar: Calendar = field(default_factory=ElapsedCalendar)
    pauses: Sequence[Pause] = ()
    answered: datetime | None = None


# States, in the order a clock moves through them.
RUNNING, PAUSED, WARNING, BREACHED = "running", "paused", "warning", "breached"
MET, MISSED = "met", "missed"  # answered within / after the target


def _merged(pauses: Sequence[Pause], lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
    """Pause intervals clipped to [lo, hi], overlaps merged (two reasons may overlap)."""
    spans = sorted((max(_utc(p.start), lo), min(_utc(p.end) if p.end else hi, hi)) for p in pauses)
    merged: list[tuple[datetime, datetime]] = []
    for s, e in spans:
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def active_spans(clock: Clock, now: datetime) -> list[tuple[datetime, datetime]]:
    """The intervals that count, from the start to the answer (or ``now``)."""
    lo = _utc(clock.started)
    hi = _utc(clock.answered) if clock.answered else _utc(now)
    if hi <= lo:
        return []
    spans, cursor = [], lo
    for s, e in _merged(clock.pauses, lo, hi):
        if s > cursor:
            spans.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < hi:
        spans.append((cursor, hi))
    return spans


def counted(clock: Clock, now: datetime) -> float:
    """Seconds of the budget used by ``now`` (or by the answer)."""
    return sum(clock.calendar.working_seconds(s, e) for s, e in active_spans(clock, now))


def paused_seconds(clock: Clock, now: datetime) -> float:
    """Elapsed (not working) seconds spent paused so far."""
    lo = _utc(clock.started)
    hi = _utc(clock.answered) if clock.answered else _utc(now)
    return sum((e - s).total_seconds() for s, e in _merged(clock.pauses, lo, hi)) if hi > lo else 0.0


def is_paused(clock: Clock, now: datetime) -> bool:
    now = _utc(now)
    return clock.answered is None and any(
        _utc(p.start) <= now and (p.end is None or _utc(p.end) > now) for p in clock.pauses)


def _instant_for(clock: Clock, now: datetime, budget: float) -> datetime | None:
    """When the counted time reaches ``budget`` assuming no further pause; None while
    paused and not yet reached (the instant depends on when the pause ends)."""
    used = 0.0
    spans = active_spans(clock, now)
    for s, e in spans:
        part = clock.calendar.working_seconds(s, e)
        if used + part >= budget:
            return clock.calendar.add(s, budget - used)
        used += part
    if clock.answered is not None or is_paused(clock, now):
        return None
    resume = spans[-1][1] if spans else max(_utc(clock.started), _utc(now))
    return clock.calendar.add(resume, budget - used)


def due_at(clock: Clock, now: datetime) -> datetime | None:
    return _instant_for(clock, now, clock.target)


def warn_at(clock: Clock, now: datetime) -> datetime | None:
    return _instant_for(clock, now, clock.warn)


def state(clock: Clock, now: datetime) -> str:
    used = counted(clock, now)
    if clock.answered is not None:
        return MET if used <= clock.target else MISSED
    if used >= clock.target:
        return BREACHED
    if is_paused(clock, now):
        return PAUSED
    return WARNING if used >= clock.warn else RUNNING


@dataclass(frozen=True)
class Status:
    state: str
    counted_hours: float
    paused_hours: float
    due: datetime | None
    warn: datetime | None


def status(clock: Clock, now: datetime) -> Status:
    return Status(state(clock, now), counted(clock, now) / 3600, paused_seconds(clock, now) / 3600,
                  due_at(clock, now), warn_at(clock, now))


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation percentile (q in 0..100), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
