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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from .core.retry import PermanentFailure
from .github.errors import RateLimited
from .github.retry import SECONDARY_DEFAULT_WAIT
from .log import delivery_context
from .store import deliveries
from .store.db import DatabaseUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from .runtime import Runtime
    from .store.deliveries import StoredDelivery

log = logging.getLogger("bot.worker")

MAX_BACKOFF = 900.0
# Recording a delivery's end failed (SQLite locked past its busy timeout, disk full): the
# write is tried again after these waits, doubling, until the database takes it.
RECORD_RETRY_FIRST = 0.5
RECORD_RETRY_MAX = 30.0


@dataclass(frozen=True)
class Outcome:
    status: str  # done, failed (retry_at), dead, or unrecorded (the database failed us)
    retry_at: float = 0.0
    # For "unrecorded": the status write that failed, to be tried again.
    record: Callable[[], Awaitable[Any]] | None = field(default=None, compare=False, repr=False)


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
        self._stop: asyncio.Event | None = None

    @property
    def db(self):
        return self.runtime.db

    async def recover(self) -> None:
        """At start: SQLite has one owner, so every 'processing' row was ours."""
        n = await deliveries.release_stale(self.db)
        if n:
            log.info("resumed %d unfinished deliveries", n)

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
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
            try:
                outcome = await handle(self.runtime, d, self.process)
            except Exception as exc:  # a fault around the processing itself: a failed attempt
                log.exception("handling %s failed", d.delivery_id)
                error = f"{type(exc).__name__}: {exc}"
                outcome = Outcome("unrecorded", record=lambda: deliveries.fail(
                    self.db, d.seq, error=error,
                    max_attempts=int(self.runtime.bundled["core"]["max_attempts"]),
                    retry_at=time.time() + self.runtime.settings.retry_base))
            if outcome.status == "unrecorded" and outcome.record is not None:
                event = f"{d.event}.{d.action}" if d.action else d.event
                with delivery_context(delivery_id=d.delivery_id, event=event, repo=d.repo,
                                      subject=d.subject):
                    await self._record_until_written(d, outcome.record)
        finally:
            self._inflight.pop(d.seq, None)
            self.wake.set()

    async def _record_until_written(self, d: "StoredDelivery", record: Callable[[], Awaitable[Any]]) -> None:
        """The row is still 'processing', and on SQLite nothing else of its subject is
        claimed while it is: left so, the subject would wait until a restart. So the status
        write is tried again, backing off, until the database takes it (the subject stays
        this worker's meanwhile). On shutdown it stops trying: start-up resumes the row."""
        delay = RECORD_RETRY_FIRST
        while True:
            if self._stop is not None:
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                except asyncio.TimeoutError:
                    pass
                else:
                    log.warning("stopping before the end of %s was recorded; it resumes at start-up",
                                d.delivery_id)
                    return
            else:
                await asyncio.sleep(delay)
            try:
                await record()
            except Exception as exc:
                log.warning("still cannot record the end of %s (%s); trying again in %.0fs",
                            d.delivery_id, exc, min(delay * 2, RECORD_RETRY_MAX))
                delay = min(delay * 2, RECORD_RETRY_MAX)
                continue
            log.info("recorded the end of %s after all", d.delivery_id)
            return


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
        error = f"{type(exc).__name__}: {exc}"
        # Held back by GitHub's rate limits (nothing more was sent): no attempt of the
        # delivery's. Counted, hours of an exhausted budget would make deliveries dead.
        # Nor is a wait a feature bounds by time itself (``RetryLater(counted=False)``: the CLA
        # check's grace for a commit listing catching up with a push).
        # Named here: record_failure may run after this except block, when ``exc`` is gone.
        rate_limited = isinstance(exc, RateLimited)
        counted = not rate_limited and getattr(exc, "counted", True)
        # Cannot succeed however often it is tried (the installation is gone, a payload GitHub
        # would not send): dead now, not after max_attempts of the same answer.
        # Except just after the delivery arrived: GitHub can answer 404 to minting a token for an
        # installation made a second ago (not yet everywhere), so that answer is believed only
        # once the delivery is older than the exception's settling time; until then it is an
        # ordinary, counted failure, retried with the backoff.
        final = (isinstance(exc, PermanentFailure)
                 and now - d.received_at >= getattr(exc, "settle_after", 0.0))
        if final:
            max_attempts = 0
        if not counted and not getattr(exc, "retry_at", None):
            # No instant given (a GraphQL RATE_LIMITED without a reset): the backoff, which
            # grows with counted attempts only, would come back every few seconds.
            delay = max(delay, SECONDARY_DEFAULT_WAIT)

        async def record_failure() -> Outcome:
            status = await deliveries.fail(runtime.db, d.seq, error=error,
                                           max_attempts=max_attempts, retry_at=now + delay,
                                           counted=counted)
            metrics.deliveries_failed.labels(event=d.event).inc()
            if status == "dead":
                metrics.deliveries_dead.labels(event=d.event).inc()
            if final:
                log.warning("delivery %s dropped, it cannot succeed: %s", d.delivery_id, error,
                            extra={"delivery_id": d.delivery_id})
            elif status == "dead":
                log.error("delivery %s is dead after %d attempts: %s", d.delivery_id,
                          d.attempts + 1, error, extra={"delivery_id": d.delivery_id})
            elif rate_limited:
                log.warning("delivery %s held back by GitHub's rate limits, retry in %.0fs: %s",
                            d.delivery_id, delay, error, extra={"delivery_id": d.delivery_id})
            elif not counted:
                log.info("delivery %s decided again in %.0fs (no attempt counted): %s",
                         d.delivery_id, delay, error, extra={"delivery_id": d.delivery_id})
            else:
                log.warning("delivery %s failed (attempt %d), retry in %.0fs: %s", d.delivery_id,
                            d.attempts + 1, delay, error, extra={"delivery_id": d.delivery_id})
            return Outcome(status, now + delay)

        try:
            return await record_failure()
        except Exception:
            log.exception("could not record the failure of %s", d.delivery_id)
            return Outcome("unrecorded", now + delay, record=record_failure)

    async def record_end() -> Outcome:
        await deliveries.finish(runtime.db, d.seq)
        metrics.deliveries_processed.labels(event=d.event).inc()
        return Outcome("done")

    try:
        return await record_end()
    except Exception as exc:
        # The row stays 'processing' until the write is made (the SQLite worker tries it
        # again) or the row is taken back (PostgreSQL's work queue; its actions are
        # recorded as done, so that retry repeats none of them).
        log.warning("could not record the end of %s: %s", d.delivery_id, exc)
        return Outcome("unrecorded", time.time() + runtime.settings.retry_base, record=record_end)
