"""A renamed or transferred repository keeps its rows: the id -> name mapping, the move of every
repo-keyed table (conflicts included), and the ordering rule for deliveries carrying the old name,
on SQLite and PostgreSQL (the ``db`` fixture runs each test on both)."""
from __future__ import annotations

import re
import time

import pytest

from bot.core.events import Event
from bot.runtime import load_features
from bot.store import renames, repo_names, state
from tests.fixtures.webhooks import load_example

OLD, NEW = "octo/old", "octo/new"
REPO_ID = 4711


@pytest.fixture
def decl():
    return renames.Declarations.of([repo_names.CORE, *(f.repo_names for f in load_features() if f.repo_names)])


def event(full_name: str, *, repo_id: int = REPO_ID, updated_at: str | None = "2026-03-01T10:00:00Z",
          name: str = "issues", action: str = "opened") -> Event:
    payload = load_example(name, action)
    owner, short = full_name.split("/")
    payload["repository"] = {**payload["repository"], "id": repo_id, "full_name": full_name, "name": short,
                             "owner": {**payload["repository"]["owner"], "login": owner},
                             "updated_at": updated_at}
    return Event(name=name, payload=payload, delivery_id="d")


async def labels(db, repo: str) -> dict[tuple[int, str], str]:
    rows = await db.fetchall("SELECT number, label, feature FROM bot_labels WHERE repo = ?", (repo,))
    return {(r["number"], r["label"]): r["feature"] for r in rows}


# --- every table ------------------------------------------------------------------------------

# A column under one of these names may hold a repository's name (or its owner's).
NAME_LIKE = re.compile(r"(^|_)(repo|repository|repositories|owner|full_name|name_key|subject)($|_)")


async def test_every_column_that_may_hold_a_repository_name_is_moved_or_declared(db, decl):
    """A migration adding a table keyed by a repository's name under another column than
    ``repo`` (or a repo column the move must leave alone) fails here until it is declared
    (Feature.repo_names / repo_names.CORE)."""
    shapes = await renames.table_shapes(db)
    assert undeclared(shapes, decl) == []
    moved = [s.name for s in shapes if renames.REPO_COLUMN in s.columns and f"{s.name}.repo" not in decl.kept]
    assert len(moved) >= 40 and "bot_labels" in moved and "sla_clocks" in moved
    # Nothing declared is stale: each names a table and column that exist.
    columns = {(s.name, c) for s in shapes for c in s.columns}
    for dotted in [*decl.kept, *decl.rewrite]:
        assert tuple(dotted.split(".")) in columns, dotted
    assert {(t, c) for t, c in decl.owners.items()} <= columns
    assert decl.keep_old <= {s.name for s in shapes}


def undeclared(shapes, decl) -> list[str]:
    return [f"{s.name}.{c}" for s in shapes for c in s.columns
            if NAME_LIKE.search(c) and not c.endswith("_id") and c != renames.REPO_COLUMN
            and not decl.declared(s.name, c)]


async def test_a_table_keying_names_under_another_column_is_caught(db, decl):
    await db.execute("CREATE TABLE later_feature_items (repository TEXT NOT NULL, repo_owner TEXT,"
                     " repo_id BIGINT, PRIMARY KEY (repository))")
    assert undeclared(await renames.table_shapes(db), decl) == [
        "later_feature_items.repository", "later_feature_items.repo_owner"]


async def _columns(db, table: str) -> list[tuple[str, str, bool]]:
    """(name, type, must be given) of each column: NOT NULL without a default, or part of a
    primary key that is not an auto-increment id."""
    if db.dialect == "sqlite":
        rows = await db.fetchall(f"PRAGMA table_info({table})")
        keys = [r for r in rows if r["pk"]]
        rowid = keys[0]["name"] if len(keys) == 1 and keys[0]["type"].upper() == "INTEGER" else None
        return [(r["name"], r["type"].upper(),
                 r["name"] != rowid and (bool(r["notnull"]) and r["dflt_value"] is None or bool(r["pk"])))
                for r in rows]
    rows = await db.fetchall(
        "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ?", (table,))
    return [(r["column_name"], r["data_type"].upper(), r["is_nullable"] == "NO" and r["column_default"] is None)
            for r in rows]


def _value(sql_type: str, repo: str, column: str):
    if column == "repo":
        return repo
    if "INT" in sql_type:
        return 7
    if any(t in sql_type for t in ("DOUBLE", "REAL", "NUMERIC", "FLOAT")):
        return 7.0
    if "BLOB" in sql_type or "BYTEA" in sql_type:
        return b"x"
    return "x"


async def test_a_rename_moves_every_repo_keyed_table_and_settles_every_conflict(db, decl):
    """One row under the old name in every table with a repo column, and the same row (the
    same key) under the new name too: after the move, each table has one row, under the new
    name, and none under the old. Covers any table a later migration adds."""
    shapes = [s for s in await renames.table_shapes(db)
              if renames.REPO_COLUMN in s.columns and f"{s.name}.repo" not in decl.kept]
    for shape in shapes:
        cols = [c for c in await _columns(db, shape.name) if c[2] or c[0] == "repo"]
        # Where a unique key leaves the repo out (an id, a signature's key), the same values
        # cannot stand under both names: the old name's row alone.
        both = all(renames.REPO_COLUMN in key for key in shape.unique_keys)
        for repo in (OLD, NEW) if both else (OLD,):
            names = ", ".join(c[0] for c in cols)
            await db.execute(f"INSERT INTO {shape.name} ({names}) VALUES ({', '.join('?' * len(cols))})",
                             [_value(t, repo, n) for n, t, _ in cols])
    async with db.transaction():
        moved = await renames.move(db, OLD, NEW, decl)
    for shape in shapes:
        rows = await db.fetchall(f"SELECT repo FROM {shape.name}")
        assert [r["repo"] for r in rows] == [NEW], shape.name
        # Counted as moved: the old name's row, unless the new name's was kept instead.
        both = all(renames.REPO_COLUMN in key for key in shape.unique_keys)
        kept_new = both and shape.name not in decl.keep_old
        assert moved.get(shape.name) == (None if kept_new else 1), shape.name


async def test_conflicts_keep_the_later_row_and_a_transfer_moves_the_owner(db, decl):
    await state.record_bot_label(db, OLD, 5, "bug", "classify")
    await state.record_bot_label(db, OLD, 5, "area/docs", "pr_context")
    await state.record_bot_label(db, "octo/old-docs", 5, "bug", "classify")  # another repository
    await state.record_bot_label(db, "neworg/new", 5, "bug", "sla")  # written after the transfer
    await db.execute("INSERT INTO pr_context_merged (repo, owner, number, user_id, login, merged_at)"
                     " VALUES (?, 'octo', 3, 9, 'ann', 1)", (OLD,))
    for repo, first in ((OLD, 1), ("neworg/new", 0)):
        await db.execute("INSERT INTO pr_context_prs (repo, number, author_id, first_timer, decided_at)"
                         " VALUES (?, 5, 9, ?, 1)", (repo, first))
    card = f"comment:{OLD}#5:<!-- contributor-flow:context-card -->"
    await state.remember_created(db, card, OLD, "comment", "111")
    await state.remember_created(db, f"run-cancel:{OLD}:77", OLD, "run-cancel", "cancelled")
    await state.remember_created(db, f"run-cancel:neworg/new:77", "neworg/new", "run-cancel", "gone")
    await state.remember_created(db, "comment:octo/old-docs#5:m", "octo/old-docs", "comment", "5")

    async with db.transaction():
        moved = await renames.move(db, OLD, "neworg/new", decl)

    assert await labels(db, "neworg/new") == {(5, "bug"): "sla", (5, "area/docs"): "pr_context"}
    assert await labels(db, OLD) == {}
    assert await labels(db, "octo/old-docs") == {(5, "bug"): "classify"}
    merged = await db.fetchone("SELECT repo, owner FROM pr_context_merged")
    assert (merged["repo"], merged["owner"]) == ("neworg/new", "neworg")
    # The first-timer decision is made once: the first one stands (keep_old).
    assert await db.fetchval("SELECT first_timer FROM pr_context_prs WHERE repo = 'neworg/new'") == 1
    assert await state.created_object(db, "comment:neworg/new#5:<!-- contributor-flow:context-card -->") == "111"
    assert await state.created_object(db, card) is None
    assert await state.cancel_answer(db, "neworg/new", 77) == "gone"   # the later answer
    assert await state.created_object(db, "comment:octo/old-docs#5:m") == "5"
    assert moved["created_objects.fingerprint"] == 1 and moved["bot_labels"] == 1


# --- the mapping and the ordering rule ----------------------------------------------------------

async def test_first_sight_records_the_name_and_a_newer_name_moves_the_rows(db, decl):
    seen = await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    assert seen.repo == OLD and await repo_names.current_name(db, REPO_ID) == OLD
    await state.record_bot_label(db, OLD, 5, "bug", "classify")

    renamed = await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    assert renamed.repo == NEW
    assert await repo_names.current_name(db, REPO_ID) == NEW
    assert await labels(db, NEW) == {(5, "bug"): "classify"} and await labels(db, OLD) == {}
    row = await db.fetchone("SELECT full_name, renamed_to, rows_moved FROM repo_former_names WHERE repo_id = ?",
                            (REPO_ID,))
    assert dict(row) == {"full_name": OLD, "renamed_to": NEW, "rows_moved": 1}


async def test_an_older_delivery_is_processed_under_the_current_name_and_never_renames_back(db, decl):
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    await state.record_bot_label(db, NEW, 5, "bug", "classify")

    # Queued before the rename (received earlier), processed after it.
    late = event(OLD, name="pull_request", action="opened")
    late.payload["pull_request"]["base"]["repo"]["id"] = REPO_ID
    resolved = await repo_names.resolve(db, decl, late, received_at=150.0)
    assert resolved.repo == NEW and resolved.subject.startswith(f"{NEW}#")
    assert resolved.payload["pull_request"]["base"]["repo"]["full_name"] == NEW
    assert late.repo == OLD   # the stored event itself is left as it was
    # A missed delivery from before the rename, recovered later: received after the change, but
    # its repository snapshot is older than the one the new name was seen with.
    recovered = await repo_names.resolve(db, decl, event(OLD, updated_at="2026-03-01T10:00:00Z"), received_at=300.0)
    assert recovered.repo == NEW
    assert await repo_names.current_name(db, REPO_ID) == NEW
    assert await labels(db, NEW) == {(5, "bug"): "classify"}


def test_newer_needs_both_clocks_when_both_are_known():
    row = {"changed_at": 200.0, "snapshot_at": 1000.0}
    assert repo_names.newer(repo_names.Sighting(1, NEW, 201.0, 1000.0), row)        # same snapshot
    assert repo_names.newer(repo_names.Sighting(1, NEW, 201.0, None), row)          # none to compare
    assert not repo_names.newer(repo_names.Sighting(1, NEW, 200.0, 2000.0), row)    # received at the change
    assert not repo_names.newer(repo_names.Sighting(1, NEW, 500.0, 999.0), row)     # an older snapshot


async def test_rows_of_an_old_name_learnt_late_are_moved_once(db, decl):
    """The mapping was first made from a delivery with the new name (the old one's rows from
    before this version, or a subject processed first): a late delivery with the old name says
    which rows are this repository's."""
    await state.record_bot_label(db, OLD, 5, "bug", "classify")
    await repo_names.resolve(db, decl, event(NEW), received_at=200.0)
    assert await labels(db, OLD) == {(5, "bug"): "classify"}

    resolved = await repo_names.resolve(db, decl, event(OLD), received_at=150.0)
    assert resolved.repo == NEW
    assert await labels(db, NEW) == {(5, "bug"): "classify"} and await labels(db, OLD) == {}
    # Another repository created since under the old name keeps its own rows.
    await repo_names.resolve(db, decl, event(OLD, repo_id=999), received_at=400.0)
    await state.record_bot_label(db, OLD, 8, "question", "classify")
    assert (await repo_names.resolve(db, decl, event(OLD), received_at=160.0)).repo == NEW
    assert await labels(db, OLD) == {(8, "question"): "classify"}


async def test_a_name_reused_by_another_repository_is_not_taken_from_it(db, decl):
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    await state.record_bot_label(db, OLD, 5, "bug", "classify")
    await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    # octo/old is created again (another id) before a late delivery of the renamed one arrives.
    await repo_names.resolve(db, decl, event(OLD, repo_id=999), received_at=300.0)
    await state.record_bot_label(db, OLD, 8, "question", "classify")
    assert (await repo_names.resolve(db, decl, event(OLD), received_at=150.0)).repo == NEW
    assert await labels(db, OLD) == {(8, "question"): "classify"}
    assert await labels(db, NEW) == {(5, "bug"): "classify"}
    assert await repo_names.current_name(db, 999) == OLD


@pytest.mark.parametrize("action, former", [("renamed", "Octocoders/Hello-World-old"),
                                            ("transferred", "octocat/Hello-World")])
async def test_a_repository_event_names_the_former_name_even_without_a_mapping(db, decl, action, former):
    payload = load_example("repository", action)
    if action == "renamed":
        payload["changes"]["repository"]["name"]["from"] = "Hello-World-old"
    repo_id = payload["repository"]["id"]
    await state.record_bot_label(db, former, 5, "bug", "classify")
    resolved = await repo_names.resolve(db, decl, Event(name="repository", payload=payload), received_at=100.0)
    assert resolved.repo == "Octocoders/Hello-World"
    assert await repo_names.current_name(db, repo_id) == "Octocoders/Hello-World"
    assert await labels(db, "Octocoders/Hello-World") == {(5, "bug"): "classify"}


# --- work running under a name while it is moved -------------------------------------------------

CARD = "comment:{}#5:<!-- contributor-flow:context-card -->"


async def test_what_a_delivery_running_under_the_old_name_writes_after_the_move_follows_it(db, decl):
    """PR #5's delivery is resolved under the old name, then the rename (another subject) moves
    the rows while it runs; its label and card are written under the old name after that. Its
    own repository id says they are its rows: ``follow``, after its actions, moves them."""
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    in_flight = await repo_names.resolve(db, decl, event(OLD), received_at=150.0)
    assert in_flight.repo == OLD
    await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    await state.record_bot_label(db, in_flight.repo, 5, "bug", "classify")
    await state.remember_created(db, CARD.format(OLD), OLD, "comment", "111")

    assert await repo_names.follow(db, decl, REPO_ID, in_flight.repo) == NEW
    assert await labels(db, NEW) == {(5, "bug"): "classify"} and await labels(db, OLD) == {}
    assert await state.created_object(db, CARD.format(NEW)) == "111"
    assert await state.created_object(db, CARD.format(OLD)) is None
    # Work that ran under the current name: nothing to follow (one read).
    assert await repo_names.follow(db, decl, REPO_ID, NEW) is None


async def test_a_late_delivery_moves_rows_written_under_its_name_after_it_was_moved_once(db, decl):
    """An attempt that ran under the old name and wrote after the move, then failed before it
    could follow (a transient error): the retry, still carrying the old name, moves them; that
    the name was moved once before does not stop it."""
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    await state.record_bot_label(db, OLD, 5, "bug", "classify")   # written after the move
    assert (await repo_names.resolve(db, decl, event(OLD), received_at=150.0)).repo == NEW
    assert await labels(db, NEW) == {(5, "bug"): "classify"} and await labels(db, OLD) == {}


async def test_a_name_another_repository_holds_now_is_never_followed(db, decl):
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    await repo_names.resolve(db, decl, event(OLD, repo_id=999, updated_at="2026-03-03T10:00:00Z"),
                             received_at=300.0)
    await state.record_bot_label(db, OLD, 8, "question", "classify")   # 999's
    assert await repo_names.follow(db, decl, REPO_ID, OLD) is None
    assert await repo_names.follow_moved_since(db, decl, 0.0) == []
    assert await labels(db, OLD) == {(8, "question"): "classify"} and await labels(db, NEW) == {}


async def test_a_job_running_across_a_rename_has_what_it_wrote_under_the_old_name_moved(db, decl):
    """A periodic job read the repository under its old name, the rename was moved while it
    ran, and it wrote under the old name: after the job, names moved since it started that no
    repository holds follow the repository that left them."""
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    started = time.time()
    await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    await state.record_bot_label(db, OLD, 5, "stale", "sla")
    assert await repo_names.follow_moved_since(db, decl, started) == [OLD]
    assert await labels(db, NEW) == {(5, "stale"): "sla"} and await labels(db, OLD) == {}
    # A move long before the job started is not looked at again.
    await state.record_bot_label(db, OLD, 6, "other", "sla")
    assert await repo_names.follow_moved_since(db, decl, started + 3600) == []
    assert await labels(db, OLD) == {(6, "other"): "sla"}


# --- a name another repository left --------------------------------------------------------------

async def test_renaming_onto_a_name_another_repository_left_keeps_that_repositorys_rows_apart(db, decl):
    """Repository 999 was octo/new, then left it unseen (deleted, or transferred where the App
    is not installed); 4711 is renamed octo/old -> octo/new. 999's rows go under a tombstone
    name, 4711's come with no conflict lost, and 999's come back if it is seen again."""
    await repo_names.resolve(db, decl, event(NEW, repo_id=999), received_at=50.0)
    await state.record_bot_label(db, NEW, 5, "stale-from-999", "classify")
    await state.remember_created(db, CARD.format(NEW), NEW, "comment", "999-card")
    await state.remember_installation(db, NEW, 1, False)
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    await state.remember_created(db, CARD.format(OLD), OLD, "comment", "4711-card")
    await state.remember_installation(db, OLD, 1, True)

    renamed = await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    assert renamed.repo == NEW
    assert await labels(db, NEW) == {}
    assert await state.created_object(db, CARD.format(NEW)) == "4711-card"
    gone = repo_names.tombstone(NEW, 999)
    assert gone == "octo/new@gone-999"
    assert await labels(db, gone) == {(5, "stale-from-999"): "classify"}
    assert await state.created_object(db, CARD.format(gone)) == "999-card"
    assert await repo_names.current_name(db, 999) == gone
    # Periodic jobs act on installed repositories: 4711 only (its own visibility), not the tombstone.
    assert [(r["repo"], r["is_private"]) for r in await state.installations(db)] == [(NEW, 1)]

    # A delivery 999 sent before, processed late, would be processed as the tombstone
    # (pipeline ignores it), never as 4711.
    assert (await repo_names.resolve(db, decl, event(NEW, repo_id=999), received_at=60.0)).repo == gone
    assert await labels(db, NEW) == {}
    # 999 seen again (transferred back to an installed organisation): its rows come with it.
    back = await repo_names.resolve(db, decl, event("other/docs", repo_id=999, updated_at="2026-03-05T10:00:00Z"),
                                    received_at=500.0)
    assert back.repo == "other/docs"
    assert await labels(db, "other/docs") == {(5, "stale-from-999"): "classify"}
    assert await labels(db, gone) == {}


async def test_a_first_sight_under_a_name_another_repository_left_takes_it(db, decl):
    await repo_names.resolve(db, decl, event(NEW, repo_id=999), received_at=50.0)
    await state.record_bot_label(db, NEW, 5, "stale-from-999", "classify")
    # 4711 created under that name later, first seen now.
    assert (await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"),
                                     received_at=200.0)).repo == NEW
    assert await labels(db, NEW) == {}
    assert await repo_names.current_name(db, 999) == repo_names.tombstone(NEW, 999)
    assert await repo_names.current_name(db, REPO_ID) == NEW


async def test_a_stale_sighting_does_not_take_a_name_from_the_repository_holding_it_later(db, decl):
    """4711's delivery was sent when it was octo/new, and 999 holds octo/new since (GitHub's
    clock says so): 4711 is not renamed onto it and 999 keeps its rows."""
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    await repo_names.resolve(db, decl, event(NEW, repo_id=999, updated_at="2026-03-05T10:00:00Z"), received_at=150.0)
    await state.record_bot_label(db, NEW, 8, "question", "classify")
    stale = await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    assert stale.repo == OLD
    assert await repo_names.current_name(db, 999) == NEW and await repo_names.current_name(db, REPO_ID) == OLD
    assert await labels(db, NEW) == {(8, "question"): "classify"}


async def test_the_renamed_event_moves_its_former_name_after_another_event_gave_the_new_one(db, decl):
    """No mapping yet; an issue comment under the new name is processed before the rename's own
    delivery (another subject): the name before, which that delivery says, still has rows."""
    payload = load_example("repository", "renamed")
    payload["changes"]["repository"]["name"]["from"] = "Hello-World-old"
    rid = payload["repository"]["id"]
    await state.record_bot_label(db, "Octocoders/Hello-World-old", 5, "bug", "classify")
    await repo_names.resolve(db, decl, event("Octocoders/Hello-World", repo_id=rid), received_at=101.0)
    assert await labels(db, "Octocoders/Hello-World-old") == {(5, "bug"): "classify"}
    await repo_names.resolve(db, decl, Event(name="repository", payload=payload), received_at=100.0)
    assert await labels(db, "Octocoders/Hello-World") == {(5, "bug"): "classify"}
    assert await labels(db, "Octocoders/Hello-World-old") == {}
    # A name another repository holds now is left to it.
    await state.record_bot_label(db, "Octocoders/Taken", 7, "mine", "classify")
    await repo_names.resolve(db, decl, event("Octocoders/Taken", repo_id=999), received_at=50.0)
    payload["changes"]["repository"]["name"]["from"] = "Taken"
    await repo_names.resolve(db, decl, Event(name="repository", payload=payload), received_at=102.0)
    assert await labels(db, "Octocoders/Taken") == {(7, "mine"): "classify"}


async def test_a_jobs_retry_hashes_each_repository_as_its_first_attempt_named_it(db, decl):
    """A periodic job's period retried after renames (tests/executor/test_rename_retry.py acts
    it out): the renamed repository is hashed as the first attempt named it, back to that name
    nothing is, and a repository that took the name meanwhile is hashed apart (it did nothing
    in the first attempt: none of its actions may be skipped as done)."""
    run = "job:sla-sweep:42"
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    assert await repo_names.names_of_first_attempt(db, run, [OLD, "octo/unknown"]) == {}
    await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    await repo_names.resolve(db, decl, event(OLD, repo_id=999, updated_at="2026-03-03T10:00:00Z"), received_at=300.0)
    assert await repo_names.names_of_first_attempt(db, run, [NEW, OLD]) == {NEW: OLD, OLD: f"{OLD}@id-999"}
    # Stable over further attempts; another run is its own first attempt.
    assert await repo_names.names_of_first_attempt(db, run, [OLD, NEW]) == {NEW: OLD, OLD: f"{OLD}@id-999"}
    assert await repo_names.names_of_first_attempt(db, "job:sla-sweep:43", [NEW, OLD]) == {}


@pytest.mark.parametrize("taken_as", ["Octo/New", "OCTO/new"])
async def test_a_name_another_repository_left_is_taken_from_it_in_any_case(db, decl, taken_as):
    """GitHub's names ignore case: 999 held octo/new, and 4711 is now Octo/New (first seen so,
    or renamed onto it). 999 left the name: its rows are set aside, not left beside 4711's as a
    second repository under the same name, and jobs no longer act on it."""
    await repo_names.resolve(db, decl, event(NEW, repo_id=999), received_at=50.0)
    await state.record_bot_label(db, NEW, 5, "stale-from-999", "classify")
    await state.remember_installation(db, NEW, 1)
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    await state.remember_installation(db, OLD, 1)
    assert (await repo_names.resolve(db, decl, event(taken_as, updated_at="2026-03-02T10:00:00Z"),
                                     received_at=200.0)).repo == taken_as
    assert await repo_names.current_name(db, 999) == repo_names.tombstone(NEW, 999)
    assert await labels(db, repo_names.tombstone(NEW, 999)) == {(5, "stale-from-999"): "classify"}
    assert await labels(db, NEW) == {}
    assert [r["repo"] for r in await state.installations(db)] == [taken_as]


async def test_a_rename_that_changes_only_case_keeps_one_repository_under_githubs_new_spelling(db, decl):
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    await state.record_bot_label(db, OLD, 5, "bug", "classify")
    await state.remember_installation(db, OLD, 1)
    assert (await repo_names.resolve(db, decl, event("octo/Old", updated_at="2026-03-02T10:00:00Z"),
                                     received_at=200.0)).repo == "octo/Old"
    assert [r["repo"] for r in await state.installations(db)] == ["octo/Old"]
    assert await labels(db, "octo/Old") == {(5, "bug"): "classify"}
    # A delivery sent before it, in the old spelling: the new one, not renamed back.
    assert (await repo_names.resolve(db, decl, event(OLD), received_at=150.0)).repo == "octo/Old"
    assert await repo_names.current_name(db, REPO_ID) == "octo/Old"


async def test_a_delivery_from_before_a_transfer_never_shows_the_old_owners_id_with_the_new_login(db, decl):
    """Queued before octo/old moved to neworg, processed after: its repository is shown under
    neworg/old, but its owner's id is octo's. Shown together they would say octo renamed its
    login to neworg, and the CLA would copy octo's signatures to neworg's agreement
    (cla.check._owner_sighting): the stale owner's identity is dropped instead."""
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)
    await repo_names.resolve(db, decl, event("neworg/old", updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    late = event(OLD, name="pull_request", action="opened")
    late.payload["pull_request"]["base"]["repo"]["id"] = REPO_ID
    octo_id = late.payload["repository"]["owner"]["id"]
    late.payload["pull_request"]["base"]["repo"]["owner"] = {**late.payload["repository"]["owner"]}
    resolved = await repo_names.resolve(db, decl, late, received_at=150.0)
    assert resolved.repo == "neworg/old"
    for repo in (resolved.payload["repository"], resolved.payload["pull_request"]["base"]["repo"]):
        assert repo["owner"]["login"] == "neworg" and repo["owner"].get("id") != octo_id
    # A rename within the owner keeps the owner as it was.
    await repo_names.resolve(db, decl, event("neworg/new", updated_at="2026-03-03T10:00:00Z"), received_at=300.0)
    same_owner = event("neworg/old", name="pull_request", action="opened")
    same_owner.payload["pull_request"]["base"]["repo"]["id"] = REPO_ID
    kept = await repo_names.resolve(db, decl, same_owner, received_at=250.0)
    assert kept.repo == "neworg/new" and kept.payload["repository"]["owner"] == same_owner.payload["repository"]["owner"]


async def test_a_repository_first_seen_in_a_delivery_older_than_another_ones_claim_is_not_given_its_name(db, decl):
    """999 is octo/new since 2026-03-05 (GitHub's clock). 4711, never seen before, shows up in a
    delivery sent when it was octo/new (2026-03-02: a missed delivery recovered late): it is
    not octo/new now. Processed under that name, the delivery would act on 999's issues (the
    API goes by name); it is set aside like a repository that left its name (and ignored)."""
    await repo_names.resolve(db, decl, event(NEW, repo_id=999, updated_at="2026-03-05T10:00:00Z"), received_at=150.0)
    await state.record_bot_label(db, NEW, 8, "question", "classify")
    stale = await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
    assert repo_names.is_tombstone(stale.repo)
    assert await repo_names.current_name(db, 999) == NEW and await repo_names.current_name(db, REPO_ID) != NEW
    assert await labels(db, NEW) == {(8, "question"): "classify"}
    # Seen later under the name it has now: known by it, nothing of 999's with it.
    fresh = await repo_names.resolve(db, decl, event("octo/elsewhere", updated_at="2026-03-06T10:00:00Z"),
                                     received_at=300.0)
    assert fresh.repo == "octo/elsewhere" and await labels(db, "octo/elsewhere") == {}
