"""The worker: takes stored deliveries in order per subject and processes them.

Deliveries about one issue/PR run one at a time in arrival order; different subjects
run concurrently. On SQLite (one process owns the file) the worker claims rows of the
deliveries table itself and, at start-up, resumes what it left unfinished. On PostgreSQL
the work queue is procrastinate's (``queue_worker``); both record each delivery's outcome
through ``handle`` below.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable

from .log import delivery_context
from .store import deliveries
from .store.db import DatabaseUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from .runtime import Runtime
    from .store.deliveries import StoredDelivery

log = logging.getLogger("bot.worker")

MAX_BACKOFF = 900.0


@dataclass(frozen=True)
class Outcome:
    status: str  # done, failed (retry_at), dead, or unrecorded (the database failed us)
    retry_at: float = 0.0


def retry_delay(attempts: int, base: float, exc: BaseException, now: float) -> float:
    """When to try again: GitHub's own word if it gave one, else exponential backoff."""
    retry_at = getattr(exc, "retry_at", None)
    if retry_at:
        return max(float(retry_at) - now, 1.0)
    delay = min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return delay * random.uniform(0.8, 1.2)


class Worker:
    def __init__(self, runtime: "Runtime", *, concurrency: int = 8, poll: float = 1.0,
                 process: Callable[["Runtime", "StoredDelivery"], Awaitable[object]] | None = None,
                 worker_id: str | None = None) -> None:
        from .pipeline import process as default_process

        self.runtime = runtime
        self.concurrency = concurrency
        self.poll = poll
        self.process = process or default_process
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.wake = asyncio.Event()
        self._inflight: dict[int, str] = {}  # seq -> subject
        self._tasks: set[asyncio.Task] = set()

    @property
    def db(self):
        return self.runtime.db

    async def recover(self) -> None:
        """At start: SQLite has one owner, so every 'processing' row was ours."""
        n = await deliveries.release_stale(self.db)
        if n:
            log.info("resumed %d unfinished deliveries", n)

    async def run(self, stop: asyncio.Event) -> None:
        await self.recover()
        while not stop.is_set():
            try:
                await self.fill()
                self.runtime.metrics.queue_depth.set(await deliveries.queue_depth(self.db))
            except DatabaseUnavailable as exc:
                log.warning("database unavailable, worker waiting: %s", exc)
            except Exception:
                log.exception("worker loop error")
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.poll)
            except asyncio.TimeoutError:
                pass
            self.wake.clear()
        await self.drain()

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def fill(self) -> int:
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return 0
        claimed = await deliveries.claim(self.db, worker=self.id,
                                         busy_subjects=set(self._inflight.values()), limit=free)
        for d in claimed:
            self._inflight[d.seq] = d.subject
            task = asyncio.create_task(self._handle(d))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(claimed)

    async def _handle(self, d: "StoredDelivery") -> None:
        try:
            await handle(self.runtime, d, self.process)
        finally:
            self._inflight.pop(d.seq, None)
            self.wake.set()


async def handle(runtime: "Runtime", d: "StoredDelivery",
                 process: Callable[["Runtime", "StoredDelivery"], Awaitable[object]]) -> Outcome:
    """Process one claimed delivery and record how it went (both back ends)."""
    # Every line about this delivery (here and below) carries its id, event, repo, subject.
    event = f"{d.event}.{d.action}" if d.action else d.event
    with delivery_context(delivery_id=d.delivery_id, event=event, repo=d.repo, subject=d.subject):
        return await _handle_in_context(runtime, d, process)


async def _handle_in_context(runtime: "Runtime", d: "StoredDelivery",
                             process: Callable[["Runtime", "StoredDelivery"], Awaitable[object]]) -> Outcome:
    metrics = runtime.metrics
    try:
        await process(runtime, d)
    except Exception as exc:
        now = time.time()
        # The repository may set core.max_attempts; its rules were read for this delivery.
        rules = (runtime.repo_rules.known(d.repo) if d.repo else None) or runtime.bundled
        max_attempts = int(rules["core"]["max_attempts"])
        delay = retry_delay(d.attempts + 1, runtime.settings.retry_base, exc, now)
        try:
            status = await deliveries.fail(runtime.db, d.seq, error=f"{type(exc).__name__}: {exc}",
                                           max_attempts=max_attempts, retry_at=now + delay)
        except Exception:
            log.exception("could not record the failure of %s", d.delivery_id)
            return Outcome("unrecorded", now + delay)
        metrics.deliveries_failed.labels(event=d.event).inc()
        if status == "dead":
            metrics.deliveries_dead.labels(event=d.event).inc()
            log.error("delivery %s is dead after %d attempts: %s", d.delivery_id,
                      d.attempts + 1, exc, extra={"delivery_id": d.delivery_id})
        else:
            log.warning("delivery %s failed (attempt %d), retry in %.0fs: %s", d.delivery_id,
                        d.attempts + 1, delay, exc, extra={"delivery_id": d.delivery_id})
        return Outcome(status, now + delay)
    try:
        await deliveries.finish(runtime.db, d.seq)
    except Exception as exc:
        # The row stays 'processing' and is taken back later (its actions are recorded
        # as done, so the retry repeats none of them).
        log.warning("could not record the end of %s: %s", d.delivery_id, exc)
        return Outcome("unrecorded", time.time() + runtime.settings.retry_base)
    metrics.deliveries_processed.labels(event=d.event).inc()
    return Outcome("done")
