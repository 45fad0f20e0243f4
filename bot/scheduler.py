"""Periodic jobs on SQLite (one process), once per period.

A period is ``floor(now / every)``. Inserting the (job, period) row claims it; a row whose
holder died (lease expired, not finished) is taken over. No in-memory timers carry state:
a restart looks at the table again and does not repeat a period already run. (On
PostgreSQL the jobs are procrastinate periodic tasks, see ``queue_worker``; ``run_job`` and
``period_key`` serve both.)
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, AsyncIterator, Callable, Sequence

from .context import JobContext
from .log import delivery_context
from .store import repo_names
from .store.db import DatabaseUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from .core.actions import Action
    from .executor import Outcome
    from .features.base import JobSpec
    from .runtime import Runtime

log = logging.getLogger("bot.scheduler")

LEASE = 300.0


def period_key(every_seconds: float, now: float) -> str:
    return str(int(now // every_seconds))


async def claim_period(db, job: str, key: str, holder: str, now: float, lease: float = LEASE) -> bool:
    inserted = await db.execute(
        "INSERT INTO job_runs (job, period_key, holder, started_at, lease_until)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (job, period_key) DO NOTHING",
        (job, key, holder, now, now + lease))
    if inserted == 1:
        return True
    taken = await db.execute(
        "UPDATE job_runs SET holder = ?, started_at = ?, lease_until = ?"
        " WHERE job = ? AND period_key = ? AND finished_at IS NULL AND lease_until < ?",
        (holder, now, now + lease, job, key, now))
    return taken == 1


@contextlib.asynccontextmanager
async def lease_kept(db, job: str, key: str, holder: str, lease: float = LEASE) -> AsyncIterator[None]:
    """Extend the lease while the job runs: a job longer than the lease must not be taken
    over (and run a second time) by another replica while its holder is alive."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease / 3)
            try:
                await db.execute("UPDATE job_runs SET lease_until = ? WHERE job = ? AND period_key = ?"
                                 " AND holder = ? AND finished_at IS NULL",
                                 (time.time() + lease, job, key, holder))
            except Exception as exc:  # the lease may run out; the run is idempotent anyway
                log.warning("could not extend the lease of %s: %s", job, exc)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def finish_period(db, job: str, key: str, outcome: str) -> None:
    await db.execute("UPDATE job_runs SET finished_at = ?, outcome = ? WHERE job = ? AND period_key = ?",
                     (time.time(), outcome[:500], job, key))


async def run_job(runtime: "Runtime", job: "JobSpec", *, key: str,
                  clock: Callable[[], datetime] | None = None) -> int:
    """Run one job now and perform its actions; returns the number of actions."""
    jctx = JobContext(db=runtime.db, bot_login=runtime.bot_login, repos=runtime.repo_handles,
                      clock=clock or (lambda: datetime.now(timezone.utc)), period_key=key)
    started = time.time()
    with delivery_context(job=job.name):
        actions = list(await job.run(jctx))
        # The period is the idempotence key: a taken-over run skips what was done.
        await act_as_job(runtime, f"job:{job.name}:{key}", [(job.name, actions)], started=started)
    return len(actions)


async def act_as_job(runtime: "Runtime", run_id: str, batches: "Sequence[tuple[str, Sequence[Action]]]", *,
                     started: float, installation_id: int | None = None) -> "Outcome | None":
    """Perform what a job decided (or a command doing a job's work, e.g. ``report weekly``),
    ``run_id`` being the same in each of its attempts; ``started``: when it began reading
    (epoch seconds). None when there was nothing to do."""
    if not any(actions for _, actions in batches):
        await repo_names.follow_moved_since(runtime.db, runtime.name_columns, started)
        return None
    assert runtime.executor is not None
    try:
        # Each attempt reads the repositories' names afresh: one renamed since an earlier
        # attempt is hashed as that attempt named it, so what it did is skipped.
        hashed_as = await repo_names.names_of_first_attempt(
            runtime.db, run_id, (getattr(a, "repo", "") for _, actions in batches for a in actions))
        return await runtime.executor.run(delivery_id=run_id, installation_id=installation_id,
                                          batches=batches, hashed_as=hashed_as or None)
    finally:
        # A repository renamed while the job ran: what it wrote under the name it had read
        # follows the repository, also when the run failed part-way (its retry comes after
        # its lease, too late for its own follow step to look back this far).
        await repo_names.follow_moved_since(runtime.db, runtime.name_columns, started)


def periodic_jobs(runtime: "Runtime", extra: "Sequence[JobSpec]" = ()) -> list["JobSpec"]:
    """Every feature's periodic jobs, then the service's own (delivery recovery)."""
    return [*(job for f in runtime.features for job in f.jobs), *extra]


class Scheduler:
    def __init__(self, runtime: "Runtime", *, holder: str, tick: float = 10.0,
                 extra_jobs: "Sequence[JobSpec]" = (), lease: float = LEASE,
                 clock: Callable[[], float] = time.time) -> None:
        self.runtime = runtime
        self.holder = holder
        self.tick = tick
        self.lease = lease
        self.clock = clock
        # Jobs of the service itself (delivery recovery) that need more than a JobContext.
        self.extra_jobs = list(extra_jobs)

    def jobs(self) -> list["JobSpec"]:
        return periodic_jobs(self.runtime, self.extra_jobs)

    async def run_due(self, now: float | None = None) -> list[str]:
        """Run the jobs whose current period has not run. ``now`` (tests) fixes the instant
        for every job; otherwise each job's period is judged when its turn comes: the jobs
        before it may have run long, and the instant the tick began may belong to a period
        already over (claimed late, then the current one claimed at the next tick, seconds
        later: the job run twice back to back)."""
        fixed = now
        ran = []
        for job in self.jobs():
            now = self.clock() if fixed is None else fixed
            key = period_key(job.every.total_seconds(), now)
            if not await claim_period(self.runtime.db, job.name, key, self.holder, now, self.lease):
                continue
            try:
                async with lease_kept(self.runtime.db, job.name, key, self.holder, self.lease):
                    n = await run_job(self.runtime, job, key=key)
            except Exception:
                log.exception("job %s failed", job.name, extra={"job": job.name})
                self.runtime.metrics.jobs_run.labels(job=job.name, outcome="failed").inc()
                # Let the lease run out so this replica or another tries again.
                continue
            await finish_period(self.runtime.db, job.name, key, f"ok: {n} actions")
            self.runtime.metrics.jobs_run.labels(job=job.name, outcome="ok").inc()
            ran.append(job.name)
        return ran

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_due()
            except DatabaseUnavailable as exc:
                log.warning("database unavailable, scheduler waiting: %s", exc)
            except Exception:
                log.exception("scheduler tick failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.tick)
            except asyncio.TimeoutError:
                pass
