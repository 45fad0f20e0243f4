"""The classify feature's tables: writers (run by the executor) and reads."""
from __future__ import annotations

import json
import time
from typing import Any, Mapping, Sequence

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


async def write_history(db: Database, *, repo: str, examples: Sequence[Mapping[str, Any]], read_at: float) -> None:
    """Replace the repository's copy of its labelled history (one read, all or nothing)."""
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM classify_history WHERE repo = ?", (repo,))
        await tx.executemany(
            "INSERT INTO classify_history (repo, number, kind, title, body) VALUES (?, ?, ?, ?, ?)",
            [(repo, int(ex["number"]), ex["kind"], ex["title"], ex["body"]) for ex in examples])
        await tx.execute(
            "INSERT INTO classify_history_reads (repo, read_at, examples) VALUES (?, ?, ?)"
            " ON CONFLICT (repo) DO UPDATE SET read_at = excluded.read_at, examples = excluded.examples",
            (repo, read_at, len(examples)))


WRITERS = {"decision": write_decision, "example": write_example, "removed_label": write_removed_label,
           "history": write_history}


async def item(db: Database, repo: str, number: int) -> dict[str, Any] | None:
    return await db.fetchone("SELECT kind, source, confidence FROM classify_items WHERE repo = ? AND number = ?",
                             (repo, number))


async def human_kind(db: Database, repo: str, number: int) -> dict[str, str] | None:
    """The kind a human gave the issue, if that is its kind now: ``kind``, ``who`` and
    ``how`` (/kind, label), from the latest human decision."""
    current = await item(db, repo, number)
    if current is None or current["source"] != "human" or not current["kind"]:
        return None
    signals = await db.fetchval("SELECT signals FROM classify_decisions WHERE repo = ? AND number = ? AND source = 'human'"
                                " ORDER BY id DESC LIMIT 1", (repo, number))
    said = (json.loads(signals) if signals else None) or [{}]
    return {"kind": current["kind"], "who": str(said[0].get("detail") or "someone"),
            "how": str(said[0].get("source") or "/kind")}


async def removed_kind(db: Database, repo: str, number: int) -> dict[str, Any] | None:
    """Where a person took the issue's kind label off and no kind was given since: the
    ``label`` taken off, by ``who``, and every kind label people removed (``labels``)."""
    current = await item(db, repo, number)
    if current is None or current["source"] != "removed":
        return None
    rows = await db.fetchall("SELECT label, removed_by FROM classify_removed_labels WHERE repo = ? AND number = ?"
                             " ORDER BY removed_at, label", (repo, number))
    if not rows:
        return None
    last = rows[-1]
    return {"label": last["label"], "who": last["removed_by"] or "someone", "labels": [r["label"] for r in rows]}


async def removed_labels(db: Database, repo: str, number: int) -> set[str]:
    rows = await db.fetchall("SELECT label FROM classify_removed_labels WHERE repo = ? AND number = ?",
                             (repo, number))
    return {r["label"].casefold() for r in rows}


async def examples(db: Database, repo: str) -> list[dict[str, Any]]:
    return await db.fetchall("SELECT number, kind, title, body, labelled_by, bot_kind FROM classify_examples WHERE repo = ?"
                             " ORDER BY number", (repo,))


async def examples_stamp(db: Database, repo: str) -> tuple[int, float]:
    """(how many confirmed examples, when the last was set): changes whenever they do."""
    row = await db.fetchone("SELECT COUNT(*) AS n, MAX(labelled_at) AS last FROM classify_examples WHERE repo = ?",
                            (repo,))
    return (int(row["n"] or 0), float(row["last"] or 0.0)) if row else (0, 0.0)


async def history(db: Database, repo: str) -> list[dict[str, Any]]:
    return await db.fetchall("SELECT number, kind, title, body FROM classify_history WHERE repo = ? ORDER BY number",
                             (repo,))


async def history_read(db: Database, repo: str) -> dict[str, Any] | None:
    """When the repository's history was last read (``read_at``) and how many issues it gave."""
    return await db.fetchone("SELECT read_at, examples FROM classify_history_reads WHERE repo = ?", (repo,))


async def history_reads(db: Database) -> dict[str, float]:
    return {r["repo"]: float(r["read_at"]) for r in await db.fetchall("SELECT repo, read_at FROM classify_history_reads")}


async def decisions(db: Database, repo: str, number: int) -> list[dict[str, Any]]:
    rows = await db.fetchall("SELECT kind, best, confidence, source, signals, delivery_id FROM classify_decisions"
                             " WHERE repo = ? AND number = ? ORDER BY id", (repo, number))
    for row in rows:
        row["signals"] = json.loads(row["signals"])
    return rows
