"""The deliveries table on both back ends: dedupe, order per subject, retries, dead."""
from __future__ import annotations

from bot.store import deliveries, state


async def _put(db, did, subject="o/r#1", **kw):
    return await deliveries.insert(db, delivery_id=did, event="issues", action="opened", repo="o/r",
                                   subject=subject, installation_id=1, body="{}", **kw)


async def test_same_delivery_id_is_stored_once(db):
    assert (await _put(db, "a")).stored
    again = await _put(db, "a")
    assert not again.stored and not again.requeued
    assert len(await deliveries.listing(db)) == 1


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
    [d] = await deliveries.claim(db, worker="w", busy_subjects=set(), limit=1)
    await deliveries.fail(db, d.seq, error="x", max_attempts=1, retry_at=0)
    result = await _put(db, "a1")
    assert result.requeued and (await deliveries.get(db, "a1")).status == "pending"


async def test_retry_cli_verbs_requeue_dead(db):
    for did in ("a", "b"):
        await _put(db, did, subject=did)
    for d in await deliveries.claim(db, worker="w", busy_subjects=set(), limit=5):
        await deliveries.fail(db, d.seq, error="x", max_attempts=1, retry_at=0)
    assert await deliveries.requeue(db, dead=True) == 2
    assert {r["status"] for r in await deliveries.listing(db)} == {"pending"}


async def test_processing_rows_of_a_dead_worker_are_released(db):
    await _put(db, "a")
    await deliveries.claim(db, worker="w1", busy_subjects=set(), limit=1, now=10.0)
    assert await deliveries.release_stale(db, older_than=5.0) == 0
    assert await deliveries.release_stale(db, older_than=20.0) == 1
    released = await deliveries.get(db, "a")
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
