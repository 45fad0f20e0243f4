"""PostgreSQL: deliveries and periodic jobs run through procrastinate, shared by all replicas.

- A delivery is a procrastinate job (deferred by intake in the transaction that stores it,
  see ``store.jobqueue``) whose lock is its subject: procrastinate runs each job once, and
  the jobs of one subject one at a time, in the order they were queued, across replicas.
  A failed attempt goes back in line as procrastinate's retry, at the time the bot
  decided (GitHub's ``Retry-After``, else backoff); it keeps its subject's place meanwhile.
- Each periodic job is a procrastinate periodic task: every replica's deferrer offers
  each cron tick, procrastinate queues it once, one replica runs it. A tick that waited in line
  until the next one was due (a run before it outlasted the period) is skipped.
- A replica killed with -9 stops its procrastinate heartbeat; a periodic sweep puts the
  jobs it held back in line (procrastinate's stalled-jobs API), and the delivery's next
  attempt knows it is a retry.
- A job whose end procrastinate failed to record (the connection dropped just then) would
  stay ``doing`` under a worker that is alive, so no sweep would take it back, and its lock
  would hold the subject's later deliveries for good. Each replica remembers the jobs it
  ran to their end and, after ``END_GRACE``, puts back in line any still ``doing`` at that
  attempt; run again, a delivery that had ended finds it so and returns.

The deliveries table still records each delivery's state, for ``deliveries`` and
``/metrics``; this module only replaces how the work is handed out.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Sequence

from .scheduler import period_key, run_job
from .store import deliveries, holds, jobqueue
from .core.retry import RetryLater
from .store.db import DatabaseUnavailable
from .store.jobqueue import DELIVERIES_QUEUE, DELIVERY_TASK, JOBS_QUEUE
from .worker import handle

if TYPE_CHECKING:  # pragma: no cover
    import procrastinate

    from .features.base import JobSpec
    from .runtime import Runtime
    from .store.deliveries import StoredDelivery

log = logging.getLogger("bot.queue")

HOLDS_POLL = 1.0    # seconds between looks at the holds other replicas were given
RESTART_PAUSE = 2.0  # after the queue worker stopped on an error (the database went away)
KEEP_JOBS_HOURS = 24 * 7
JOB_RETRIES = 3      # attempts of a failed periodic job within its period
# After a job's task returned, how long procrastinate gets to record its end before the
# replica takes the job back (it normally takes milliseconds).
END_GRACE = 30.0
_SECOND_STEPS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
# How long after a tick came due the ones before it count as overtaken (procrastinate's
# deferrer queues a tick at its instant; this covers its lag).
OVERTAKEN_SLACK = 5.0


class DeliveryDead(Exception):
    """The delivery used up its attempts (``deliveries retry`` brings it back)."""


def cron_for(every: timedelta) -> str:
    """A cron expression ticking at each multiple of ``every`` since the epoch (UTC), so a
    tick's timestamp gives the same period key as on SQLite. ``every`` must divide a day."""
    s = int(every.total_seconds())
    if s != every.total_seconds() or s <= 0:
        raise ValueError(f"period {every} is not a whole number of seconds")
    if s < 60 and 60 % s == 0:
        return f"* * * * * */{s}"
    if s % 60 == 0 and s < 3600 and 3600 % s == 0:
        return f"*/{s // 60} * * * *"
    if s % 3600 == 0 and s <= 86400 and 86400 % s == 0:
        return f"0 */{s // 3600} * * *" if s < 86400 else "0 0 * * *"
    raise ValueError(f"period {every} does not divide a day evenly (cron cannot express it)")


def tick_for(every: timedelta) -> timedelta:
    """The longest period cron can express that is not longer than ``every`` (a rules file
    may ask for 7 minutes: the job then runs every 6)."""
    s = every.total_seconds()
    steps = sorted({*_SECOND_STEPS, *(60 * m for m in (*_SECOND_STEPS, 60)),
                    *(3600 * h for h in (1, 2, 3, 4, 6, 8, 12, 24))})
    return timedelta(seconds=max([t for t in steps if t <= s] or [1]))


def overtaken(timestamp: float, every: float, now: float) -> bool:
    """Whether a periodic job's tick at ``timestamp`` has been overtaken by the next one (due
    a while ago, so queued by now): a run that took longer than the period holds the ticks it
    overlapped behind the job's lock."""
    return now >= timestamp + every + min(every, OVERTAKEN_SLACK)


def sweep_every(stale_after: float) -> int:
    """Seconds between stalled-job sweeps: a few per stale interval, dividing a minute."""
    want = max(stale_after / 3, 1)
    return max(s for s in _SECOND_STEPS if s <= want)


def _delivery_retry():
    from procrastinate.retry import BaseRetryStrategy, RetryDecision

    class DeliveryRetry(BaseRetryStrategy):
        """The bot decides when (``RetryLater``); a dead delivery is not retried; anything
        raised around the attempt (the database went away) is tried again with backoff."""

        def get_retry_decision(self, *, exception: BaseException, job: Any):
            if isinstance(exception, DeliveryDead):
                return None
            if isinstance(exception, RetryLater):
                return RetryDecision(retry_at=datetime.fromtimestamp(exception.retry_at, timezone.utc))
            return RetryDecision(retry_in={"seconds": min(5 * 2 ** min(job.attempts, 6), 300)})

    return DeliveryRetry()


class QueueWorker:
    def __init__(self, runtime: "Runtime", *, concurrency: int = 8, deliveries: bool = True,
                 jobs: "Sequence[JobSpec]" = (), at_start: "Sequence[tuple[JobSpec, float]]" = (),
                 process: Callable[["Runtime", "StoredDelivery"], Awaitable[object]] | None = None,
                 worker_id: str | None = None, poll: float = 1.0) -> None:
        from .pipeline import process as default_process

        self.runtime = runtime
        self.concurrency = concurrency
        self.run_deliveries = deliveries
        self.jobs = list(jobs)
        # (job, when): one run of the job soon after start-up
        self.at_start = [(job, time.monotonic() + delay) for job, delay in at_start]
        self.process = process or default_process
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.poll = poll
        self.stale_after = float(runtime.settings.stale_after)
        self.wake = asyncio.Event()  # the queue is woken by PostgreSQL's NOTIFY; kept for callers
        self.end_grace = END_GRACE
        # job id -> (when its task returned (monotonic), its attempts then, when it is due
        # again (epoch seconds) if it asked for a retry): see _take_back_unended.
        self._ended: dict[int, tuple[float, int, float]] = {}
        self._wakes: set[asyncio.Task] = set()
        self.app = self._build_app()

    @property
    def db(self):
        return self.runtime.db

    @property
    def queues(self) -> list[str]:
        return [*([DELIVERIES_QUEUE] if self.run_deliveries else []), *([JOBS_QUEUE] if self.jobs else [])]

    # --- the procrastinate app --------------------------------------------------------

    def _build_app(self) -> "procrastinate.App":
        from procrastinate import App, PsycopgConnector

        connector = PsycopgConnector(conninfo=self.db.url, min_size=1,
                                     max_size=self.concurrency + 4, timeout=10)
        app = App(connector=connector)
        if self.run_deliveries:
            app.task(name=DELIVERY_TASK, queue=DELIVERIES_QUEUE, retry=_delivery_retry(),
                     pass_context=True)(self._process_delivery)
        for job in self.jobs:
            self._register_job(app, job)
        if self.queues:
            # Not a `lock`: a sweep cut short by a kill would hold it, and no later sweep
            # could then take anything back. A queueing lock keeps one waiting at a time
            # (procrastinate's own recipe for stalled jobs).
            sweep = app.task(name="bot.retry_stalled_jobs", queue=self.queues[0],
                             queueing_lock="bot.retry_stalled_jobs")(self._retry_stalled)
            app.periodic(cron=f"* * * * * */{sweep_every(self.stale_after)}")(sweep)
            prune = app.task(name="bot.remove_old_jobs", queue=self.queues[0],
                             lock="bot.remove_old_jobs")(self._remove_old_jobs)
            app.periodic(cron="17 * * * *")(prune)
        return app

    async def _process_delivery(self, context: "procrastinate.JobContext", seq: int) -> None:
        # This runs inside procrastinate's task for the job, which records the job's end
        # before it completes: from then on the subject's next job may start.
        job_id = context.job.id
        asyncio.current_task().add_done_callback(lambda _: self._wake_after(job_id))  # type: ignore[union-attr]
        due_again = time.time()
        try:
            d = await deliveries.begin(self.db, seq, worker=self.id)
            if d is None:
                return  # ended already (an older job of a row queued again, or one taken back)
            outcome = await handle(self.runtime, d, self.process)
            if outcome.status == "dead":
                raise DeliveryDead(d.delivery_id)
            if outcome.status != "done":
                due_again = outcome.retry_at
                raise RetryLater(f"delivery {d.delivery_id}: {outcome.status}", retry_at=outcome.retry_at)
        finally:
            self._ran_to_end(context, due_again)

    def _ran_to_end(self, context: "procrastinate.JobContext", due_again: float) -> None:
        if context.job.id is not None:
            self._ended[context.job.id] = (time.monotonic(), context.job.attempts, due_again)

    async def _take_back_unended(self) -> None:
        """Put back in line the jobs this replica ran to their end whose end procrastinate
        did not record (see the module's notes); forget the ones it did."""
        now = time.monotonic()
        for job_id, (ended, attempts, due_again) in list(self._ended.items()):
            if now - ended < self.end_grace:
                continue
            if await jobqueue.take_back_unended(self.db, job_id, attempts, due_again):
                log.warning("took back job %s: its end was not recorded (attempt %d)", job_id, attempts + 1)
                await jobqueue.wake_workers(self.db, job_id)
            del self._ended[job_id]

    def _wake_after(self, job_id: int | None) -> None:
        async def wake() -> None:
            try:
                await jobqueue.wake_workers(self.db, job_id or 0)
            except Exception as exc:  # they poll anyway
                log.debug("could not wake the queue workers: %s", exc)

        task = asyncio.get_running_loop().create_task(wake())
        self._wakes.add(task)
        task.add_done_callback(self._wakes.discard)

    def _register_job(self, app: "procrastinate.App", job: "JobSpec") -> None:
        from procrastinate import RetryStrategy

        tick = tick_for(job.every)
        if tick != job.every:
            log.warning("job %s: every %s is not a divisor of a day; it runs every %s",
                        job.name, job.every, tick)
        every = tick.total_seconds()
        metrics = self.runtime.metrics

        async def run(context: "procrastinate.JobContext", timestamp: int, at_start: bool = False) -> None:
            key = f"start-{timestamp // 60}" if at_start else period_key(every, timestamp)
            try:
                if not at_start and overtaken(timestamp, every, time.time()):
                    # Every live replica queued the ticks after this one: they wait behind
                    # it and decide on the same current state. Run, each stale tick would
                    # follow the last, late, as long as runs stay slower than the period.
                    log.info("job %s: tick %s overtaken while it waited; skipped", job.name, key)
                    return
                n = await run_job(self.runtime, job, key=key)
            except Exception:
                metrics.jobs_run.labels(job=job.name, outcome="failed").inc()
                raise
            finally:
                # Its lock (the job's name) would hold every later run. Taken back, it runs
                # again for the same period, which is the executor's idempotence key: what
                # was done is skipped.
                self._ran_to_end(context, time.time())
            metrics.jobs_run.labels(job=job.name, outcome="ok").inc()
            log.debug("job %s: %d actions", job.name, n)

        run.__name__ = job.name.replace("-", "_")
        task = app.task(name=f"bot.job.{job.name}", queue=JOBS_QUEUE, lock=f"job:{job.name}", pass_context=True,
                        retry=RetryStrategy(max_attempts=JOB_RETRIES, exponential_wait=5))(run)
        app.periodic(cron=cron_for(tick))(task)

    async def _retry_stalled(self, timestamp: int) -> None:
        """Put back in line the jobs of workers whose heartbeat stopped (killed replicas)."""
        manager = self.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=self.stale_after):
            try:
                await manager.retry_job(job)
            except Exception as exc:  # it moved on meanwhile
                log.info("stalled job %s not retried: %s", job.id, exc)
            else:
                log.warning("took back job %s (%s) whose worker stopped", job.id, job.task_name)

    async def _remove_old_jobs(self, timestamp: int) -> None:
        """Succeeded jobs are history the deliveries table already keeps: drop them after
        a week so the queue's table stays small. Failed ones (dead deliveries) stay."""
        await self.app.job_manager.delete_old_jobs(nb_hours=KEEP_JOBS_HOURS)

    async def _defer_at_start(self) -> None:
        """One run of each start-up job once its delay is over (the server must be listening
        by then). Through procrastinate's periodic defers, keyed by the minute: replicas
        that start together queue it once between them."""
        for job, ready_at in sorted(self.at_start, key=lambda item: item[1]):
            await asyncio.sleep(max(ready_at - time.monotonic(), 0))
            minute = int(time.time() // 60 * 60)
            deferrer = self.app.tasks[f"bot.job.{job.name}"].configure(
                task_kwargs={"timestamp": minute, "at_start": True})
            try:
                await deferrer.job_manager.defer_periodic_job(deferrer.job, periodic_id="at-start",
                                                              defer_timestamp=minute)
            except Exception as exc:  # the queue worker restarts and tries again
                log.warning("start-up run of %s not queued: %s", job.name, exc)
                return
            self.at_start.remove((job, ready_at))

    # --- running ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        if not self.queues:
            return
        side = asyncio.create_task(self._side_loop(stop), name="queue-side")
        try:
            while not stop.is_set():
                worker = asyncio.create_task(self._run_once(), name="procrastinate-worker")
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({worker, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not worker.done():
                    worker.cancel()  # procrastinate stops gracefully: running jobs finish
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await worker
                    break
                log.warning("work queue stopped (%s); starting again",
                            worker.exception() or "a side task of procrastinate's worker failed")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=RESTART_PAUSE)
        finally:
            side.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await side

    async def _run_once(self) -> None:
        async with self.app.open_async():
            starter = asyncio.create_task(self._defer_at_start(), name="at-start")
            try:
                await self.app.run_worker_async(
                    queues=self.queues, concurrency=self.concurrency, name=self.id,
                    install_signal_handlers=False, fetch_job_polling_interval=self.poll,
                    abort_job_polling_interval=max(self.poll, 5.0),
                    update_heartbeat_interval=max(self.stale_after / 4, 0.5),
                    stalled_worker_timeout=self.stale_after, shutdown_graceful_timeout=25)
            finally:
                starter.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await starter

    async def apply_shared_holds(self) -> None:
        """Wait out Retry-After and secondary-limit holds other replicas were given."""
        github = self.runtime.github
        if github is None:
            return
        for scope, until in await holds.current(self.db, time.time()):
            github.hold(scope, until)

    async def _side_loop(self, stop: asyncio.Event) -> None:
        """What the queue does not do: share GitHub holds between replicas, the
        queue-depth gauge, and taking back jobs whose end was not recorded."""
        while not stop.is_set():
            try:
                await self.apply_shared_holds()
                self.runtime.metrics.queue_depth.set(await deliveries.queue_depth(self.db))
                await self._take_back_unended()
            except DatabaseUnavailable as exc:
                log.warning("database unavailable: %s", exc)
            except Exception:
                log.exception("queue side loop error")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=HOLDS_POLL)
