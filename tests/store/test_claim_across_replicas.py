"""Claims across replicas keep one delivery per subject in flight, even when intake
transactions of two replicas commit out of sequence order (GitHub sends `opened` and
`labeled` of one issue within milliseconds, a load balancer gives them to two replicas)."""
from __future__ import annotations

import asyncio
import random

import pytest

from bot.store import deliveries
from bot.store.db import connect
from tests.conftest import BOTH_BACKENDS


async def put(db, delivery_id: str, subject: str) -> None:
    await deliveries.insert(db, delivery_id=delivery_id, event="issues", action="opened",
                            repo="o/r", subject=subject, installation_id=1, body="{}")


async def test_an_earlier_delivery_that_became_visible_late_waits_for_the_one_in_flight(db):
    await put(db, "early", "o/r#1")
    await put(db, "late", "o/r#1")
    # 'late' was claimed by another replica before 'early' (lower seq) was committed.
    await db.execute("UPDATE deliveries SET status = 'processing', locked_by = 'other'"
                     " WHERE delivery_id = 'late'")
    assert await deliveries.claim(db, worker="me", busy_subjects=set(), limit=5) == []
    await db.execute("UPDATE deliveries SET status = 'done' WHERE delivery_id = 'late'")
    [d] = await deliveries.claim(db, worker="me", busy_subjects=set(), limit=5)
    assert d.delivery_id == "early"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.timeout(120)
async def test_concurrent_claimers_and_out_of_order_intake_never_overlap_a_subject(database_url):
    from bot.runtime import load_features, migration_namespaces
    from bot.store.migrate import migrate

    setup = await connect(database_url)
    await migrate(setup, migration_namespaces(load_features()))
    replicas = [await connect(database_url) for _ in range(4)]
    subjects = [f"o/r#{n}" for n in range(6)]
    per_subject = 12
    in_flight: dict[str, str] = {}
    overlaps: list[str] = []
    processed: list[str] = []
    rng = random.Random(3)

    async def intake(k: int) -> None:
        # Slow transactions: a row's seq is taken at INSERT, it becomes visible at COMMIT.
        for i in range(per_subject):
            for s in subjects:
                async with replicas[k % 2].transaction():
                    await put(replicas[k % 2], f"{s}-{k}-{i}", s)
                    await asyncio.sleep(rng.uniform(0, 0.004))

    async def worker(k: int) -> None:
        db = replicas[k]
        idle = 0
        while idle < 40:
            claimed = await deliveries.claim(db, worker=f"w{k}", busy_subjects=set(), limit=3)
            idle = 0 if claimed else idle + 1
            for d in claimed:
                if d.subject in in_flight:
                    overlaps.append(f"{d.delivery_id} while {in_flight[d.subject]}")
                in_flight[d.subject] = d.delivery_id
            await asyncio.sleep(0.002)
            for d in claimed:
                in_flight.pop(d.subject, None)
                processed.append(d.delivery_id)
                await deliveries.finish(db, d.seq)
            await asyncio.sleep(0.001)

    try:
        await asyncio.gather(intake(0), intake(1), *(worker(k) for k in range(4)))
    finally:
        for db in (setup, *replicas):
            await db.close()
    assert len(processed) == len(set(processed)) == 2 * per_subject * len(subjects)
    assert overlaps == []
