"""The routing feature's tables: writers (run by the executor) and reads.

Two writers are compare-and-sets: a rotation's turn and a problem's report. Deciding only
reads them; what was read travels in the Record, and the writer refuses it (StaleTurn) if
another decision wrote first, so that routings made at once get successive people and one
report, and a dry run (``replay``) writes nothing."""
from __future__ import annotations

import time
from typing import Any

from ...core.retry import RetryLater
from ...store.db import Database
from .rotation import Pick


class StaleTurn(RetryLater):
    """Another decision took the turn (or reported the problem) after this one read it: the
    delivery (or job) is decided again at once."""


async def write_routed(db: Database, *, repo: str, number: int, kind: str, summary: str, board: str = "",
                       labels: tuple[str, ...] | list[str] = ()) -> None:
    await db.execute("INSERT INTO route_done (repo, number, kind, summary, routed_at, board, labels)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo, number, kind) DO NOTHING",
                     (repo, number, kind, summary, time.time(), board, "\n".join(labels)))


async def write_unrouted(db: Database, *, repo: str, number: int, kind: str) -> None:
    """The issue is no longer of ``kind``: should it become one again, it is routed again."""
    await db.execute("DELETE FROM route_done WHERE repo = ? AND number = ? AND kind = ?", (repo, number, kind))


async def write_rfc(db: Database, *, repo: str, number: int, state: str, title: str, url: str,
                    opened_at: float) -> None:
    now = time.time()
    await db.execute(
        "INSERT INTO rfc_items (repo, number, state, title, url, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (repo, number) DO UPDATE SET state = excluded.state, title = excluded.title,"
        " url = excluded.url, updated_at = excluded.updated_at",
        (repo, number, state, title, url, opened_at, now))


async def write_rfc_gone(db: Database, *, repo: str, number: int, gone: str) -> None:
    """The RFC's issue was closed, transferred or deleted (``gone``), or reopened ('')."""
    await db.execute("UPDATE rfc_items SET gone = ?, updated_at = ? WHERE repo = ? AND number = ?",
                     (gone, time.time(), repo, number))


async def routed(db: Database, repo: str, number: int, kind: str) -> bool:
    return await db.fetchval("SELECT 1 FROM route_done WHERE repo = ? AND number = ? AND kind = ?",
                             (repo, number, kind)) is not None


async def routings(db: Database, repo: str, number: int) -> list[dict[str, Any]]:
    """The kinds the issue was routed for, with the board and the labels routing added."""
    rows = await db.fetchall("SELECT kind, board, labels FROM route_done WHERE repo = ? AND number = ?"
                             " ORDER BY routed_at", (repo, number))
    return [{"kind": r["kind"], "board": r["board"], "labels": [x for x in r["labels"].split("\n") if x]}
            for r in rows]


async def turn(db: Database, repo: str, rotation: str, number: int) -> tuple[int, str, Pick | None]:
    """The rotation's last turn (its index, and who took it: '' before the first), and the
    one issue ``number`` took if it took one (a delivery decided again after its turn was
    written gets that person back)."""
    row = await db.fetchone("SELECT last_index, last_login FROM route_rotation WHERE repo = ? AND rotation = ?",
                            (repo, rotation))
    held = await db.fetchone("SELECT turn_index, login, skipped FROM route_turns"
                             " WHERE repo = ? AND rotation = ? AND number = ?", (repo, rotation, number))
    taken = None if held is None else Pick(held["login"], int(held["turn_index"]),
                                           tuple(s for s in held["skipped"].split("\n") if s))
    return (-1 if row is None else int(row["last_index"])), (row["last_login"] if row else ""), taken


async def write_turn(db: Database, *, repo: str, rotation: str, number: int, after: int, index: int, login: str,
                     skipped: list[str] | tuple[str, ...] = ()) -> None:
    """Issue ``number`` takes the turn ``index``, decided when the last turn was ``after``.
    A compare-and-set, the rotation's row locked meanwhile: if another issue took a turn
    since (routed at once: other subjects on one worker, other replicas), StaleTurn, and
    the delivery is decided again from the new turn, so the two get successive people. The
    same turn written again (a retried delivery) changes nothing."""
    # SQLite: the transaction (BEGIN IMMEDIATE) already holds the only write lock.
    lock = " FOR UPDATE" if db.dialect == "postgresql" else ""
    async with db.transaction():
        await db.execute("INSERT INTO route_rotation (repo, rotation, last_index, last_login, updated_at)"
                         " VALUES (?, ?, -1, '', ?) ON CONFLICT (repo, rotation) DO NOTHING",
                         (repo, rotation, time.time()))
        last = await db.fetchval("SELECT last_index FROM route_rotation WHERE repo = ? AND rotation = ?" + lock,
                                 (repo, rotation))
        held = await db.fetchval("SELECT login FROM route_turns WHERE repo = ? AND rotation = ? AND number = ?",
                                 (repo, rotation, number))
        if held is not None:
            if held == login:
                return
            raise StaleTurn(f"{repo}#{number} already took {held}'s turn in {rotation!r}: deciding again")
        if int(last) != after:
            raise StaleTurn(f"rotation {rotation!r} of {repo} moved on since the decision read it: deciding again")
        now = time.time()
        await db.execute("UPDATE route_rotation SET last_index = ?, last_login = ?, updated_at = ?"
                         " WHERE repo = ? AND rotation = ?", (index, login, now, repo, rotation))
        await db.execute("INSERT INTO route_turns (repo, rotation, number, turn_index, login, skipped, claimed_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (repo, rotation, number, index, login, "\n".join(skipped), now))


async def problem_reporter(db: Database, repo: str, problem: str) -> str | None:
    """Which decision (a delivery, a job's period) reported ``problem``, if one did."""
    return await db.fetchval("SELECT claimed_by FROM route_problems WHERE repo = ? AND problem = ?", (repo, problem))


async def write_problem(db: Database, *, repo: str, problem: str, claimant: str) -> None:
    """The decision ``claimant`` reports ``problem`` (its comment follows in the same
    batch). The first to write it wins (one statement); a decision that lost to another
    made at once gets StaleTurn before its comment, and decided again it finds the problem
    reported. The same decision again (a retried delivery) writes nothing new."""
    await db.execute("INSERT INTO route_problems (repo, problem, reported_at, claimed_by) VALUES (?, ?, ?, ?)"
                     " ON CONFLICT (repo, problem) DO NOTHING", (repo, problem, time.time(), claimant))
    owner = await problem_reporter(db, repo, problem)
    if owner != claimant:
        raise StaleTurn(f"{problem!r} in {repo} was reported by another decision ({owner}): deciding again")


async def reported(db: Database, repo: str, problems: list[str]) -> list[str]:
    """Which of ``problems`` were reported."""
    if not problems:
        return []
    rows = await db.fetchall(f"SELECT problem FROM route_problems WHERE repo = ? AND problem IN"
                             f" ({', '.join('?' * len(problems))})", (repo, *problems))
    return sorted(r["problem"] for r in rows)


async def write_problems_solved(db: Database, *, repo: str, problems: list[str]) -> None:
    """A check found these problems fixed: should one come back, it is reported again."""
    for problem in problems:
        await db.execute("DELETE FROM route_problems WHERE repo = ? AND problem = ?", (repo, problem))


async def rfc(db: Database, repo: str, number: int) -> dict[str, Any] | None:
    return await db.fetchone("SELECT state, title, url, opened_at, gone FROM rfc_items WHERE repo = ? AND number = ?",
                             (repo, number))


async def rfcs_in(db: Database, repo: str, state: str) -> list[dict[str, Any]]:
    """The RFCs in ``state`` whose issues are open here, oldest first."""
    return await db.fetchall("SELECT number, title, url, opened_at FROM rfc_items WHERE repo = ? AND state = ?"
                             " AND gone = '' ORDER BY opened_at, number", (repo, state))


WRITERS = {"routed": write_routed, "unrouted": write_unrouted, "rfc": write_rfc, "rfc_gone": write_rfc_gone,
           "turn": write_turn, "problem": write_problem, "problems_solved": write_problems_solved}
