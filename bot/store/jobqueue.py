"""PostgreSQL: the work queue is procrastinate's.

With several replicas on one PostgreSQL database, which replica processes a delivery, and
that the deliveries about one subject go one at a time in arrival order, is decided by
procrastinate (a job per delivery, its ``lock`` the subject: procrastinate starts a job only
when no job of the same lock is running and none queued before it is waiting). Periodic jobs
are procrastinate periodic tasks (deferred once per cron tick between all replicas).

The deliveries table stays the record of what arrived and how it ended (the ``deliveries``
command, ``/metrics``); the job is deferred in the same transaction that stores the row, by
calling procrastinate's own SQL function, so there is no moment where a delivery is stored
but not queued, or queued but not stored. SQLite (one process) does not use this module.
"""
from __future__ import annotations

import json
from typing import Iterable

from .db import Database

DELIVERIES_QUEUE = "deliveries"
JOBS_QUEUE = "jobs"
DELIVERY_TASK = "bot.process_delivery"
# The migration namespace under which procrastinate's schema is recorded as applied.
SCHEMA_NAMESPACE = "procrastinate"


# procrastinate's workers LISTEN here for new jobs (its trigger on INSERT notifies it; the
# channel and payload are those of the pinned procrastinate series).
_NEW_JOB_CHANNEL = f"procrastinate_queue_v1#{DELIVERIES_QUEUE}"


async def wake_workers(db: Database, job_id: int) -> None:
    """Tell every replica's queue worker to look for work now.

    procrastinate looks for a job when one is inserted or at its next poll, but not when a
    job ends: the next delivery of the same subject, held back by the lock until then, would
    wait for a poll (a second by default) however fast the first one went."""
    await db.fetchall("SELECT pg_notify(?, ?)",
                      (_NEW_JOB_CHANNEL, json.dumps({"type": "job_inserted", "job_id": job_id})))


def subject_lock(subject: str) -> str:
    return f"subject:{subject}"


def schema_sql() -> str:
    from procrastinate.schema import SchemaManager

    return SchemaManager.get_schema()


def schema_version() -> str:
    from importlib.metadata import version

    return version("procrastinate")


_DEFER = ("SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[{rows}]::procrastinate_job_to_defer_v1[]))"
          " AS id")
_ROW = "ROW(?, ?, 0, ?, NULL, ?::jsonb, NULL)::procrastinate_job_to_defer_v1"


async def defer_deliveries(db: Database, rows: Iterable[tuple[int, str]]) -> None:
    """Queue a job for each ``(seq, subject)``. Call inside the transaction that stored
    (or re-opened) those rows."""
    params: list = []
    for seq, subject in rows:
        params += [DELIVERIES_QUEUE, DELIVERY_TASK, subject_lock(subject), json.dumps({"seq": seq})]
    if params:
        await db.fetchall(_DEFER.format(rows=", ".join([_ROW] * (len(params) // 4))), params)


async def requeue_deliveries(db: Database, rows: Iterable[tuple[int, str]]) -> None:
    """Queue rows again (a retry asked for by an operator or by GitHub's redelivery).

    A row that failed still has its job waiting for the retry time; that job keeps the row's
    place in its subject's line, so it is made due now instead of queuing a second one
    behind it (which could not start before the first anyway). Asked in the milliseconds
    between a failed attempt's record and procrastinate's retry of its job, the new job
    waits behind the old one until the retry time: late, but still run once."""
    fresh = []
    for seq, subject in rows:
        moved = await db.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = NULL WHERE status = 'todo'"
            " AND task_name = ? AND args @> ?::jsonb", (DELIVERY_TASK, json.dumps({"seq": seq})))
        if not moved:
            fresh.append((seq, subject))
    await defer_deliveries(db, fresh)


async def take_back_unended(db: Database, job_id: int, attempts: int, retry_at: float) -> bool:
    """Put job ``job_id`` back in line (due at ``retry_at``) if it is still ``doing`` at the
    attempt ``attempts`` that this replica ran to its end: procrastinate's record of that end
    was lost. Checked and changed under the row's lock, so a job that has moved on since
    (recorded after all, or taken back and running elsewhere: ``attempts`` has grown) is
    left alone. True if it was put back."""
    async with db.transaction():
        row = await db.fetchone("SELECT status, attempts FROM procrastinate_jobs WHERE id = ? FOR UPDATE",
                                (job_id,))
        if row is None or row["status"] != "doing" or int(row["attempts"]) != attempts:
            return False
        await db.fetchall("SELECT procrastinate_retry_job_v2(?, to_timestamp(?), NULL, NULL, NULL)",
                          (job_id, retry_at))
    return True
