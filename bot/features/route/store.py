"""The routing feature's tables: writers (run by the executor) and reads."""
from __future__ import annotations

import time
from typing import Any

from ...store.db import Database


async def write_routed(db: Database, *, repo: str, number: int, kind: str, summary: str, board: str = "",
                       labels: tuple[str, ...] | list[str] = ()) -> None:
    await db.execute("INSERT INTO route_done (repo, number, kind, summary, routed_at, board, labels)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo, number, kind) DO NOTHING",
                     (repo, number, kind, summary, time.time(), board, "\n".join(labels)))


async def write_unrouted(db: Database, *, repo: str, number: int, kind: str) -> None:
    """The issue is no longer of ``kind``: should it become one again, it is routed again."""
    await db.execute("DELETE FROM route_done WHERE repo = ? AND number = ? AND kind = ?", (repo, number, kind))


async def write_turn(db: Database, *, repo: str, rotation: str, index: int, login: str) -> None:
    await db.execute(
        "INSERT INTO route_rotation (repo, rotation, last_index, last_login, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (repo, rotation) DO UPDATE SET last_index = excluded.last_index,"
        " last_login = excluded.last_login, updated_at = excluded.updated_at",
        (repo, rotation, index, login, time.time()))


async def write_problem(db: Database, *, repo: str, problem: str) -> None:
    await db.execute("INSERT INTO route_problems (repo, problem, reported_at) VALUES (?, ?, ?)"
                     " ON CONFLICT (repo, problem) DO NOTHING", (repo, problem, time.time()))


async def write_rfc(db: Database, *, repo: str, number: int, state: str, title: str, url: str,
                    opened_at: float) -> None:
    now = time.time()
    await db.execute(
        "INSERT INTO rfc_items (repo, number, state, title, url, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (repo, number) DO UPDATE SET state = excluded.state, title = excluded.title,"
        " url = excluded.url, updated_at = excluded.updated_at",
        (repo, number, state, title, url, opened_at, now))


async def write_agenda(db: Database, *, repo: str, week: str, target: str, items: int) -> None:
    await db.execute("INSERT INTO rfc_agendas (repo, week, target, items, posted_at) VALUES (?, ?, ?, ?, ?)"
                     " ON CONFLICT (repo, week) DO NOTHING", (repo, week, target, items, time.time()))


WRITERS = {"routed": write_routed, "unrouted": write_unrouted, "turn": write_turn, "problem": write_problem, "rfc": write_rfc,
           "agenda": write_agenda}


async def routed(db: Database, repo: str, number: int, kind: str) -> bool:
    return await db.fetchval("SELECT 1 FROM route_done WHERE repo = ? AND number = ? AND kind = ?",
                             (repo, number, kind)) is not None


async def routings(db: Database, repo: str, number: int) -> list[dict[str, Any]]:
    """The kinds the issue was routed for, with the board and the labels routing added."""
    rows = await db.fetchall("SELECT kind, board, labels FROM route_done WHERE repo = ? AND number = ?"
                             " ORDER BY routed_at", (repo, number))
    return [{"kind": r["kind"], "board": r["board"], "labels": [x for x in r["labels"].split("\n") if x]}
            for r in rows]


async def last_turn(db: Database, repo: str, rotation: str) -> int:
    value = await db.fetchval("SELECT last_index FROM route_rotation WHERE repo = ? AND rotation = ?",
                              (repo, rotation))
    return -1 if value is None else int(value)


async def problem_reported(db: Database, repo: str, problem: str) -> bool:
    return await db.fetchval("SELECT 1 FROM route_problems WHERE repo = ? AND problem = ?",
                             (repo, problem)) is not None


async def rfc(db: Database, repo: str, number: int) -> dict[str, Any] | None:
    return await db.fetchone("SELECT state, title, url, opened_at FROM rfc_items WHERE repo = ? AND number = ?",
                             (repo, number))


async def rfcs_in(db: Database, repo: str, state: str) -> list[dict[str, Any]]:
    return await db.fetchall("SELECT number, title, url, opened_at FROM rfc_items WHERE repo = ? AND state = ?"
                             " ORDER BY opened_at, number", (repo, state))


async def agenda_posted(db: Database, repo: str, week: str) -> bool:
    return await db.fetchval("SELECT 1 FROM rfc_agendas WHERE repo = ? AND week = ?", (repo, week)) is not None
