"""SQLite intake writes on the event loop's thread; it must never sit there waiting
for another process's write lock (the CLI's), nor lose the batch when it cannot."""
from __future__ import annotations

import asyncio
import sqlite3
import time

from bot.store import deliveries
from bot.store.db import connect
from bot.store.group_commit import GroupCommitter, StoreTimeout
from bot.store.migrate import migrate
from bot.runtime import load_features, migration_namespaces


def _item(did: str) -> deliveries.NewDelivery:
    return deliveries.NewDelivery(did, "issues", "opened", "o/r", "o/r#1", 1, '{"id": "%s"}' % did)


async def _database(tmp_path):
    db = await connect(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    await migrate(db, migration_namespaces(load_features()))
    return db


async def test_write_lock_held_elsewhere_waits_off_the_event_loop(tmp_path):
    db = await _database(tmp_path)
    other = sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # e.g. `python -m bot deliveries retry` mid-write
        task = asyncio.create_task(deliveries.insert_many(db, [_item("a")]))
        ticks, started = 0, time.monotonic()
        while time.monotonic() - started < 0.3:  # the loop keeps turning meanwhile
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks >= 10 and not task.done()
        other.execute("COMMIT")
        [result] = await asyncio.wait_for(task, 5)
        assert result.stored
        assert (await deliveries.get(db, "a")).body == '{"id": "a"}'
    finally:
        other.close()
        await db.close()


async def test_group_commit_answers_each_request_and_times_out_when_storage_hangs(tmp_path):
    db = await _database(tmp_path)
    committer = GroupCommitter(db, timeout=0.3)
    try:
        results = await asyncio.gather(*(committer.submit(_item(f"d{i}")) for i in range(20)),
                                       committer.submit(_item("d3")))
        assert [r.stored for r in results] == [True] * 20 + [False]
        other = sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        try:
            await committer.submit(_item("late"))
        except StoreTimeout:
            elapsed = time.monotonic() - started
        else:
            raise AssertionError("a hung store must not keep the request waiting")
        assert 0.25 < elapsed < 1.5
        other.execute("COMMIT")
        other.close()
        # Not lost: stored once the lock is gone (a GitHub retry then finds it stored).
        for _ in range(100):
            if await deliveries.get(db, "late"):
                break
            await asyncio.sleep(0.05)
        assert await deliveries.get(db, "late") is not None
    finally:
        await committer.close()
        await db.close()


async def test_a_batch_of_megabytes_is_written_off_the_event_loop(tmp_path, monkeypatch):
    db = await _database(tmp_path)
    threads = []
    real = deliveries._insert_rows_sqlite

    def spy(conn, items, now, **kw):
        import threading
        threads.append(threading.current_thread() is threading.main_thread())
        return real(conn, items, now, **kw)

    monkeypatch.setattr(deliveries, "_insert_rows_sqlite", spy)
    try:
        small = deliveries.NewDelivery("s", "issues", "opened", "o/r", "o/r#1", 1, '{"a": 1}')
        big = deliveries.NewDelivery("b", "issues", "opened", "o/r", "o/r#1", 1,
                                     '{"log": "%s"}' % ("x" * (deliveries.INLINE_BYTES + 1)))
        assert [r.stored for r in await deliveries.insert_many(db, [small])] == [True]
        assert [r.stored for r in await deliveries.insert_many(db, [big])] == [True]
        assert threads == [True, False]  # the small one on the loop's thread, the big one not
        assert (await deliveries.get(db, "b")).body == big.body
    finally:
        await db.close()
