"""PostgreSQL: replicas share the work through procrastinate. Deliveries are processed once,
never two of one subject at a time (even when the intake transactions of two replicas
commit out of order), a failed one holds its subject's line until its retry, a killed
replica's job is taken back, and periodic jobs run once per tick between replicas."""
from __future__ import annotations

import asyncio
import contextlib
import random
import time
from datetime import timedelta

import pytest

from bot.features.base import JobSpec
from bot.queue_worker import QueueWorker, cron_for, sweep_every, tick_for
from bot.runtime import open_runtime
from bot.settings import Settings
from bot.store import deliveries
from bot.store.jobqueue import DELIVERY_TASK

PG = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def settings(url: str, **kw) -> Settings:
    return Settings(webhook_secret="s", database_url=url, **{"retry_base": 0.05, **kw})


async def put(db, delivery_id: str, subject: str) -> None:
    await deliveries.insert(db, delivery_id=delivery_id, event="issues", action="opened",
                            repo="", subject=subject, installation_id=None, body="{}")


@contextlib.asynccontextmanager
async def running(*workers: QueueWorker):
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def until(predicate, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def test_cron_ticks_at_the_same_boundaries_as_the_period_keys():
    assert cron_for(timedelta(seconds=30)) == "* * * * * */30"
    assert cron_for(timedelta(minutes=10)) == "*/10 * * * *"
    assert cron_for(timedelta(hours=6)) == "0 */6 * * *"
    assert cron_for(timedelta(days=1)) == "0 0 * * *"
    for bad in (timedelta(seconds=7), timedelta(minutes=7), timedelta(days=2), timedelta(seconds=1.5)):
        with pytest.raises(ValueError):
            cron_for(bad)
    # What cron cannot express runs a little more often, never less.
    assert tick_for(timedelta(minutes=7)) == timedelta(minutes=6)
    assert tick_for(timedelta(days=3)) == timedelta(days=1)
    assert tick_for(timedelta(minutes=15)) == timedelta(minutes=15)
    assert tick_for(timedelta(seconds=0.2)) == timedelta(seconds=1)
    assert sweep_every(90) == 30 and sweep_every(3) == 1 and sweep_every(20) == 6


@PG
@pytest.mark.timeout(120)
async def test_replicas_process_each_delivery_once_and_never_two_of_a_subject_at_once(database_url):
    subjects = [f"o/r#{n}" for n in range(6)]
    per_subject = 10
    in_flight: dict[str, str] = {}
    overlaps: list[str] = []
    processed: list[str] = []
    rng = random.Random(3)

    by_worker: dict[str, int] = {}

    def processor(worker: str):
        async def process(runtime, d) -> None:
            if d.subject in in_flight:
                overlaps.append(f"{d.delivery_id} while {in_flight[d.subject]}")
            in_flight[d.subject] = d.delivery_id
            await asyncio.sleep(rng.uniform(0, 0.01))
            in_flight.pop(d.subject, None)
            processed.append(d.delivery_id)
            by_worker[worker] = by_worker.get(worker, 0) + 1
        return process

    async with open_runtime(settings(database_url), with_github=False) as a, \
            open_runtime(settings(database_url), with_github=False) as b:
        workers = [QueueWorker(rt, concurrency=3, process=processor(f"w{k}"), poll=0.2)
                   for k, rt in enumerate((a, b))]

        async def intake(db, k: int) -> None:
            # Slow transactions: a job's id is taken when deferred, it is seen at COMMIT.
            for i in range(per_subject):
                for s in subjects:
                    async with db.transaction():
                        await put(db, f"{s}-{k}-{i}", s)
                        await asyncio.sleep(rng.uniform(0, 0.004))

        async with running(*workers):
            await asyncio.gather(intake(a.db, 0), intake(b.db, 1))
            total = 2 * per_subject * len(subjects)
            await until(lambda: _count(a.db, "done", total), what="not all processed")
    assert len(processed) == len(set(processed)) == total
    assert overlaps == []
    assert set(by_worker) == {"w0", "w1"}, by_worker  # both replicas worked


async def _count(db, status: str, n: int) -> bool:
    return await db.fetchval("SELECT COUNT(*) FROM deliveries WHERE status = ?", (status,)) == n


@PG
@pytest.mark.timeout(60)
async def test_a_subjects_next_delivery_starts_when_the_one_before_ends_not_at_the_next_poll(database_url):
    done: list[str] = []

    async def process(runtime, d) -> None:
        done.append(d.delivery_id)

    async with open_runtime(settings(database_url), with_github=False) as rt:
        # Two replicas that would look for work only once a minute on their own: each job's
        # end must wake them (the other replica too) for the subject's next one.
        workers = [QueueWorker(rt, process=process, poll=60.0) for _ in range(2)]
        async with running(*workers):
            await asyncio.sleep(0.5)  # listening
            for i in range(6):
                await put(rt.db, f"d{i}", "o/r#1")
            await until(lambda: _count(rt.db, "done", 6), timeout=20,
                        what="the subject's next delivery waited for a poll")
    assert done == [f"d{i}" for i in range(6)]


@PG
@pytest.mark.timeout(60)
async def test_a_failing_delivery_keeps_its_subjects_line_until_dead_then_retry_brings_it_back(database_url):
    runs: list[str] = []
    broken = {"a1"}

    async def process(runtime, d) -> None:
        runs.append(d.delivery_id)
        if d.delivery_id in broken:
            raise RuntimeError("GitHub said no")

    async with open_runtime(settings(database_url), with_github=False) as rt:
        await put(rt.db, "a1", "o/r#1")
        await put(rt.db, "a2", "o/r#1")
        await put(rt.db, "b1", "o/r#2")
        worker = QueueWorker(rt, concurrency=4, process=process, poll=0.1)
        async with running(worker):
            await until(lambda: _status(rt.db, "a1", "dead"), what="a1 never went dead")
            await until(lambda: _status(rt.db, "a2", "done"), what="a2 never ran")
            max_attempts = int(rt.bundled["core"]["max_attempts"])
            # a2 waited behind every attempt of a1; b1 (another subject) did not.
            assert runs.index("a2") > max(i for i, r in enumerate(runs) if r == "a1")
            assert runs.count("a1") == max_attempts
            assert runs.index("b1") < max(i for i, r in enumerate(runs) if r == "a1")
            job = await rt.db.fetchone("SELECT status, attempts FROM procrastinate_jobs"
                                       " WHERE args->>'seq' = (SELECT seq::text FROM deliveries"
                                       " WHERE delivery_id = 'a1')")
            assert job == {"status": "failed", "attempts": max_attempts}

            broken.clear()
            assert await deliveries.requeue(rt.db, dead=True) == 1  # `deliveries retry --dead`
            await until(lambda: _status(rt.db, "a1", "done"), what="the retried delivery never ran")
    assert runs.count("a1") == max_attempts + 1


async def _job_waits(db) -> bool:
    return bool(await db.fetchval("SELECT COUNT(*) FROM procrastinate_jobs WHERE task_name = ?"
                                  " AND status = 'todo' AND scheduled_at > now()", (DELIVERY_TASK,)))


async def _status(db, delivery_id: str, status: str) -> bool:
    d = await deliveries.get(db, delivery_id)
    return d is not None and d.status == status


@PG
@pytest.mark.timeout(60)
async def test_a_retry_asked_for_while_waiting_runs_now_and_once(database_url):
    runs: list[str] = []

    async def process(runtime, d) -> None:
        runs.append(d.delivery_id)
        if len(runs) == 1:
            raise RuntimeError("flaky")

    # A long backoff: the first failure would wait minutes for its retry.
    async with open_runtime(settings(database_url, retry_base=300), with_github=False) as rt:
        await put(rt.db, "a1", "o/r#1")
        async with running(QueueWorker(rt, process=process, poll=0.1)):
            await until(lambda: _status(rt.db, "a1", "failed"))
            await until(lambda: _job_waits(rt.db))
            assert await deliveries.requeue(rt.db, delivery_id="a1") == 1
            await until(lambda: _status(rt.db, "a1", "done"), what="the retry waited for its backoff")
        jobs = await rt.db.fetchval("SELECT COUNT(*) FROM procrastinate_jobs WHERE task_name = ?",
                                    (DELIVERY_TASK,))
    assert runs == ["a1", "a1"] and jobs == 1  # the waiting job was made due, not doubled


@PG
@pytest.mark.timeout(60)
async def test_the_job_of_a_killed_replica_is_taken_back_and_counts_as_an_attempt(database_url):
    seen: list[int] = []

    async def process(runtime, d) -> None:
        seen.append(d.attempts)

    async with open_runtime(settings(database_url, stale_after=2.0), with_github=False) as rt:
        await put(rt.db, "a1", "o/r#1")
        worker = QueueWorker(rt, process=process, poll=0.1)
        # The killed replica was also in the middle of a sweep for stalled jobs: that must
        # not stop the sweeps of the others.
        async with worker.app.open_async():
            await worker.app.tasks["bot.retry_stalled_jobs"].defer_async(timestamp=0)
        # A replica took the jobs and was killed: its worker row stopped beating.
        dead = await rt.db.fetchval("INSERT INTO procrastinate_workers (last_heartbeat)"
                                    " VALUES (now() - interval '1 hour') RETURNING id")
        await rt.db.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = ?", (dead,))
        await rt.db.execute("UPDATE deliveries SET status = 'processing', locked_by = 'killed'")
        async with running(worker):
            await until(lambda: _status(rt.db, "a1", "done"), what="the stalled job was not taken back")
        d = await deliveries.get(rt.db, "a1")
        stalled_sweep = await rt.db.fetchval("SELECT status FROM procrastinate_jobs"
                                             " WHERE task_name = 'bot.retry_stalled_jobs' ORDER BY id LIMIT 1")
    assert seen == [1] and d.attempts == 2  # the interrupted run, then this one
    assert stalled_sweep == "succeeded"  # taken back and run too


def ticking(keys: list[str]) -> JobSpec:
    """A job every second that notes each period it runs for."""
    async def run(jctx) -> list:
        keys.append(jctx.period_key)
        return []

    return JobSpec(name="tick", every=timedelta(seconds=1), run=run)


@PG
@pytest.mark.timeout(60)
async def test_a_periodic_job_runs_once_per_tick_between_replicas(database_url):
    keys: list[str] = []
    job = ticking(keys)
    async with open_runtime(settings(database_url), with_github=False) as a, \
            open_runtime(settings(database_url), with_github=False) as b:
        workers = [QueueWorker(rt, deliveries=False, jobs=[job], poll=0.1) for rt in (a, b)]
        async with running(*workers):
            await until(lambda: _after(lambda: len(set(keys)) >= 4), what="the job did not tick")
    assert len(keys) == len(set(keys)), keys


async def _after(check) -> bool:
    return check()


@PG
@pytest.mark.timeout(60)
async def test_succeeded_jobs_are_dropped_after_a_week_failed_ones_kept(database_url):
    async with open_runtime(settings(database_url), with_github=False) as rt:
        for did in ("old", "recent", "dead"):
            await put(rt.db, did, f"o/r#{did}")
        await rt.db.execute("UPDATE procrastinate_jobs SET status = 'succeeded'")
        await rt.db.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE args->>'seq' ="
                            " (SELECT seq::text FROM deliveries WHERE delivery_id = 'dead')")
        await rt.db.execute("UPDATE procrastinate_events SET at = now() - interval '8 days'"
                            " WHERE job_id IN (SELECT id FROM procrastinate_jobs WHERE args->>'seq' IN"
                            " (SELECT seq::text FROM deliveries WHERE delivery_id IN ('old', 'dead')))")
        worker = QueueWorker(rt)
        async with worker.app.open_async():
            await worker._remove_old_jobs(timestamp=0)
        left = await rt.db.fetchall(
            "SELECT d.delivery_id FROM procrastinate_jobs j JOIN deliveries d ON j.args->>'seq' = d.seq::text"
            " ORDER BY d.delivery_id")
    assert [r["delivery_id"] for r in left] == ["dead", "recent"]


class _LosesOneEnd:
    """procrastinate's record of one job's end fails, as when the connection drops just then;
    the database itself stays up, so the worker and its heartbeat go on."""

    def __init__(self, manager, task_name: str) -> None:
        self.lost: list[int] = []
        for method in ("finish_job", "retry_job"):
            real = getattr(manager, method)

            async def fails_once(job, *args, _real=real, **kwargs):
                if job.task_name == task_name and not self.lost:
                    self.lost.append(job.id)
                    raise ConnectionError("server closed the connection unexpectedly")
                return await _real(job, *args, **kwargs)

            setattr(manager, method, fails_once)


@PG
@pytest.mark.timeout(60)
@pytest.mark.parametrize("first_fails", [False, True])
async def test_a_job_whose_end_was_not_recorded_is_taken_back_and_its_subject_goes_on(database_url, first_fails):
    runs: list[str] = []

    async def process(runtime, d) -> None:
        runs.append(d.delivery_id)
        if first_fails and runs == ["a1"]:
            raise RuntimeError("GitHub said no")

    async with open_runtime(settings(database_url), with_github=False) as rt:
        await put(rt.db, "a1", "o/r#1")
        await put(rt.db, "a2", "o/r#1")
        worker = QueueWorker(rt, process=process, poll=0.1)
        worker.end_grace = 1.0
        lossy = _LosesOneEnd(worker.app.job_manager, DELIVERY_TASK)
        async with running(worker):
            # Without the take-back, a1's job stays 'doing' under a live worker: the stalled
            # sweep never takes it, and a2 (same subject, same lock) waits for good.
            await until(lambda: _status(rt.db, "a2", "done"), timeout=20,
                        what="the subject stayed held by the job whose end was lost")
            await until(lambda: _status(rt.db, "a1", "done"), timeout=20)
            assert lossy.lost

            async def both_jobs_succeeded() -> bool:
                # The queue marks a job's end just after the delivery records its own.
                jobs = await rt.db.fetchall("SELECT status FROM procrastinate_jobs WHERE task_name = ?",
                                            (DELIVERY_TASK,))
                return [j["status"] for j in jobs] == ["succeeded", "succeeded"]

            await until(both_jobs_succeeded, timeout=20, what="a job was left unfinished")
    # a1 ran once, or twice when its first attempt failed; taken back, it did not run again.
    assert runs == (["a1", "a1", "a2"] if first_fails else ["a1", "a2"])


@PG
@pytest.mark.timeout(60)
async def test_a_periodic_job_whose_end_was_not_recorded_goes_on_ticking(database_url):
    keys: list[str] = []
    job = ticking(keys)
    async with open_runtime(settings(database_url), with_github=False) as rt:
        worker = QueueWorker(rt, deliveries=False, jobs=[job], poll=0.1)
        worker.end_grace = 1.0
        lossy = _LosesOneEnd(worker.app.job_manager, "bot.job.tick")
        async with running(worker):
            await until(lambda: _after(lambda: bool(lossy.lost)), what="the job never ran")
            ran = len(keys)
            # The lost run's lock ("job:tick") no longer holds the ticks after it.
            await until(lambda: _after(lambda: len(keys) >= ran + 3), timeout=20, what="the job stopped ticking")
