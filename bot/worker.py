"""The worker: takes stored deliveries in order per subject and processes them.

Deliveries about one issue/PR run one at a time in arrival order; different subjects
run concurrently. Claims are rows in the deliveries table (``FOR UPDATE SKIP LOCKED``
on PostgreSQL), refreshed by a heartbeat, so a replica killed mid-delivery leaves a
row that another replica takes back once the heartbeat stops.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from typing import TYPE_CHECKING, Awaitable, Callable

from .log import delivery_context
from .store import deliveries, holds
from .store.db import DatabaseUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from .runtime import Runtime
    from .store.deliveries import StoredDelivery

log = logging.getLogger("bot.worker")

HEARTBEAT = 15.0
STALE_AFTER = 90.0
MAX_BACKOFF = 900.0
HOLDS_POLL = 1.0  # seconds between looks at the holds other replicas were given


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
        self.stale_after = float(getattr(runtime.settings, "stale_after", STALE_AFTER))
        # Beat several times per stale interval so a live worker never looks dead.
        self.heartbeat_every = min(HEARTBEAT, self.stale_after / 4)
        self._tasks: set[asyncio.Task] = set()

    @property
    def db(self):
        return self.runtime.db

    async def recover(self) -> None:
        """At start: SQLite has one owner, so every 'processing' row was ours; on
        PostgreSQL only rows whose heartbeat stopped are taken back."""
        if self.db.dialect == "sqlite":
            n = await deliveries.release_stale(self.db, older_than=float("inf"))
        else:
            n = await deliveries.release_stale(self.db, older_than=time.time() - self.stale_after)
        if n:
            log.info("resumed %d unfinished deliveries", n)

    async def run(self, stop: asyncio.Event) -> None:
        await self.recover()
        last_beat = last_stale = last_holds = time.monotonic()
        while not stop.is_set():
            try:
                now = time.monotonic()
                if self.db.dialect != "sqlite" and now - last_holds >= HOLDS_POLL:
                    last_holds = now
                    await self.apply_shared_holds()
                await self.fill()
                now = time.monotonic()
                if now - last_beat > self.heartbeat_every:
                    last_beat = now
                    await self.heartbeat()
                if self.db.dialect != "sqlite" and now - last_stale > self.stale_after / 3:
                    last_stale = now
                    n = await deliveries.release_stale(self.db,
                                                       older_than=time.time() - self.stale_after)
                    if n:
                        log.warning("took back %d deliveries whose worker stopped", n)
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

    async def apply_shared_holds(self) -> None:
        """Wait out Retry-After and secondary-limit holds other replicas were given."""
        github = self.runtime.github
        if github is None:
            return
        for scope, until in await holds.current(self.db, time.time()):
            github.hold(scope, until)

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

    async def heartbeat(self) -> None:
        if self._inflight:
            marks = ",".join("?" * len(self._inflight))
            await self.db.execute(
                f"UPDATE deliveries SET updated_at = ? WHERE seq IN ({marks}) AND status = 'processing'",
                (time.time(), *self._inflight))

    async def _handle(self, d: "StoredDelivery") -> None:
        # Every line about this delivery (here and below) carries its id, event, repo, subject.
        event = f"{d.event}.{d.action}" if d.action else d.event
        with delivery_context(delivery_id=d.delivery_id, event=event, repo=d.repo,
                              subject=d.subject):
            await self._handle_in_context(d)

    async def _handle_in_context(self, d: "StoredDelivery") -> None:
        metrics = self.runtime.metrics
        try:
            await self.process(self.runtime, d)
        except Exception as exc:
            now = time.time()
            # The repository may set core.max_attempts; its rules were read for this delivery.
            rules = (self.runtime.repo_rules.known(d.repo) if d.repo else None) or self.runtime.bundled
            max_attempts = int(rules["core"]["max_attempts"])
            delay = retry_delay(d.attempts + 1, self.runtime.settings.retry_base, exc, now)
            try:
                status = await deliveries.fail(self.db, d.seq, error=f"{type(exc).__name__}: {exc}",
                                               max_attempts=max_attempts, retry_at=now + delay)
            except Exception:
                log.exception("could not record the failure of %s", d.delivery_id)
                return
            metrics.deliveries_failed.labels(event=d.event).inc()
            if status == "dead":
                metrics.deliveries_dead.labels(event=d.event).inc()
                log.error("delivery %s is dead after %d attempts: %s", d.delivery_id,
                          d.attempts + 1, exc, extra={"delivery_id": d.delivery_id})
            else:
                log.warning("delivery %s failed (attempt %d), retry in %.0fs: %s", d.delivery_id,
                            d.attempts + 1, delay, exc, extra={"delivery_id": d.delivery_id})
        else:
            try:
                await deliveries.finish(self.db, d.seq)
            except Exception as exc:
                # The row stays 'processing' and is taken back later (its actions are recorded
                # as done, so the retry repeats none of them).
                log.warning("could not record the end of %s: %s", d.delivery_id, exc)
                return
            metrics.deliveries_processed.labels(event=d.event).inc()
        finally:
            self._inflight.pop(d.seq, None)
            self.wake.set()
