"""Group commit for intake: concurrent webhook requests share one transaction.

Each request waits for its own row to be committed (durability before the 202), but
a burst of N requests costs one commit instead of N.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import sqlite3

from . import deliveries
from .db import Database, DatabaseUnavailable
from .deliveries import InsertResult, NewDelivery

log = logging.getLogger("bot.intake")

MAX_BATCH = 256
# GitHub counts a delivery failed after 10 s anyway; with the database gone the pool would
# wait its own 10 s for a connection: intake answers 503 well before.
STORE_TIMEOUT = 5.0


class StoreTimeout(TimeoutError):
    """The row was not committed in time; it may still be (recovery then finds it stored)."""


def _unavailable(exc: BaseException) -> bool:
    """The database itself failed (gone, locked, out of space, timed out), not one row."""
    return isinstance(exc, (DatabaseUnavailable, sqlite3.OperationalError, OSError, TimeoutError))


class GroupCommitter:
    def __init__(self, db: Database, *, timeout: float = STORE_TIMEOUT) -> None:
        self.db = db
        self.timeout = timeout
        self._queue: asyncio.Queue[tuple[NewDelivery, asyncio.Future[InsertResult]]] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        # Deadlines in submit order, checked by one timer rather than a timeout per request:
        # at full load a timer handle per request costs intake a measurable share.
        self._deadlines: collections.deque[tuple[float, asyncio.Future[InsertResult]]] = collections.deque()
        self._sweeper: asyncio.TimerHandle | None = None

    async def submit(self, item: NewDelivery) -> InsertResult:
        """Wait for ``item`` to be committed; ``StoreTimeout`` after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="intake-group-commit")
        future: asyncio.Future[InsertResult] = loop.create_future()
        self._deadlines.append((loop.time() + self.timeout, future))
        if self._sweeper is None:
            self._sweeper = loop.call_at(self._deadlines[0][0], self._sweep)
        self._queue.put_nowait((item, future))
        return await future

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._deadlines and (self._deadlines[0][1].done() or self._deadlines[0][0] <= now):
            _, future = self._deadlines.popleft()
            if not future.done():
                future.set_exception(StoreTimeout(f"not stored within {self.timeout:g}s"))
        # Next at the oldest waiter's deadline, and at least every second so that the
        # answered ones behind it do not pile up.
        self._sweeper = (loop.call_at(min(self._deadlines[0][0], now + 1.0), self._sweep)
                         if self._deadlines else None)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            # One turn of the event loop first: requests whose bytes have already arrived
            # join this batch instead of the next one (fewer, larger commits at load; at
            # rest it costs a loop iteration, microseconds).
            await asyncio.sleep(0)
            while not self._queue.empty() and len(batch) < MAX_BATCH:
                batch.append(self._queue.get_nowait())
            # Requests that already timed out (answered 503) are still stored: GitHub may
            # retry them, and a stored one is then acknowledged as a duplicate.
            # The same delivery twice in one batch: the second is a duplicate of the first.
            await self._store(batch)

    async def _store(self, batch: list[tuple[NewDelivery, asyncio.Future[InsertResult]]]) -> None:
        """Commit ``batch`` and answer its waiters. One row the database refuses (a value it
        cannot encode, say) must not fail the requests that happened to share its batch:
        the batch is split in halves and each half tried again, down to the bad row alone,
        which is the only one to get the error. The store being unavailable is everybody's
        answer at once: trying again row by row would only multiply the wait."""
        try:
            results = await deliveries.insert_many(self.db, [item for item, _ in batch])
        except Exception as exc:
            if len(batch) > 1 and not _unavailable(exc):
                log.warning("a batch of %d deliveries was refused (%s: %s); storing them apart",
                            len(batch), type(exc).__name__, exc)
                middle = len(batch) // 2
                await self._store(batch[:middle])
                await self._store(batch[middle:])
                return
            for _, fut in batch:  # intake answers 503 (unavailable) or 500 (this row)
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, fut), result in zip(batch, results):
            if not fut.done():
                fut.set_result(result)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
