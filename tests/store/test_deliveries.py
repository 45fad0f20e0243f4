"""The deliveries table on both back ends: dedupe, retries, dead; and on SQLite, the
worker's claims in order per subject (on PostgreSQL procrastinate hands out the work:
test_queue_across_replicas)."""
from __future__ import annotations

import pytest

from bot.store import deliveries, state
from bot.store.deliveries import NewDelivery
from bot.store.jobqueue import DELIVERY_TASK


SQLITE = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


async def _take(db, limit: int = 10):
    """Take pending deliveries as each back end's worker does."""
    if db.dialect == "sqlite":
        return await deliveries.claim(db, worker="w", busy_subjects=set(), limit=limit)
    rows = await db.fetchall("SELECT seq FROM deliveries WHERE status = 'pending' ORDER BY seq LIMIT ?",
                             (limit,))
    return [await deliveries.begin(db, r["seq"], worker="w") for r in rows]


async def _dead(db, seq: int) -> None:
    """A last attempt failed: the row is dead and (PostgreSQL) its job failed for good, as
    the queue worker leaves them."""
    await deliveries.fail(db, seq, error="x", max_attempts=1, retry_at=0)
    if db.dialect == "postgresql":
        await db.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE args->>'seq' = ?", (str(seq),))


async def _jobs(db) -> int:
    """PostgreSQL: jobs queued for deliveries (one per storing or re-queuing)."""
    return await db.fetchval("SELECT COUNT(*) FROM procrastinate_jobs WHERE task_name = ?",
                             (DELIVERY_TASK,))


async def _put(db, did, subject="o/r#1", **kw):
    return await deliveries.insert(db, delivery_id=did, event="issues", action="opened", repo="o/r",
                                   subject=subject, installation_id=1, body="{}", **kw)


async def test_same_delivery_id_is_stored_once(db):
    assert (await _put(db, "a")).stored
    again = await _put(db, "a")
    assert not again.stored and not again.requeued
    assert len(await deliveries.listing(db)) == 1


@SQLITE
async def test_claims_keep_arrival_order_per_subject(db):
    for did, subject in [("a1", "o/r#1"), ("b1", "o/r#2"), ("a2", "o/r#1"), ("a3", "o/r#1")]:
        await _put(db, did, subject)
    first = await deliveries.claim(db, worker="w", busy_subjects=set(), limit=10)
    # One per subject: the later deliveries of #1 wait for the first.
    assert [d.delivery_id for d in first] == ["a1", "b1"]
    assert await deliveries.claim(db, worker="w", busy_subjects={"o/r#1", "o/r#2"}, limit=10) == []
    await deliveries.finish(db, first[0].seq)
    nxt = await deliveries.claim(db, worker="w", busy_subjects={"o/r#2"}, limit=10)
    assert [d.delivery_id for d in nxt] == ["a2"]


@SQLITE
async def test_failed_delivery_holds_its_place_until_retry_then_goes_dead(db):
    await _put(db, "a1")
    await _put(db, "a2")
    [d] = await deliveries.claim(db, worker="w", busy_subjects=set(), limit=10, now=100.0)
    status = await deliveries.fail(db, d.seq, error="boom", max_attempts=2, retry_at=200.0, now=100.0)
    assert status == "failed"
    # Not due yet, and a2 must not overtake it.
    assert await deliveries.claim(db, worker="w", busy_subjects=set(), limit=10, now=150.0) == []
    [again] = await deliveries.claim(db, worker="w", busy_subjects=set(), limit=10, now=250.0)
    assert again.delivery_id == "a1"
    assert await deliveries.fail(db, again.seq, error="boom", max_attempts=2, retry_at=0, now=250.0) == "dead"
    # A dead delivery no longer blocks its subject.
    [nxt] = await deliveries.claim(db, worker="w", busy_subjects=set(), limit=10, now=260.0)
    assert nxt.delivery_id == "a2"
    dead = await deliveries.listing(db, status="dead")
    assert [r["delivery_id"] for r in dead] == ["a1"] and dead[0]["attempts"] == 2


async def test_redelivery_of_a_dead_delivery_requeues_it(db):
    await _put(db, "a1")
    [d] = await _take(db, 1)
    await _dead(db, d.seq)
    result = await _put(db, "a1")
    again = await deliveries.get(db, "a1")
    assert result.requeued and again.status == "pending"
    assert again.attempts == 0   # its attempts anew: not dead again at its first failure
    if db.dialect == "postgresql":
        assert await _jobs(db) == 2  # queued when stored, and again


async def test_postgresql_queues_each_stored_delivery_with_its_subject_as_lock(db):
    if db.dialect == "sqlite":
        assert await deliveries.insert_many(db, [NewDelivery("x", "push", "", "o/r", "o/r", 1, "{}")])
        return  # SQLite has no separate queue: the table is the queue
    results = await deliveries.insert_many(db, [NewDelivery(i, "push", "", "o/r", s, 1, "{}")
                                                for i, s in (("a", "o/r#1"), ("b", "o/r#2"), ("a", "o/r#1"))])
    assert [r.stored for r in results] == [True, True, False]
    jobs = await db.fetchall("SELECT lock, queue_name, status, args FROM procrastinate_jobs ORDER BY id")
    seqs = {r["delivery_id"]: r["seq"] for r in await db.fetchall("SELECT delivery_id, seq FROM deliveries")}
    assert jobs == [{"lock": "subject:o/r#1", "queue_name": "deliveries", "status": "todo", "args": {"seq": seqs["a"]}},
                    {"lock": "subject:o/r#2", "queue_name": "deliveries", "status": "todo", "args": {"seq": seqs["b"]}}]


async def test_retry_cli_verbs_requeue_dead(db):
    for did in ("a", "b"):
        await _put(db, did, subject=did)
    for d in await _take(db, 5):
        await _dead(db, d.seq)
    assert await deliveries.requeue(db, dead=True) == 2
    assert {r["status"] for r in await deliveries.listing(db)} == {"pending"}
    if db.dialect == "postgresql":
        assert await _jobs(db) == 4


@SQLITE
async def test_processing_rows_of_a_process_that_stopped_are_resumed(db):
    await _put(db, "a")
    await _put(db, "b", subject="o/r#2")
    [a, _] = await deliveries.claim(db, worker="w1", busy_subjects=set(), limit=2, now=10.0)
    await deliveries.finish(db, a.seq)
    assert await deliveries.release_stale(db) == 1
    assert (await deliveries.get(db, "a")).status == "done"
    released = await deliveries.get(db, "b")
    assert released.status == "pending" and released.attempts == 1  # the next run is a retry


async def test_bot_label_ledger(db):
    await state.record_bot_label(db, "o/r", 1, "bug", "classify")
    assert await state.bot_added(db, "o/r", 1, "bug")
    assert not await state.bot_added(db, "o/r", 1, "help wanted")
    await state.forget_bot_label(db, "o/r", 1, "bug")
    assert await state.bot_labels(db, "o/r", 1) == set()


async def test_batch_with_duplicates_inside_and_across_batches(db):
    await _put(db, "old")
    items = [deliveries.NewDelivery(did, "issues", "opened", "o/r", "o/r#1", 1, '{"n": %d}' % i)
             for i, did in enumerate(["x", "old", "y", "x"])]
    results = await deliveries.insert_many(db, items)
    assert [r.stored for r in results] == [True, False, True, False]
    rows = {d["delivery_id"] for d in await deliveries.listing(db)}
    assert rows == {"old", "x", "y"}
    # The body comes back as it was sent, whatever the back end stores.
    assert (await deliveries.get(db, "y")).body == '{"n": 2}'


async def test_stored_body_round_trips_unicode_and_large_payloads(db):
    body = '{"title": "Crash \\u00e9 ünïcödé 🐛", "log": "%s"}' % ("x" * 300_000)
    await deliveries.insert(db, delivery_id="big", event="issues", action="opened", repo="o/r",
                            subject="o/r#1", installation_id=1, body=body)
    assert (await deliveries.get(db, "big")).body == body
