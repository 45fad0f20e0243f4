"""Window bounds as people type them, for the CLI and the dashboard alike."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

UTC = timezone.utc


def parse_instant(text: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or instant, in UTC. A bare date given as an end means the end of
    that day, so since 2026-01-01 until 2026-01-31 is all of January; an instant without
    an offset is UTC, one with an offset is converted. Raises ValueError, also for an
    instant that UTC cannot hold (the day after 9999-12-31, an offset before year 1)."""
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass  # not a bare date: an instant, or nothing
    else:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        try:
            return start + timedelta(days=1) if end_of_day else start
        except OverflowError:
            raise ValueError(f"out of range: {text!r}") from None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError(f"out of range: {text!r}") from None


def _shown(instant: datetime) -> str:
    instant = instant.astimezone(UTC)
    return instant.strftime("%Y-%m-%d" if instant.time() == datetime.min.time() else "%Y-%m-%d %H:%M")


def window_text(since: datetime, until: datetime) -> str:
    """The window as people read it, "from A to B (UTC)": ``until`` is exclusive, so a
    window ending at midnight runs to the day before."""
    until = until.astimezone(UTC)
    if until.time() == datetime.min.time():
        until -= timedelta(days=1)
    return f"from {_shown(since)} to {_shown(until)} (UTC)"
