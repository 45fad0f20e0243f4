"""Holds GitHub asked for (Retry-After, secondary limits), shared between replicas.

A replica told to wait records the instant in ``github_holds``; every replica reads the
table about once a second and holds its own requests for that installation until then.
Requests already on their way when the answer came cannot be recalled, and a replica may
send for up to one polling interval before it learns of a hold another one got.
"""
from __future__ import annotations

from .db import Database


async def publish(db: Database, scope: str, until: float) -> None:
    await db.execute(
        "INSERT INTO github_holds (scope, not_before) VALUES (?, ?)"
        " ON CONFLICT (scope) DO UPDATE SET not_before = excluded.not_before"
        " WHERE github_holds.not_before < excluded.not_before", (scope, until))


async def current(db: Database, now: float) -> list[tuple[str, float]]:
    rows = await db.fetchall("SELECT scope, not_before FROM github_holds WHERE not_before > ?", (now,))
    return [(r["scope"], float(r["not_before"])) for r in rows]
