"""The deliveries table: intake writes, the worker claims, operators list and retry."""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

import lz4.block

from . import jobqueue
from .db import BUSY_TIMEOUT_MS, Database

STATUSES = ("pending", "processing", "done", "failed", "dead")
# A failed delivery waits for its retry and still holds its subject's place in line.
BLOCKING = ("pending", "processing", "failed")


@dataclass(frozen=True)
class StoredDelivery:
    seq: int
    delivery_id: str
    event: str
    action: str
    repo: str
    subject: str
    installation_id: int | None
    status: str
    attempts: int
    received_at: float
    body: str
    last_error: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "StoredDelivery":
        fields = {k: row[k] for k in cls.__dataclass_fields__}
        fields["body"] = _body_text(fields["body"])
        return cls(**fields)


# SQLite stores bodies LZ4-compressed, as a BLOB in the body column (SQLite keeps each
# value's own type): a 12 KB payload becomes about 2.5 KB, which fits one page instead
# of a chain of overflow pages, and the write and the WAL checkpoint copy a fifth of the
# bytes. Compressing costs about 8 microseconds for 12 KB.
# Rows written as text (older databases, PostgreSQL) are read as they are.
def _body_blob(text: str) -> bytes:
    return lz4.block.compress(text.encode("utf-8"))


def _body_text(stored: str | bytes) -> str:
    return lz4.block.decompress(stored).decode("utf-8") if isinstance(stored, bytes) else stored


@dataclass(frozen=True)
class InsertResult:
    stored: bool          # a new row
    requeued: bool = False  # a redelivery of a failed/dead one, queued again
    status: str = "pending"


async def insert(db: Database, *, delivery_id: str, event: str, action: str, repo: str,
                 subject: str, installation_id: int | None, body: str,
                 now: float | None = None) -> InsertResult:
    """Store a delivery once. A redelivery of one already stored is acknowledged
    without a second row; if that one had ended failed or dead, it is queued again
    (someone asked GitHub to redeliver it: they want it processed)."""
    [result] = await insert_many(db, [NewDelivery(delivery_id, event, action, repo, subject,
                                                  installation_id, body)], now)
    return result


@dataclass(frozen=True)
class NewDelivery:
    delivery_id: str
    event: str
    action: str
    repo: str
    subject: str
    installation_id: int | None
    body: str


# A dead one redelivered gets its attempts anew, as ``deliveries retry`` gives them (with its
# old count it would be dead again at its first failure); a failed one keeps its count.
_REQUEUE = ("UPDATE deliveries SET attempts = CASE WHEN status = 'dead' THEN 0 ELSE attempts END,"
            " status = 'pending', next_attempt_at = 0, updated_at = ?"
            " WHERE delivery_id = ? AND status IN ('dead', 'failed')")
_INSERT_ROWS = ("INSERT INTO deliveries (delivery_id, event, action, repo, subject, installation_id,"
                " status, attempts, received_at, updated_at, next_attempt_at, body) VALUES ")
_ROW = "(?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, 0, ?)"


def _values(d: NewDelivery, now: float, body: str | bytes) -> tuple:
    """One row's parameters for ``_ROW``."""
    return (d.delivery_id, d.event, d.action, d.repo, d.subject, d.installation_id, now, now, body)

INLINE_BYTES = 1024 * 1024


def _insert_rows_sqlite(conn, items: list[NewDelivery], now: float, *, wait: bool = True) -> list[InsertResult]:
    """One transaction for the batch: duplicates looked up first, the fresh rows in one
    multi-row INSERT (one statement, not one step per row). With ``wait=False`` it gives
    up at once (``sqlite3.OperationalError``, SQLITE_BUSY) if another process holds the
    write lock, instead of waiting for it."""
    marks = ",".join("?" * len(items))
    if wait:
        conn.execute("BEGIN IMMEDIATE")
    else:
        conn.execute("PRAGMA busy_timeout=0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        finally:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        known = dict(conn.execute(f"SELECT delivery_id, status FROM deliveries WHERE delivery_id IN ({marks})",
                                  [d.delivery_id for d in items]).fetchall())
        params, results, seen = [], [], set()
        for d in items:
            if d.delivery_id in known or d.delivery_id in seen:
                results.append(None)
            else:
                seen.add(d.delivery_id)
                params += _values(d, now, _body_blob(d.body))
                results.append(InsertResult(stored=True))
        if params:
            conn.execute(_INSERT_ROWS + ",".join([_ROW] * len(seen)), params)
        for i, d in enumerate(items):
            if results[i] is not None:
                continue
            if conn.execute(_REQUEUE, (now, d.delivery_id)).rowcount == 1:
                results[i] = InsertResult(stored=False, requeued=True)
            else:
                results[i] = InsertResult(stored=False, status=known.get(d.delivery_id, "pending"))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return results


async def insert_many(db: Database, items: list[NewDelivery], now: float | None = None) -> list[InsertResult]:
    """Store several deliveries in one transaction (intake's group commit)."""
    now = time.time() if now is None else now
    if db.dialect == "sqlite":
        # On the event loop's own thread: a batch costs it a few hundred microseconds,
        # less than handing the batch to the database thread and then fighting that
        # thread for the GIL at every statement. Only if another process (the CLI) holds
        # the write lock does the batch go to the database thread, to wait there.
        # A batch carrying megabytes (GitHub allows 25 MB) goes there too: writing it would
        # hold up every other request for tens of milliseconds.
        if sum(len(d.body) for d in items) <= INLINE_BYTES:
            try:
                return await db.run_sync(lambda conn: _insert_rows_sqlite(conn, items, now, wait=False),  # type: ignore[attr-defined]
                                         inline=True)
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # any SQLITE_BUSY_* too
                    raise
        return await db.run_sync(lambda conn: _insert_rows_sqlite(conn, items, now))  # type: ignore[attr-defined]
    # PostgreSQL: the batch in one statement (one round trip, not one per row); the rare
    # duplicates then one by one. Each stored row gets its job in the work queue in the
    # same transaction.
    params = [v for d in items for v in _values(d, now, d.body)]
    results: list[InsertResult] = []
    async with db.transaction():
        rows = await db.fetchall(_INSERT_ROWS + ",".join([_ROW] * len(items))
                                 + " ON CONFLICT (delivery_id) DO NOTHING RETURNING seq, delivery_id, subject",
                                 params)
        inserted = {row["delivery_id"] for row in rows}
        requeued: list[tuple[int, str]] = []
        for d in items:
            if d.delivery_id in inserted:
                inserted.discard(d.delivery_id)  # a second copy in the same batch is a duplicate
                results.append(InsertResult(stored=True))
            elif again := await db.fetchall(_REQUEUE + " RETURNING seq, subject", (now, d.delivery_id)):
                requeued += [(r["seq"], r["subject"]) for r in again]
                results.append(InsertResult(stored=False, requeued=True))
            else:
                status = await db.fetchval("SELECT status FROM deliveries WHERE delivery_id = ?",
                                           (d.delivery_id,))
                results.append(InsertResult(stored=False, status=status or "unknown"))
        await jobqueue.defer_deliveries(db, [(r["seq"], r["subject"]) for r in rows])
        if requeued:
            await jobqueue.requeue_deliveries(db, requeued)
    return results


# SQLite (one process): first in line for its subject, and nothing of that subject in
# flight. (On PostgreSQL procrastinate hands out the work: see ``jobqueue``.)
_ELIGIBLE = (
    "SELECT d.* FROM deliveries d"
    " WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= ?"
    " AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.subject = d.subject AND e.seq <> d.seq"
    "   AND (e.status = 'processing' OR (e.seq < d.seq AND e.status IN ('pending', 'failed'))))"
)


async def claim(db: Database, *, worker: str, busy_subjects: set[str], limit: int,
                now: float | None = None) -> list[StoredDelivery]:
    """Claim up to ``limit`` deliveries that are first in line for their subject."""
    assert db.dialect == "sqlite", "on PostgreSQL the work queue hands out deliveries"
    now = time.time() if now is None else now
    claimed: list[StoredDelivery] = []
    async with db.transaction():
        rows = await db.fetchall(_ELIGIBLE + " ORDER BY d.seq LIMIT ?", (now, limit + len(busy_subjects)))
        seen: set[str] = set(busy_subjects)
        for row in rows:
            if row["subject"] in seen or len(claimed) >= limit:
                continue
            seen.add(row["subject"])
            await db.execute(
                "UPDATE deliveries SET status = 'processing', locked_by = ?, updated_at = ?"
                " WHERE seq = ?", (worker, now, row["seq"]))
            row = dict(row, status="processing")
            claimed.append(StoredDelivery.from_row(row))
    return claimed


async def begin(db: Database, seq: int, *, worker: str, now: float | None = None) -> StoredDelivery | None:
    """PostgreSQL: the work queue handed this row's job to ``worker``; mark it in hand.

    A row still 'processing' was in the hands of a replica that died (procrastinate runs
    one job of a subject at a time, and gave this one back after that replica's heartbeat
    stopped): the interrupted run counts as an attempt, so this one knows it is a retry.
    None if there is nothing to do (the row ended already: an older job for it)."""
    now = time.time() if now is None else now
    rows = await db.fetchall(
        "UPDATE deliveries SET attempts = attempts + CASE WHEN status = 'processing' THEN 1 ELSE 0 END,"
        " status = 'processing', locked_by = ?, updated_at = ?"
        " WHERE seq = ? AND status IN ('pending', 'failed', 'processing') RETURNING *", (worker, now, seq))
    return StoredDelivery.from_row(rows[0]) if rows else None


async def finish(db: Database, seq: int, *, now: float | None = None) -> None:
    now = time.time() if now is None else now
    await db.execute(
        "UPDATE deliveries SET status = 'done', attempts = attempts + 1, locked_by = NULL,"
        " last_error = NULL, updated_at = ? WHERE seq = ?", (now, seq))


async def fail(db: Database, seq: int, *, error: str, max_attempts: int, retry_at: float,
               now: float | None = None, counted: bool = True) -> str:
    """Record a failed attempt; returns the new status (``failed`` or ``dead``).
    ``counted=False``: a try GitHub's rate limits held back, which is no attempt of the
    delivery's (it waits for GitHub however long that takes, and is never made dead by it)."""
    now = time.time() if now is None else now
    row = await db.fetchone("SELECT attempts FROM deliveries WHERE seq = ?", (seq,))
    attempts = (row["attempts"] if row else 0) + (1 if counted else 0)
    status = "dead" if counted and attempts >= max_attempts else "failed"
    await db.execute(
        "UPDATE deliveries SET status = ?, attempts = ?, locked_by = NULL, last_error = ?,"
        " next_attempt_at = ?, updated_at = ? WHERE seq = ?",
        (status, attempts, error[:2000], retry_at, now, seq))
    return status


async def release_stale(db: Database) -> int:
    """SQLite, at start-up: put 'processing' rows back in line (one process owns the file,
    so they were this process's before it stopped).

    The interrupted run counts as an attempt: the next one then knows it is a retry
    (and looks for what the first may have created before creating it again)."""
    return await db.execute(
        "UPDATE deliveries SET status = 'pending', locked_by = NULL, attempts = attempts + 1"
        " WHERE status = 'processing'")


async def get(db: Database, delivery_id: str) -> StoredDelivery | None:
    row = await db.fetchone("SELECT * FROM deliveries WHERE delivery_id = ?", (delivery_id,))
    return StoredDelivery.from_row(row) if row else None


async def owner_ids_named(db: Database, login: str, *, limit: int) -> list[tuple[int, float]]:
    """(account id, received at) of the repository owner, as GitHub named it in each of the
    ``limit`` latest deliveries kept from a repository of an owner then called ``login`` (any
    case): who held a login when, in GitHub's words (a login renamed away, or taken by another
    account since, answers for whoever holds it now on GitHub's API)."""
    prefix = f"{login.lower()}/"
    rows = await db.fetchall(
        "SELECT received_at, body FROM deliveries WHERE lower(substr(repo, 1, ?)) = ? ORDER BY seq DESC LIMIT ?",
        (len(prefix), prefix, int(limit)))
    out: list[tuple[int, float]] = []
    for row in rows:
        try:
            owner = (json.loads(_body_text(row["body"])).get("repository") or {}).get("owner") or {}
            if str(owner.get("login") or "").lower() == login.lower() and owner.get("id") is not None:
                out.append((int(owner["id"]), float(row["received_at"])))
        except (ValueError, TypeError, AttributeError, lz4.block.LZ4BlockError):
            continue  # a body of another shape says nothing about the owner
    return out


async def listing(db: Database, *, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    where, params = ("WHERE status = ?", [status]) if status else ("", [])
    return await db.fetchall(
        "SELECT delivery_id, event, action, repo, subject, status, attempts, received_at,"
        f" last_error FROM deliveries {where} ORDER BY seq DESC LIMIT ?", (*params, limit))


async def requeue(db: Database, *, delivery_id: str | None = None, dead: bool = False) -> int:
    now = time.time()
    if dead:
        sql, params = ("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = 0,"
                       " updated_at = ? WHERE status = 'dead'", (now,))
    else:
        sql, params = ("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = 0,"
                       " updated_at = ? WHERE delivery_id = ? AND status IN ('dead', 'failed', 'done')",
                       (now, delivery_id))
    if db.dialect == "sqlite":
        return await db.execute(sql, params)
    async with db.transaction():
        rows = await db.fetchall(sql + " RETURNING seq, subject", params)
        await jobqueue.requeue_deliveries(db, [(r["seq"], r["subject"]) for r in rows])
    return len(rows)


async def queue_depth(db: Database) -> int:
    return int(await db.fetchval(
        "SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'processing', 'failed')") or 0)


async def known_ids(db: Database, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(f"SELECT delivery_id FROM deliveries WHERE delivery_id IN ({marks})", ids)
    return {r["delivery_id"] for r in rows}
