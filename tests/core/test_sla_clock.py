"""SLA clock arithmetic, table-driven, with explicit instants (the fake time source)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from bot.core import sla
from bot.core.sla import BusinessCalendar, Clock, ElapsedCalendar, Pause

UTC = timezone.utc
H = 3600.0


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if "+" not in text else datetime.fromisoformat(text)


T0 = at("2026-03-02T10:00:00")  # a Monday


def clock(**kw) -> Clock:
    base = dict(started=T0, target=72 * H, warn=48 * H)
    base.update(kw)
    return Clock(**base)


@pytest.mark.parametrize("name, c, now, expected_state, counted_h, due", [
    ("fresh", clock(), T0 + timedelta(hours=1), sla.RUNNING, 1, T0 + timedelta(hours=72)),
    ("at warning point", clock(), T0 + timedelta(hours=48), sla.WARNING, 48, T0 + timedelta(hours=72)),
    ("breached", clock(), T0 + timedelta(hours=73), sla.BREACHED, 73, T0 + timedelta(hours=72)),
    ("pause pushes due", clock(pauses=[Pause(T0 + timedelta(hours=10), T0 + timedelta(hours=34))]),
     T0 + timedelta(hours=80), sla.WARNING, 56, T0 + timedelta(hours=96)),
    ("open pause: paused, no due", clock(pauses=[Pause(T0 + timedelta(hours=10))]),
     T0 + timedelta(hours=100), sla.PAUSED, 10, None),
    ("overlapping pauses count once",
     clock(pauses=[Pause(T0 + timedelta(hours=10), T0 + timedelta(hours=20)),
                   Pause(T0 + timedelta(hours=15), T0 + timedelta(hours=30))]),
     T0 + timedelta(hours=40), sla.RUNNING, 20, T0 + timedelta(hours=92)),
    ("breached before a pause stays breached", clock(pauses=[Pause(T0 + timedelta(hours=80))]),
     T0 + timedelta(hours=90), sla.BREACHED, 80, T0 + timedelta(hours=72)),
    ("answered in time", clock(answered=T0 + timedelta(hours=5)), T0 + timedelta(hours=200),
     sla.MET, 5, None),
    ("answered late", clock(answered=T0 + timedelta(hours=75)), T0 + timedelta(hours=200),
     sla.MISSED, 75, T0 + timedelta(hours=72)),
    # A reopened item keeps its start; the closed time is a pause.
    ("reopen keeps the original start",
     clock(pauses=[Pause(T0 + timedelta(hours=2), T0 + timedelta(hours=50))]),
     T0 + timedelta(hours=60), sla.RUNNING, 12, T0 + timedelta(hours=120)),
])
def test_elapsed_clock(name, c, now, expected_state, counted_h, due):
    assert sla.state(c, now) == expected_state
    assert sla.counted(c, now) == pytest.approx(counted_h * H)
    assert sla.due_at(c, now) == due


def test_status_reports_paused_time():
    c = clock(pauses=[Pause(T0 + timedelta(hours=1), T0 + timedelta(hours=4))])
    st = sla.status(c, T0 + timedelta(hours=10))
    assert (st.state, st.counted_hours, st.paused_hours) == (sla.RUNNING, 7, 3)
    assert st.warn == T0 + timedelta(hours=51)


# Business calendar: Mon-Fri 09:00-17:00 Europe/Paris (8 h a day).
PARIS = BusinessCalendar(tz="Europe/Paris")


def paris(text: str) -> datetime:
    from zoneinfo import ZoneInfo
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize("name, start, end, hours", [
    ("inside one day", paris("2026-03-02T10:00"), paris("2026-03-02T12:30"), 2.5),
    ("before opening counts nothing", paris("2026-03-02T06:00"), paris("2026-03-02T09:00"), 0),
    ("overnight", paris("2026-03-02T16:00"), paris("2026-03-03T10:00"), 2),
    ("across a weekend", paris("2026-03-06T15:00"), paris("2026-03-09T11:00"), 4),
    ("a whole weekend is zero", paris("2026-03-07T00:00"), paris("2026-03-09T08:59"), 0),
    # Clocks go forward on 2026-03-29 (Sunday); Friday 16:00 CET -> Monday 10:00 CEST.
    ("weekend with a DST change", paris("2026-03-27T16:00"), paris("2026-03-30T10:00"), 2),
    ("reversed range", paris("2026-03-03T10:00"), paris("2026-03-02T10:00"), 0),
])
def test_business_working_seconds(name, start, end, hours):
    assert PARIS.working_seconds(start, end) == pytest.approx(hours * H)


def test_business_windows_follow_local_time_across_dst():
    # Monday 30 March, after the change, 09:00 Paris is 07:00 UTC (it was 08:00 UTC the week before).
    assert PARIS.add(at("2026-03-30T00:00:00"), 0) == at("2026-03-30T07:00:00")
    assert PARIS.add(at("2026-03-23T00:00:00"), 0) == at("2026-03-23T08:00:00")


def test_day_spanning_the_change_has_23_hours():
    round_the_clock = BusinessCalendar(tz="Europe/Paris", days=frozenset(range(7)),
                                       start=time(0), end=time(0))
    assert round_the_clock.working_seconds(paris("2026-03-29T00:00"), paris("2026-03-30T00:00")) == 23 * H
    assert round_the_clock.working_seconds(paris("2026-10-25T00:00"), paris("2026-10-26T00:00")) == 25 * H


@pytest.mark.parametrize("name, start, hours, due", [
    ("same day", paris("2026-03-02T10:00"), 3, paris("2026-03-02T13:00")),
    ("rolls to next morning", paris("2026-03-02T16:00"), 3, paris("2026-03-03T11:00")),
    ("opened on Saturday", paris("2026-03-07T12:00"), 1, paris("2026-03-09T10:00")),
    ("72 working hours is 9 working days", paris("2026-03-02T09:00"), 72, paris("2026-03-12T17:00")),
    ("across the DST weekend", paris("2026-03-27T16:00"), 2, paris("2026-03-30T10:00")),
    ("exact end of day stays on that day", paris("2026-03-02T09:00"), 8, paris("2026-03-02T17:00")),
])
def test_business_add(name, start, hours, due):
    assert PARIS.add(start, hours * H) == due.astimezone(UTC)


def test_holidays_are_skipped():
    cal = BusinessCalendar(tz="Europe/Paris", holidays=frozenset({date(2026, 3, 3)}))
    assert cal.add(paris("2026-03-02T16:00"), 2 * H) == paris("2026-03-04T10:00").astimezone(UTC)


def test_business_clock_with_pause_and_weekend():
    # Opened Friday 15:00, paused Friday 16:00 -> Monday 10:00, target 8 working hours.
    c = Clock(started=paris("2026-03-06T15:00"), target=8 * H, warn=6 * H, calendar=PARIS,
              pauses=[Pause(paris("2026-03-06T16:00"), paris("2026-03-09T10:00"))])
    now = paris("2026-03-09T12:00")
    assert sla.counted(c, now) == 3 * H
    assert sla.due_at(c, now) == paris("2026-03-09T17:00").astimezone(UTC)
    assert sla.warn_at(c, now) == paris("2026-03-09T15:00").astimezone(UTC)
    assert sla.state(c, now) == sla.RUNNING
    assert sla.state(c, paris("2026-03-09T15:30")) == sla.WARNING
    assert sla.state(c, paris("2026-03-10T09:30")) == sla.BREACHED


def test_calendar_spec_round_trip():
    spec = {"timezone": "America/New_York", "days": ["mon", "wed"], "start": "08:30", "end": "12:00",
            "holidays": ["2026-07-01"]}
    cal = sla.calendar_from_spec(spec)
    assert cal.to_spec() == spec
    assert isinstance(sla.calendar_from_spec({}), ElapsedCalendar)


@pytest.mark.parametrize("spec", [
    {"timezone": "Mars/Olympus"},
    {"days": []},
    {"start": "17:00", "end": "09:00"},
])
def test_bad_calendars_are_refused(spec):
    with pytest.raises(Exception):
        BusinessCalendar.from_spec(spec)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        sla.counted(clock(), datetime(2026, 3, 3))


@pytest.mark.parametrize("values, q, expected", [
    ([], 50, None), ([4.0], 90, 4.0), ([1, 2, 3, 4], 50, 2.5), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.1),
])
def test_percentile(values, q, expected):
    assert sla.percentile(values, q) == (pytest.approx(expected) if expected is not None else None)
