"""Recovery wired into the service: a periodic job, and one run at start-up.

On SQLite both go through the scheduler's ``job_runs`` claims under one job name; on
PostgreSQL the queue worker runs the same job as a procrastinate periodic task and queues
the start-up pass once per minute between replicas that start together.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from ...context import JobContext
from ...scheduler import claim_period, finish_period, lease_kept, run_job
from ...store.db import DatabaseUnavailable
from ..base import JobSpec
from .runner import recover

if TYPE_CHECKING:  # pragma: no cover
    from ...runtime import Runtime

log = logging.getLogger("bot.recovery")

JOB_NAME = "delivery_recovery"


def recovery_job(runtime: "Runtime", holder: str) -> JobSpec:
    ready_at = time.monotonic() + float(runtime.bundled["recovery"]["startup_delay"])
    # The start-up pass and the scheduler's first tick fall together: one after the other, the
    # second reads only from where the first settled everything (not the log twice over).
    one_at_a_time = asyncio.Lock()

    async def run(jctx: JobContext) -> list:
        # The scheduler's first tick comes before the server listens: wait as at start-up.
        if (wait := ready_at - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        async with one_at_a_time:
            report = await recover(runtime, holder=holder)
        if report.requested or report.failed:
            log.info("recovery: %d redeliveries requested, %d failed", len(report.requested),
                     len(report.failed))
        return []  # it acts itself: redelivery requests are App-level, not a repository's

    every = timedelta(seconds=float(runtime.bundled["recovery"]["every"]))
    return JobSpec(name=JOB_NAME, every=every, run=run)


async def recover_at_startup(runtime: "Runtime", job: JobSpec, *, holder: str,
                             stop: asyncio.Event) -> None:
    """After ``startup_delay`` (the server must be listening when GitHub sends again)."""
    delay = float(runtime.bundled["recovery"]["startup_delay"])
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
        return  # stopping before the delay was over
    except asyncio.TimeoutError:
        pass
    now = time.time()
    key = f"start-{int(now // 60)}"
    try:
        if not await claim_period(runtime.db, job.name, key, holder, now):
            return
        async with lease_kept(runtime.db, job.name, key, holder):
            n = await run_job(runtime, job, key=key)
        await finish_period(runtime.db, job.name, key, f"ok: {n} actions")
    except DatabaseUnavailable as exc:
        log.warning("recovery at start-up skipped, database unavailable: %s", exc)
    except Exception:
        log.exception("recovery at start-up failed (the periodic job tries again)")
