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
    from bot.features.funnel.weekly import installed_name

    await state.remember_installation(db, "Octo/Widgets", 7, False)
    row = await state.installation_named(db, "octo/WIDGETS")
    assert (row["repo"], row["installation_id"], row["is_private"]) == ("Octo/Widgets", 7, 0)
    assert await state.installation_named(db, "octo/gears") is None
    assert await installed_name(db, "OCTO/widgets") == "Octo/Widgets"
    assert await installed_name(db, "octo/gears") == "octo/gears"    # not installed: as typed
