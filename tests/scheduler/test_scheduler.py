"""Periodic jobs run once per period, across replicas and restarts, on both back ends."""
from __future__ import annotations

from bot.scheduler import claim_period, finish_period, period_key


async def test_one_claim_per_period_among_replicas(db):
    key = period_key(300, 1_000_000.0)
    assert await claim_period(db, "sweep", key, "replica-a", now=1_000_000.0)
    assert not await claim_period(db, "sweep", key, "replica-b", now=1_000_001.0)
    assert not await claim_period(db, "sweep", key, "replica-a", now=1_000_002.0)
    # The next period is a new claim.
    nxt = period_key(300, 1_000_300.0)
    assert nxt != key and await claim_period(db, "sweep", nxt, "replica-b", now=1_000_300.0)


async def test_a_dead_holders_period_is_taken_over_after_its_lease(db):
    key = "42"
    assert await claim_period(db, "report", key, "a", now=100.0, lease=60.0)
    assert not await claim_period(db, "report", key, "b", now=150.0, lease=60.0)
    assert await claim_period(db, "report", key, "b", now=161.0, lease=60.0)
    await finish_period(db, "report", key, "ok")
    # Finished: nobody runs it again, even after the lease.
    assert not await claim_period(db, "report", key, "c", now=10_000.0)


def test_period_keys_are_stable_within_a_period():
    assert period_key(3600, 7200.0) == period_key(3600, 10_799.9) != period_key(3600, 10_800.0)
