"""PostgreSQL's periodic jobs: a tick that waited in line past the next one is skipped.

Each tick of a job is queued behind the job's lock. A run that takes longer than the period
(a slow GitHub, a 60 s secondary-limit hold, many repositories) used to leave every tick it
overlapped waiting, and each then ran in turn, late, back to back: the backlog grew for as long
as the runs stayed slow, every stale run costing its full share of API calls. A tick overtaken
by a later one (which is queued too and decides on the same current state) now ends at once.
"""
from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest_asyncio

from bot.features.base import JobSpec
from bot.queue_worker import QueueWorker
from bot.runtime import open_runtime
from bot.settings import Settings

EVERY = 60


@pytest_asyncio.fixture
async def worker(tmp_path):
    runs: list[str] = []

    async def run(jctx):
        runs.append(jctx.period_key)
        return []

    job = JobSpec(name="sweep", every=timedelta(seconds=EVERY), run=run)
    settings = Settings(webhook_secret="s", database_url=f"sqlite:///{tmp_path}/db.sqlite3")
    async with open_runtime(settings, with_github=False) as rt:
        w = QueueWorker(rt, deliveries=False, jobs=[job])
        w.runs = runs
        yield w


async def tick(worker: QueueWorker, timestamp: int, **kw) -> None:
    context = SimpleNamespace(job=SimpleNamespace(id=1, attempts=0))
    await worker.app.tasks["bot.job.sweep"].func(context, timestamp=timestamp, **kw)


def _tick_before(seconds_ago: float) -> int:
    now = time.time() - seconds_ago
    return int(now // EVERY * EVERY)


async def test_a_tick_that_waited_past_the_next_one_is_skipped(worker):
    await tick(worker, _tick_before(5 * EVERY))   # five periods late: later ticks are queued
    await tick(worker, _tick_before(2 * EVERY))
    assert worker.runs == []


async def test_the_current_tick_runs_and_so_does_the_one_at_start(worker):
    current = _tick_before(0)
    await tick(worker, current)
    await tick(worker, _tick_before(5 * EVERY), at_start=True)  # keyed by its own minute
    assert len(worker.runs) == 2 and worker.runs[0] == str(current // EVERY)
