"""Which name a repository's rows are kept under, by GitHub's repository id.

Every delivery about a repository carries its id and its current full name, so a rename or a
transfer is noticed from whatever event comes next (an installation that has not accepted the
``repository`` event still gets the others): the rows kept under the old name are then moved
to the new one (``renames.move``), in the transaction that records the new name.

Ordering. A delivery queued before the rename still carries the old name and may be processed
after it (another subject's queue, a retry, a missed delivery recovered days later). The
mapping records when its name last changed (``changed_at``, the receiving time of the delivery
that gave it) and the newest ``repository.updated_at`` seen with that name (``snapshot_at``,
GitHub's own clock, which no later edit of the repository moves back). A delivery naming the
repository otherwise renames it only if it was received after the change and its payload is
no older than that snapshot: a missed delivery recovered later is received late, but its
snapshot gives it away. Any other delivery with another name is older: it is processed under
the current name (``with_repo_name``), and whatever rows its name still has (the mapping was
first made from a newer delivery, or an attempt of it ran under that name) are moved to the
current name.

Work already running under the old name when the move happens (a delivery resolved just
before it, a periodic job) keeps writing under that name: ``follow`` (after a delivery's
actions) and ``follow_moved_since`` (after a job) move those rows too; a move takes the mapping
table exclusively, so such work reads the new name after its last write or its writes were
there for the move. A name another repository held (it left it unseen: deleted, or transferred
where the App is not installed) is cleared first (``_evict``): that repository's rows are kept
under a ``tombstone`` name, never merged into the newcomer's.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..core.events import Event, parse_time, with_repo_name
from . import renames, state
from .db import Database

log = logging.getLogger("bot.repo_names")

RENAME_LOCK = 0x6366_726E  # "cfrn": one rename at a time across replicas
# Events heard for this alone, whatever the features handle: the rename (or transfer) itself, so
# the rows move before the repository's next event (any other event would move them too).
EVENTS = frozenset({"repository"})

CORE = renames.NameColumns(
    rewrite={"created_objects.fingerprint": state.rename_created_keys},
    kept={
        "deliveries.repo": "history: each delivery as it was received (its body says the same)",
        "deliveries.subject": "the queue's ordering key of a delivery already queued",
        "repo_names.full_name": "the mapping itself",
        "repo_former_names.full_name": "the names a repository had: what this table is for",
        "repo_former_names.renamed_to": "the name the rows were moved to then",
        "installation_departures.full_name": "a repository taken out of the App's installation: "
                                             "no delivery tells of its renames any more",
    },
)


@dataclass(frozen=True)
class Sighting:
    """What one delivery says of its repository."""
    repo_id: int
    full_name: str
    received_at: float
    snapshot_at: float | None = None
    # The name before, when the event says it (repository.renamed / .transferred).
    former: str | None = None


def snapshot_time(event: Event) -> float | None:
    """When the repository as the payload has it was GitHub's (its ``updated_at``, epoch
    seconds), however late the delivery is received; None when the payload does not say."""
    repository = event.payload.get("repository")
    if not isinstance(repository, Mapping):
        return None
    try:
        updated = parse_time(repository.get("updated_at"))
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return updated.timestamp() if updated else None


def sighting(event: Event, received_at: float) -> Sighting | None:
    repository = event.payload.get("repository")
    if not isinstance(repository, Mapping) or "/" not in event.repo:
        return None
    try:
        repo_id = int(repository["id"])
    except (KeyError, TypeError, ValueError):
        return None
    return Sighting(repo_id, event.repo, received_at, snapshot_time(event), _former_name(event))


def _former_name(event: Event) -> str | None:
    if event.name != "repository":
        return None
    changes = event.payload.get("changes") or {}
    owner, name = event.repo.split("/", 1)
    if event.action == "renamed":
        old = ((changes.get("repository") or {}).get("name") or {}).get("from")
        return f"{owner}/{old}" if old else None
    if event.action == "transferred":
        was = (changes.get("owner") or {}).get("from") or {}
        login = ((was.get("organization") or was.get("user")) or {}).get("login")
        return f"{login}/{name}" if login else None
    return None


def newer(seen: Sighting, row: Mapping[str, Any]) -> bool:
    """Whether ``seen`` is later than the mapping's current name (module doc)."""
    if seen.received_at <= float(row["changed_at"]):
        return False
    snapshot = row["snapshot_at"]
    return seen.snapshot_at is None or snapshot is None or seen.snapshot_at >= float(snapshot)


async def current_name(db: Database, repo_id: int) -> str | None:
    return await db.fetchval("SELECT full_name FROM repo_names WHERE repo_id = ?", (repo_id,))


async def resolve(db: Database, decl: renames.Declarations, event: Event, received_at: float) -> Event:
    """``event`` under the name its repository's rows are kept under now, after moving them
    if this delivery is the first to say the repository was renamed or transferred."""
    seen = sighting(event, received_at)
    if seen is None:
        return event
    row = await db.fetchone("SELECT full_name, changed_at, snapshot_at FROM repo_names WHERE repo_id = ?",
                            (seen.repo_id,))
    if row is not None and row["full_name"] == seen.full_name:
        if seen.snapshot_at is not None and (row["snapshot_at"] is None or seen.snapshot_at > row["snapshot_at"]):
            await db.execute("UPDATE repo_names SET snapshot_at = ? WHERE repo_id = ? AND full_name = ?"
                             " AND (snapshot_at IS NULL OR snapshot_at < ?)",
                             (seen.snapshot_at, seen.repo_id, seen.full_name, seen.snapshot_at))
        if seen.former and seen.former != seen.full_name:
            # The mapping learnt the new name from another delivery first (an issue comment
            # processed before the rename's own): the name before may still hold rows.
            await _adopt_former(db, decl, seen)
        return event
    if row is None and not seen.former:
        await db.execute("INSERT INTO repo_names (repo_id, full_name, changed_at, snapshot_at) VALUES (?, ?, ?, ?)"
                         " ON CONFLICT (repo_id) DO NOTHING",
                         (seen.repo_id, seen.full_name, seen.received_at, seen.snapshot_at))
        # Once per repository: is the name its alone (another id may have left it unseen)?
        holders = await db.fetchall("SELECT repo_id, full_name FROM repo_names"
                                    " WHERE repo_id = ? OR lower(full_name) = ?", (seen.repo_id, seen.full_name.lower()))
        if [(int(r["repo_id"]), r["full_name"]) for r in holders] == [(seen.repo_id, seen.full_name)]:
            return event
    name = await _settle(db, decl, seen)
    return with_repo_name(event, name)


async def _exclusive(db: Database) -> None:
    """Inside the rename lock's transaction: every read of the mapping waits until this move
    commits. Work that ran under a name (a delivery, a job) reads the mapping after its last
    write (``follow``): either its rows were there for this move to take, or it reads the new
    name and moves them itself. (SQLite: the transaction already holds every other statement.)"""
    if db.dialect == "postgresql":
        await db.execute("LOCK TABLE repo_names IN ACCESS EXCLUSIVE MODE")


async def _settle(db: Database, decl: renames.Declarations, seen: Sighting) -> str:
    """Under the rename lock, one transaction: rename, or move an older name's rows. Returns
    the name the delivery is processed under."""
    async with db.advisory_lock(RENAME_LOCK):
        await _exclusive(db)
        row = await db.fetchone("SELECT full_name, changed_at, snapshot_at FROM repo_names WHERE repo_id = ?",
                                (seen.repo_id,))
        if row is None:
            # First sight, from a repository.renamed/.transferred: the name before is the
            # one rows may be kept under.
            row = {"full_name": seen.former or seen.full_name, "changed_at": 0.0, "snapshot_at": None}
            await db.execute("INSERT INTO repo_names (repo_id, full_name, changed_at, snapshot_at)"
                             " VALUES (?, ?, ?, ?)", (seen.repo_id, row["full_name"], 0.0, None))
        current = row["full_name"]
        if current == seen.full_name:
            # First sight under a name another repository's mapping still holds.
            if await _evict(db, decl, seen):
                return current
            # ... since later than this delivery was sent: its name now is unknown, and not
            # this one (the API goes by name: processed so, it would act on the other's
            # issues). Set aside as a repository that left its name is, until seen anew.
            gone = tombstone(current, seen.repo_id)
            await db.execute("UPDATE repo_names SET full_name = ? WHERE repo_id = ?", (gone, seen.repo_id))
            return gone
        if newer(seen, row) and await _evict(db, decl, seen):
            await _move(db, decl, seen.repo_id, current, seen.full_name)
            await db.execute("UPDATE repo_names SET full_name = ?, changed_at = ?, snapshot_at = ? WHERE repo_id = ?",
                             (seen.full_name, seen.received_at, seen.snapshot_at, seen.repo_id))
            log.info("repository %s (id %d) is now %s", current, seen.repo_id, seen.full_name)
            if seen.former and seen.former not in (current, seen.full_name):
                await _adopt_former(db, decl, seen)
            return seen.full_name
        # An older delivery: its name's rows, if any are left (written by work that ran
        # under it after the move, or before the mapping knew the name), belong under the
        # current name, unless another repository holds that name now.
        if not await _taken(db, seen.repo_id, seen.full_name):
            await _move(db, decl, seen.repo_id, seen.full_name, current)
        return current


async def _taken(db: Database, repo_id: int, name: str) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM repo_names WHERE full_name = ? AND repo_id <> ?", (name, repo_id)))


def tombstone(name: str, repo_id: int) -> str:
    """Where a repository's rows go when another takes its name: no GitHub name has an @."""
    return f"{name}@gone-{repo_id}"


def is_tombstone(name: str) -> bool:
    return "@gone-" in name


async def _evict(db: Database, decl: renames.Declarations, seen: Sighting) -> bool:
    """GitHub names one repository at a time: another id whose mapping still holds the name
    ``seen`` carries left it (deleted, or transferred where the App is not installed: no event
    said so). Its rows move out of the way, under ``tombstone``, before this repository's rows
    come: merged, they would win key conflicts (its card, its labels). The mapping follows
    them, so if that repository is seen again (under any name) its rows come back with it;
    its installation row goes (periodic jobs act on installed repositories; its next delivery
    records it again). False (nothing done) when the other claim is the later one: this
    sighting's name is then stale."""
    # In any case: GitHub's names ignore it (octo/Old is the name octo/old was). lower() in
    # SQL folds ASCII only on SQLite: enough, GitHub's names are ASCII.
    others = await db.fetchall("SELECT repo_id, full_name, changed_at, snapshot_at FROM repo_names"
                               " WHERE lower(full_name) = ? AND repo_id <> ?", (seen.full_name.lower(), seen.repo_id))
    if any(_later_claim(o, seen) for o in others):
        log.warning("repository id %d seen as %s, which id %s holds since later: not renamed", seen.repo_id,
                    seen.full_name, ", ".join(str(o["repo_id"]) for o in others))
        return False
    for other in others:
        gone = tombstone(other["full_name"], int(other["repo_id"]))
        await _move(db, decl, int(other["repo_id"]), other["full_name"], gone)
        await db.execute("DELETE FROM repo_installations WHERE repo = ?", (gone,))
        await db.execute("UPDATE repo_names SET full_name = ?, changed_at = ? WHERE repo_id = ?",
                         (gone, seen.received_at, other["repo_id"]))
        log.info("repository id %s no longer holds %s (id %d does): its rows kept as %s",
                 other["repo_id"], seen.full_name, seen.repo_id, gone)
    return True


def _later_claim(other: Mapping[str, Any], seen: Sighting) -> bool:
    """Whether another repository's mapping took the name after ``seen`` was sent. Both
    snapshots known: GitHub's clocks decide (the repository that left a name was updated when
    it left, before the one that took it was named so); else the receiving times."""
    if seen.snapshot_at is not None and other["snapshot_at"] is not None:
        return float(other["snapshot_at"]) >= seen.snapshot_at
    return float(other["changed_at"]) >= seen.received_at


async def _adopt_former(db: Database, decl: renames.Declarations, seen: Sighting) -> None:
    """A repository event's name before (``seen.former``): its rows are this repository's,
    unless another repository holds that name now or they were moved already."""
    async with db.advisory_lock(RENAME_LOCK):
        await _exclusive(db)
        current = await current_name(db, seen.repo_id)
        former = seen.former
        if former is None or current is None or former == current or await _taken(db, seen.repo_id, former):
            return
        if await db.fetchval("SELECT 1 FROM repo_former_names WHERE repo_id = ? AND full_name = ?",
                             (seen.repo_id, former)):
            return
        await _move(db, decl, seen.repo_id, former, current)


async def follow(db: Database, decl: renames.Declarations, repo_id: int, ran_as: str) -> str | None:
    """After work on repository ``repo_id`` that ran under the name ``ran_as`` (a delivery,
    after its actions): if the repository was renamed meanwhile, what that work wrote under
    ``ran_as`` after the move is moved to the current name. Its id says the rows are its own;
    another repository holding ``ran_as`` now keeps it. One read when nothing was renamed.
    Returns the name the rows were moved to, if any."""
    current = await current_name(db, repo_id)
    if current is None or current == ran_as:
        return None
    async with db.advisory_lock(RENAME_LOCK):
        await _exclusive(db)
        current = await current_name(db, repo_id)
        if current is None or current == ran_as or await _taken(db, repo_id, ran_as):
            return None
        await _move(db, decl, repo_id, ran_as, current)
        return current


# The ledger row (``executed_actions``) recording the name a run's first attempt gave a
# repository: not a fingerprint (those are hex), so no action's entry can be taken for it.
_FIRST_NAME = "repo-id:{}"
_FIRST_NAME_KIND = "name-hashed-as"


async def names_of_first_attempt(db: Database, run_id: str, names: Iterable[str]) -> dict[str, str]:
    """For work retried as a whole that reads its repositories afresh in each attempt (a
    periodic job's period: one ``run_id`` in every attempt), the executor's ``hashed_as``:
    {name now: name the run's first attempt acted under} for each repository renamed between
    two attempts, so a retry's fingerprints and places are the first attempt's and the ledger
    skips what it did, as a delivery's are the name it came with. The first attempt records
    each known repository's name by id in the run's ledger; nothing is hashed differently
    without a rename. Another repository that took the name between attempts is hashed
    apart, so it is not skipped as the one that had it."""
    wanted = sorted({name for name in names if name and "/" in name})
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    rows = await db.fetchall(f"SELECT repo_id, full_name FROM repo_names WHERE full_name IN ({marks})"
                             " ORDER BY repo_id", tuple(wanted))
    hashed: dict[str, str] = {}
    for row in rows:
        key, name = _FIRST_NAME.format(int(row["repo_id"])), row["full_name"]
        first = await state.action_result(db, run_id, key)
        if first is None:
            taken = await db.fetchval("SELECT 1 FROM executed_actions WHERE delivery_id = ? AND kind = ?"
                                      " AND result = ?", (run_id, _FIRST_NAME_KIND, name))
            await state.mark_action_done(db, run_id, key, _FIRST_NAME_KIND,
                                         f"{name}@id-{int(row['repo_id'])}" if taken else name)
            first = await state.action_result(db, run_id, key)
        if first and first != name:
            hashed[name] = first
    return hashed


# Clocks of two replicas may differ: work started this long before a move may have run under
# the name it moved.
CLOCK_SKEW = 120.0


async def follow_moved_since(db: Database, decl: renames.Declarations, started_at: float) -> list[str]:
    """After work that named repositories from what it read (a periodic job): names moved
    away since it started (``started_at``, epoch seconds) and held by no repository now may
    have been written under again; each is moved to the name of the repository that left it
    last. One read of the (small) former-names table. Returns the names followed."""
    rows = await db.fetchall(
        "SELECT f.repo_id, f.full_name FROM repo_former_names f WHERE f.moved_at >= ?"
        " AND NOT EXISTS (SELECT 1 FROM repo_names n WHERE n.full_name = f.full_name)"
        " ORDER BY f.moved_at DESC", (started_at - CLOCK_SKEW,))
    followed: list[str] = []
    for row in rows:
        if row["full_name"] not in followed and await follow(db, decl, int(row["repo_id"]), row["full_name"]):
            followed.append(row["full_name"])
    return followed


async def _move(db: Database, decl: renames.Declarations, repo_id: int, old: str, new: str) -> None:
    counts = await renames.move(db, old, new, decl)
    total = sum(counts.values())
    await db.execute(
        "INSERT INTO repo_former_names (repo_id, full_name, renamed_to, moved_at, rows_moved) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (repo_id, full_name) DO UPDATE SET renamed_to = excluded.renamed_to,"
        " moved_at = excluded.moved_at, rows_moved = excluded.rows_moved",
        (repo_id, old, new, time.time(), total))
    # A name taken back (o/a -> o/b -> o/a) is current again, not a former name.
    await db.execute("DELETE FROM repo_former_names WHERE repo_id = ? AND full_name = ?", (repo_id, new))
    log.info("moved %d rows of %s to %s (%s)", total, old, new,
             ", ".join(f"{table}: {n}" for table, n in sorted(counts.items())) or "none")
