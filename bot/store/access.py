"""Access generations, shared by the replicas (see core/access.py for what moves them).

A generation only goes up (a row is never deleted): a replica that read an older one keys its
cached roles by it, and they are never matched again once it moved on.
"""
from __future__ import annotations

import time
from typing import Iterable

from ..core.access import generation_of, scopes_of
from .db import Database


async def bump(db: Database, scopes: Iterable[str], now: float | None = None) -> None:
    now = time.time() if now is None else now
    for scope in scopes:
        await db.execute(
            "INSERT INTO access_generations (scope, generation, changed_at) VALUES (?, 1, ?)"
            " ON CONFLICT (scope) DO UPDATE SET generation = access_generations.generation + 1,"
            " changed_at = excluded.changed_at", (scope, now))


async def generation(db: Database, repo: str) -> tuple[int, int]:
    """``repo``'s generation (its own and its owner's): one query."""
    rows = await db.fetchall("SELECT scope, generation FROM access_generations WHERE scope IN (?, ?)",
                             scopes_of(repo))
    return generation_of(repo, {r["scope"]: r["generation"] for r in rows})


async def every_generation(db: Database) -> dict[str, int]:
    """All scopes' generations, for a job about many repositories (one row per repository or
    owner whose access ever changed)."""
    rows = await db.fetchall("SELECT scope, generation FROM access_generations")
    return {r["scope"]: int(r["generation"]) for r in rows}
