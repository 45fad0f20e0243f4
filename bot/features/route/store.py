"""The routing feature's tables: writers (run by the executor), reads, and the two claims
made while deciding (a rotation's turn, a problem's report), which must be atomic."""
from __future__ import annotations

import time
from typing import Any, Callable

from ...store.db import Database
from ...store.state import forget_bot_label
from .rotation import Pick


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


WRITERS = {"routed": write_routed, "unrouted": write_unrouted, "rfc": write_rfc, "rfc_gone": write_rfc_gone,
           # Someone else took off a label the bot had added: it is not the bot's any more.
           "label_released": forget_bot_label}


async def routed(db: Database, repo: str, number: int, kind: str) -> bool:
    return await db.fetchval("SELECT 1 FROM route_done WHERE repo = ? AND number = ? AND kind = ?",
                             (repo, number, kind)) is not None


async def routings(db: Database, repo: str, number: int) -> list[dict[str, Any]]:
    """The kinds the issue was routed for, with the board and the labels routing added."""
    rows = await db.fetchall("SELECT kind, board, labels FROM route_done WHERE repo = ? AND number = ?"
                             " ORDER BY routed_at", (repo, number))
    return [{"kind": r["kind"], "board": r["board"], "labels": [x for x in r["labels"].split("\n") if x]}
            for r in rows]


async def claim_turn(db: Database, repo: str, rotation: str, number: int, choose: Callable[[int], Pick]) -> Pick:
    """The rotation's turn for issue ``number``: ``choose(last index)`` picks, and the turn
    moves on in the same transaction, the rotation's row locked meanwhile. Reading the turn
    while deciding and saving it with the actions let two issues routed at once (other
    subjects on one worker, other replicas) both get the same person. An issue that
    claimed a turn before (a retried delivery) gets that person back, the turn unmoved."""
    # SQLite: the transaction (BEGIN IMMEDIATE) already holds the only write lock.
    lock = " FOR UPDATE" if db.dialect == "postgresql" else ""
    async with db.transaction():
        await db.execute("INSERT INTO route_rotation (repo, rotation, last_index, last_login, updated_at)"
                         " VALUES (?, ?, -1, '', ?) ON CONFLICT (repo, rotation) DO NOTHING",
                         (repo, rotation, time.time()))
        last = await db.fetchval("SELECT last_index FROM route_rotation WHERE repo = ? AND rotation = ?" + lock,
                                 (repo, rotation))
        held = await db.fetchone("SELECT turn_index, login, skipped FROM route_turns"
                                 " WHERE repo = ? AND rotation = ? AND number = ?", (repo, rotation, number))
        if held is not None:
            return Pick(held["login"], int(held["turn_index"]), tuple(s for s in held["skipped"].split("\n") if s))
        pick = choose(int(last))
        if pick.login is None:
            return pick
        now = time.time()
        await db.execute("UPDATE route_rotation SET last_index = ?, last_login = ?, updated_at = ?"
                         " WHERE repo = ? AND rotation = ?", (pick.index, pick.login, now, repo, rotation))
        await db.execute("INSERT INTO route_turns (repo, rotation, number, turn_index, login, skipped, claimed_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (repo, rotation, number, pick.index, pick.login, "\n".join(pick.skipped), now))
        return pick


async def claim_problem(db: Database, repo: str, problem: str, claimant: str) -> bool:
    """Whether the decision ``claimant`` (a delivery, a job's period) reports ``problem``:
    the first to claim it (one statement: of decisions made at once only one wins), and
    the same one again when decided again (a retried delivery), so the maintainers get
    one comment."""
    await db.execute("INSERT INTO route_problems (repo, problem, reported_at, claimed_by) VALUES (?, ?, ?, ?)"
                     " ON CONFLICT (repo, problem) DO NOTHING", (repo, problem, time.time(), claimant))
    owner = await db.fetchval("SELECT claimed_by FROM route_problems WHERE repo = ? AND problem = ?", (repo, problem))
    return bool(claimant) and owner == claimant


async def rfc(db: Database, repo: str, number: int) -> dict[str, Any] | None:
    return await db.fetchone("SELECT state, title, url, opened_at, gone FROM rfc_items WHERE repo = ? AND number = ?",
                             (repo, number))


async def rfcs_in(db: Database, repo: str, state: str) -> list[dict[str, Any]]:
    """The RFCs in ``state`` whose issues are open here, oldest first."""
    return await db.fetchall("SELECT number, title, url, opened_at FROM rfc_items WHERE repo = ? AND state = ?"
                             " AND gone = '' ORDER BY opened_at, number", (repo, state))
