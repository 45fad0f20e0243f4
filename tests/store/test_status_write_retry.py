"""Recording how a delivery ended can fail (SQLite locked past its busy timeout, disk full).
The row is then still 'processing', and nothing else of its subject may run: processing
must resume once the database takes writes again, not at the next restart."""
from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time

import pytest

from bot.queue_worker import QueueWorker
from bot.runtime import open_runtime
from bot.settings import Settings
from bot.store import deliveries
from bot.worker import Worker

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PG = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def settings(url: str) -> Settings:
    return Settings(webhook_secret="s", database_url=url, retry_base=0.05)


async def put(db, delivery_id: str, subject: str = "o/r#1") -> None:
    await deliveries.insert(db, delivery_id=delivery_id, event="issues", action="edited", repo="",
                            subject=subject, installation_id=None, body="{}")


async def status(db, delivery_id: str) -> str:
    return (await deliveries.get(db, delivery_id)).status


async def until(predicate, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(worker):
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def failing_first(monkeypatch, name: str, times: int = 1) -> list[int]:
    """``deliveries.<name>`` raises "database is locked" the first ``times`` calls."""
    real, calls = getattr(deliveries, name), []

    async def flaky(db, seq, **kw):
        calls.append(seq)
        if len(calls) <= times:
            raise sqlite3.OperationalError("database is locked")
        return await real(db, seq, **kw)

    monkeypatch.setattr(deliveries, name, flaky)
    return calls


async def done(db, *ids: str) -> bool:
    return all([await status(db, i) == "done" for i in ids])


@SQLITE
@pytest.mark.timeout(60)
async def test_an_end_that_could_not_be_recorded_is_recorded_later_and_the_subject_goes_on(
        database_url, monkeypatch):
    seen: list[str] = []

    async def process(runtime, d):
        seen.append(d.delivery_id)

    async with open_runtime(settings(database_url), with_github=False) as rt:
        await put(rt.db, "d1")
        await put(rt.db, "d2")
        calls = failing_first(monkeypatch, "finish", times=2)
        async with running(Worker(rt, poll=0.05, process=process)):
            await until(lambda: done(rt.db, "d1", "d2"),
                        what="d1 stayed 'processing' and held its subject until a restart")
        assert seen == ["d1", "d2"]  # d1 ran once: its end was written, not its work redone
        assert len(calls) == 4


@SQLITE
@pytest.mark.timeout(60)
async def test_a_failure_that_could_not_be_recorded_is_recorded_later(database_url, monkeypatch):
    seen: list[str] = []

    async def process(runtime, d):
        seen.append(d.delivery_id)
        if seen.count("d1") == 1 and d.delivery_id == "d1":
            raise RuntimeError("GitHub said 502")

    async with open_runtime(settings(database_url), with_github=False) as rt:
        await put(rt.db, "d1")
        await put(rt.db, "d2")
        failing_first(monkeypatch, "fail")
        async with running(Worker(rt, poll=0.05, process=process)):
            await until(lambda: done(rt.db, "d1", "d2"), what="the subject stayed blocked")
        assert seen == ["d1", "d1", "d2"]
        assert (await deliveries.get(rt.db, "d1")).attempts == 2  # the failed one counted


@SQLITE
@pytest.mark.timeout(60)
async def test_shutdown_while_the_database_refuses_writes_does_not_hang_and_start_up_resumes(
        database_url, monkeypatch):
    async def process(runtime, d):
        pass

    async with open_runtime(settings(database_url), with_github=False) as rt:
        await put(rt.db, "d1")
        calls = failing_first(monkeypatch, "finish", times=10**6)
        async with running(Worker(rt, poll=0.05, process=process)):
            await until(lambda: _true(len(calls) >= 2), what="the write was not tried again")
        assert await status(rt.db, "d1") == "processing"
        monkeypatch.undo()
        async with running(Worker(rt, poll=0.05, process=process)):
            await until(lambda: done(rt.db, "d1"), what="start-up did not resume it")


async def _true(value: bool) -> bool:
    return value


@PG
@pytest.mark.timeout(60)
async def test_postgresql_an_end_that_could_not_be_recorded_does_not_block_the_subject(
        database_url, monkeypatch):
    seen: list[str] = []

    async def process(runtime, d):
        seen.append(d.delivery_id)

    async with open_runtime(settings(database_url), with_github=False) as rt:
        await put(rt.db, "d1")
        await put(rt.db, "d2")
        failing_first(monkeypatch, "finish")
        async with running(QueueWorker(rt, process=process, poll=0.1)):
            await until(lambda: done(rt.db, "d1", "d2"), what="the subject stayed blocked")
        # The work queue takes the job back: d1 runs again (its actions are in the ledger).
        assert seen == ["d1", "d1", "d2"]


@SQLITE
@pytest.mark.timeout(60)
async def test_a_fault_around_the_processing_itself_is_a_failed_attempt_not_a_stuck_row(
        database_url, monkeypatch):
    import bot.worker as worker_module

    seen: list[str] = []

    async def process(runtime, d):
        seen.append(d.delivery_id)

    real, calls = worker_module.handle, []

    async def handle(runtime, d, process):
        calls.append(d.delivery_id)
        if len(calls) == 1:
            raise RuntimeError("the log context broke")
        return await real(runtime, d, process)

    monkeypatch.setattr(worker_module, "handle", handle)
    async with open_runtime(settings(database_url), with_github=False) as rt:
        await put(rt.db, "d1")
        await put(rt.db, "d2")
        async with running(Worker(rt, poll=0.05, process=process)):
            await until(lambda: done(rt.db, "d1", "d2"), what="d1 stayed 'processing'")
        assert seen == ["d1", "d2"] and (await deliveries.get(rt.db, "d1")).attempts == 2
