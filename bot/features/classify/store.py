"""The classify feature's tables: writers (run by the executor) and reads."""
from __future__ import annotations

import json
import time
from typing import Any, Sequence

from ...store.db import Database


async def write_decision(db: Database, *, repo: str, number: int, delivery_id: str, kind: str | None,
                         best: str | None, confidence: float, source: str, signals: Sequence[dict],
                         set_item: bool = True) -> None:
    now = time.time()
    await db.execute(
        "INSERT INTO classify_decisions (repo, number, delivery_id, kind, best, confidence, source, signals,"
        " decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (delivery_id, repo, number, source) DO NOTHING",
        (repo, number, delivery_id, kind, best, confidence, source, json.dumps(list(signals)), now))
    if set_item:
        await db.execute(
            "INSERT INTO classify_items (repo, number, kind, source, confidence, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repo, number) DO UPDATE SET kind = excluded.kind,"
            " source = excluded.source, confidence = excluded.confidence, updated_at = excluded.updated_at",
            (repo, number, kind, source, confidence, now))


async def write_example(db: Database, *, repo: str, number: int, kind: str, title: str, body: str,
                        bot_kind: str | None, labelled_by: str) -> None:
    await db.execute(
        "INSERT INTO classify_examples (repo, number, kind, title, body, bot_kind, labelled_by, labelled_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo, number) DO UPDATE SET kind = excluded.kind,"
        " title = excluded.title, body = excluded.body, labelled_by = excluded.labelled_by,"
        " labelled_at = excluded.labelled_at",
        (repo, number, kind, title, body[:20000], bot_kind, labelled_by, time.time()))


async def write_removed_label(db: Database, *, repo: str, number: int, label: str, removed_by: str) -> None:
    await db.execute(
        "INSERT INTO classify_removed_labels (repo, number, label, removed_by, removed_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (repo, number, label) DO NOTHING",
        (repo, number, label, removed_by, time.time()))


WRITERS = {"decision": write_decision, "example": write_example, "removed_label": write_removed_label}


async def item(db: Database, repo: str, number: int) -> dict[str, Any] | None:
    return await db.fetchone("SELECT kind, source, confidence FROM classify_items WHERE repo = ? AND number = ?",
                             (repo, number))


async def removed_labels(db: Database, repo: str, number: int) -> set[str]:
    rows = await db.fetchall("SELECT label FROM classify_removed_labels WHERE repo = ? AND number = ?",
                             (repo, number))
    return {r["label"].casefold() for r in rows}


async def examples(db: Database, repo: str) -> list[dict[str, Any]]:
    return await db.fetchall("SELECT number, kind, title, body, labelled_by, bot_kind FROM classify_examples WHERE repo = ?"
                             " ORDER BY number", (repo,))


async def example_count(db: Database, repo: str) -> int:
    return int(await db.fetchval("SELECT COUNT(*) FROM classify_examples WHERE repo = ?", (repo,)) or 0)


async def decisions(db: Database, repo: str, number: int) -> list[dict[str, Any]]:
    rows = await db.fetchall("SELECT kind, best, confidence, source, signals, delivery_id FROM classify_decisions"
                             " WHERE repo = ? AND number = ? ORDER BY id", (repo, number))
    for row in rows:
        row["signals"] = json.loads(row["signals"])
    return rows
