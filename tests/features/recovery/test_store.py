"""The recovery tables on both back ends: requests given up count as asked (so a pass can be
complete), and the covered mark only moves forward."""
from __future__ import annotations

from bot.features.recovery import store
from bot.features.recovery.plan import Missed
from bot.features.recovery.runner import OVERLAP, window_start

DAY = 86400.0


def missed(attempt_id: int, guid: str = "g1") -> Missed:
    return Missed(guid=guid, attempt_id=attempt_id, event="push", action="", first_at=0.0)


async def test_a_request_given_up_counts_as_asked(db):
    m = missed(1)
    assert await store.claim(db, m, holder="a", now=0.0)
    for n in range(1, store.MAX_TRIES):
        await store.settle(db, 1, status="failed", error="502")
        assert await store.asked(db, ["g1"]) == {"g1": (set(), 0)}  # may be tried again
        assert await store.claim(db, m, holder="a", now=n * (store.RETRY_AFTER + 1))
    await store.settle(db, 1, status="failed", error="502")
    # MAX_TRIES failed POSTs: claim will not take it again, so it is not left to ask for.
    assert not await store.claim(db, m, holder="a", now=1e9)
    assert await store.asked(db, ["g1"]) == {"g1": ({1}, 0)}


async def test_the_covered_mark_moves_forward_only(db):
    assert await store.covered_at(db) is None
    await store.mark_covered(db, 2000.0)
    await store.mark_covered(db, 1000.0)  # a pass that started earlier finishing later
    assert await store.covered_at(db) == 2000.0


async def test_window_start(db):
    now = 10 * DAY
    assert await window_start(db, now=now, max_age=3 * DAY) == now - 3 * DAY  # never covered
    await store.mark_covered(db, now - 3600)
    assert await window_start(db, now=now, max_age=3 * DAY) == now - 3600 - OVERLAP
    assert await window_start(db, now=now, max_age=3 * DAY, full=True) == now - 3 * DAY
    await store.mark_covered(db, now - 0.5 * DAY)
    assert await window_start(db, now=now, max_age=600) == now - 600  # never past max_age
