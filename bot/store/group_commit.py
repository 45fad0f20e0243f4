"""Group commit for intake: concurrent webhook requests share one transaction.

Each request waits for its own row to be committed (durability before the 202), but
a burst of N requests costs one commit instead of N.
"""
from __future__ import annotations

import asyncio
import logging

from . import deliveries
from .db import Database
from .deliveries import InsertResult, NewDelivery

log = logging.getLogger("bot.intake")

MAX_BATCH = 256


class GroupCommitter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: asyncio.Queue[tuple[NewDelivery, asyncio.Future[InsertResult]]] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    async def submit(self, item: NewDelivery) -> InsertResult:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="intake-group-commit")
        future: asyncio.Future[InsertResult] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < MAX_BATCH:
                batch.append(self._queue.get_nowait())
            # The same delivery twice in one batch: the second is a duplicate of the first.
            try:
                results = await deliveries.insert_many(self.db, [item for item, _ in batch])
            except Exception as exc:  # every waiter learns it (503 at intake)
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), result in zip(batch, results):
                if not fut.done():
                    fut.set_result(result)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
