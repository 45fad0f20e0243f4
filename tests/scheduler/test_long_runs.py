"""SQLite scheduler: a job's period is judged by the time when its turn comes, not when the
tick began. Jobs of one tick run one after another: a long one before it used to leave the
next job claiming the period the tick started in, already over, then the current period at
the next tick, seconds later: run twice back to back."""
from __future__ import annotations

from datetime import timedelta

import pytest_asyncio

from bot.features.base import JobSpec
from bot.runtime import open_runtime
from bot.scheduler import Scheduler
from bot.settings import Settings

BASE = 3600.0 * 500_000  # the start of an hour, so of every shorter period too


class Clock:
    def __init__(self) -> None:
        self.now = BASE

    def __call__(self) -> float:
        return self.now


class OnlyThese(Scheduler):
    def __init__(self, runtime, jobs, **kw) -> None:
        super().__init__(runtime, holder="here", **kw)
        self._only = jobs

    def jobs(self):
        return list(self._only)


@pytest_asyncio.fixture
async def runtime(tmp_path):
    settings = Settings(webhook_secret="s", database_url=f"sqlite:///{tmp_path}/db.sqlite3")
    async with open_runtime(settings, with_github=False) as rt:
        yield rt


async def test_a_job_after_a_long_one_is_not_run_twice_back_to_back(runtime):
    clock = Clock()
    ran: list[float] = []

    async def long_report(jctx):
        clock.now += 70  # a slow GitHub: the next minute has begun when it ends
        return []

    async def sweep(jctx):
        ran.append(clock.now)
        return []

    scheduler = OnlyThese(runtime, [
        JobSpec(name="report", every=timedelta(hours=1), run=long_report),
        JobSpec(name="sweep", every=timedelta(minutes=1), run=sweep)], clock=clock)
    await scheduler.run_due()
    clock.now += 10  # the next tick
    await scheduler.run_due()
    assert ran == [BASE + 70]  # once in this minute, not again ten seconds later
    clock.now = BASE + 120  # the minute after: its run is due
    await scheduler.run_due()
    assert ran == [BASE + 70, BASE + 120]


async def test_an_explicit_instant_still_decides_for_every_job(runtime):
    ran: list[str] = []

    async def sweep(jctx):
        ran.append(jctx.period_key)
        return []

    scheduler = OnlyThese(runtime, [JobSpec(name="sweep", every=timedelta(minutes=1), run=sweep)])
    assert await scheduler.run_due(now=BASE) == ["sweep"]
    assert await scheduler.run_due(now=BASE + 30) == []
    assert ran == [str(int(BASE // 60))]
