"""Which visibility a repository is recorded with when deliveries come out of order (a retry, a
recovered delivery days late), on SQLite and PostgreSQL (the ``db`` fixture runs each on both)."""
from __future__ import annotations

from bot.store import state

REPO = "o/r"


async def private(db) -> int | None:
    return {r["repo"]: r["is_private"] for r in await state.installations(db)}.get(REPO)


async def test_an_older_delivery_processed_late_does_not_change_the_flag(db):
    await state.remember_installation(db, REPO, 1, True, private_at=200.0)
    await state.remember_installation(db, REPO, 1, False, private_at=100.0)   # sent before, processed after
    assert await private(db) == 1
    await state.remember_installation(db, REPO, 1, False, private_at=300.0)   # a newer one says public
    assert await private(db) == 0
    await state.remember_installation(db, REPO, 1, True, private_at=250.0)
    assert await private(db) == 0
    # An event that does not say keeps what is known, and is not a newer visibility either.
    await state.remember_installation(db, REPO, 2, None)
    await state.remember_installation(db, REPO, 2, True, private_at=300.0)    # the same instant applies
    assert await private(db) == 1
    assert {r["repo"]: r["installation_id"] for r in await state.installations(db)} == {REPO: 2}


async def test_a_privatized_event_is_not_undone_by_an_ordinary_delivery(db):
    """A recovered delivery is received (and dated) after the event, but its payload is a
    snapshot from before: only a publicized event or a live read makes the repository public."""
    await state.remember_installation(db, REPO, 1, False, private_at=100.0)
    await state.remember_installation(db, REPO, 1, True, private_at=200.0, authoritative=True)
    await state.remember_installation(db, REPO, 1, False, private_at=300.0)
    assert await private(db) == 1
    # An ordinary delivery that agrees keeps it so: a later stale snapshot still cannot undo it.
    await state.remember_installation(db, REPO, 1, True, private_at=400.0)
    await state.remember_installation(db, REPO, 1, False, private_at=500.0)
    assert await private(db) == 1
    # An older publicized event processed late is older still.
    await state.remember_installation(db, REPO, 1, False, private_at=150.0, authoritative=True)
    assert await private(db) == 1
    await state.remember_installation(db, REPO, 1, False, private_at=600.0, authoritative=True)
    assert await private(db) == 0


async def test_an_ordinary_delivery_may_always_make_a_repository_private(db):
    """A privatized event missed: the next delivery saying private is believed, even over a
    publicized event (hiding a public repository for a while is the safe mistake)."""
    await state.remember_installation(db, REPO, 1, False, private_at=100.0, authoritative=True)
    await state.remember_installation(db, REPO, 1, True, private_at=200.0)
    assert await private(db) == 1
    await state.remember_installation(db, REPO, 1, False, private_at=300.0)   # ordinary again on both sides
    assert await private(db) == 0


async def test_rows_from_before_the_timestamp_take_any_delivery(db):
    await db.execute("INSERT INTO repo_installations (repo, installation_id, updated_at, is_private)"
                     " VALUES (?, 1, 0, 1)", (REPO,))
    await state.remember_installation(db, REPO, 1, False, private_at=1.0)
    assert await private(db) == 0


async def test_an_installed_repository_is_found_in_any_case(db):
    """One look-up for the dashboard's typed names and the weekly report's operator input."""
    from bot.store.state import installed_name

    await state.remember_installation(db, "Octo/Widgets", 7, False)
    row = await state.installation_named(db, "octo/WIDGETS")
    assert (row["repo"], row["installation_id"], row["is_private"]) == ("Octo/Widgets", 7, 0)
    assert await state.installation_named(db, "octo/gears") is None
    assert await installed_name(db, "OCTO/widgets") == "Octo/Widgets"
    assert await installed_name(db, "octo/gears") == "octo/gears"    # not installed: as typed


# --- the payload's clock: repository.updated_at ------------------------------------------------

DAY = 86400.0


async def test_a_stale_snapshot_received_last_does_not_make_a_repository_public(db):
    """A delivery sent before the repository went private, recovered days later: the newest
    received, but its payload's snapshot is older than the one that said private."""
    await state.remember_installation(db, REPO, 1, False, private_at=100.0, snapshot_at=1 * DAY)
    await state.remember_installation(db, REPO, 1, True, private_at=200.0, snapshot_at=5 * DAY)
    await state.remember_installation(db, REPO, 1, False, private_at=900.0, snapshot_at=3 * DAY)
    assert await private(db) == 1
    # A delivery with the same snapshot or a newer one is believed (the received clock decides
    # between equal snapshots: GitHub's may not have moved between two events).
    await state.remember_installation(db, REPO, 1, False, private_at=950.0, snapshot_at=5 * DAY)
    assert await private(db) == 0


async def test_a_recovered_publicized_event_older_than_a_privatized_one_is_not_believed(db):
    await state.remember_installation(db, REPO, 1, True, private_at=200.0, snapshot_at=2 * DAY,
                                      authoritative=True)
    await state.remember_installation(db, REPO, 1, False, private_at=400.0, snapshot_at=1 * DAY,
                                      authoritative=True)
    assert await private(db) == 1
    await state.remember_installation(db, REPO, 1, False, private_at=500.0, snapshot_at=3 * DAY,
                                      authoritative=True)
    assert await private(db) == 0


async def test_a_newer_snapshot_processed_after_a_stale_one_makes_a_repository_private(db):
    """Received first but processed last (a retry, another worker): its snapshot is newer than
    the stale one that made the repository public meanwhile."""
    await state.remember_installation(db, REPO, 1, False, private_at=900.0, snapshot_at=1 * DAY)
    await state.remember_installation(db, REPO, 1, True, private_at=800.0, snapshot_at=5 * DAY)
    assert await private(db) == 1
    # Neither clock went back: the stale one's receipt and the newer snapshot both stand.
    await state.remember_installation(db, REPO, 1, False, private_at=850.0)           # no snapshot
    await state.remember_installation(db, REPO, 1, False, private_at=950.0, snapshot_at=4 * DAY)
    assert await private(db) == 1
    # A newer public snapshot received later than both is believed.
    await state.remember_installation(db, REPO, 1, False, private_at=950.0, snapshot_at=6 * DAY)
    assert await private(db) == 0


async def test_the_newest_snapshot_stands_behind_the_flag_whichever_delivery_set_it(db):
    """A stale delivery saying private is believed (hiding is the safe mistake), but the newer
    snapshot seen before still dates the flag: an older public snapshot after it stays out."""
    await state.remember_installation(db, REPO, 1, False, private_at=100.0, snapshot_at=5 * DAY)
    await state.remember_installation(db, REPO, 1, True, private_at=200.0, snapshot_at=2 * DAY)
    assert await private(db) == 1
    await state.remember_installation(db, REPO, 1, False, private_at=300.0, snapshot_at=4 * DAY)
    assert await private(db) == 1
    await state.remember_installation(db, REPO, 1, False, private_at=300.0, snapshot_at=5 * DAY)
    assert await private(db) == 0


async def test_without_snapshots_the_received_clock_decides_as_before(db):
    await state.remember_installation(db, REPO, 1, True, private_at=200.0)
    await state.remember_installation(db, REPO, 1, False, private_at=300.0, snapshot_at=1 * DAY)
    assert await private(db) == 0
    await state.remember_installation(db, REPO, 1, True, private_at=400.0, snapshot_at=None)
    await state.remember_installation(db, REPO, 1, False, private_at=350.0, snapshot_at=9 * DAY)
    assert await private(db) == 1                       # received before the one that said private
