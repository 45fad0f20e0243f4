"""A job running longer than its lease keeps it: no other replica runs the same period
while the holder is alive; once the holder is gone the lease runs out as before."""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from types import SimpleNamespace

from bot.features.base import JobSpec
from bot.metrics import Metrics
from bot.scheduler import Scheduler, claim_period, period_key
from bot.store import renames, repo_names

# Short, so the tests are quick; not so short that a loaded machine delays a renewal past it.
LEASE = 1.5


async def test_a_long_job_is_not_taken_over_while_it_runs(db):
    runs: list[str] = []
    release = asyncio.Event()

    async def slow(jctx):
        runs.append(jctx.period_key)
        await release.wait()
        return []

    job = JobSpec(name="slow", every=timedelta(hours=1), run=slow)

    async def no_repos():
        return []

    runtime = SimpleNamespace(db=db, features=[], metrics=Metrics(), bot_login="bot",
                              repo_handles=no_repos, executor=None,
                              name_columns=renames.Declarations.of([repo_names.CORE]))
    a = Scheduler(runtime, holder="a", extra_jobs=[job], lease=LEASE)
    started = time.time()
    running = asyncio.create_task(a.run_due(now=started))
    while not runs:
        await asyncio.sleep(0.01)
    key = period_key(3600, started)
    await asyncio.sleep(3 * LEASE)  # three leases later, a is still running it
    assert not await claim_period(db, "slow", key, "b", time.time(), LEASE)
    release.set()
    assert await running == ["slow"]
    assert runs == [key]
    row = await db.fetchone("SELECT holder, finished_at FROM job_runs WHERE job = 'slow'")
    assert row["holder"] == "a" and row["finished_at"] is not None
