"""The table of redelivery requests: the claim that makes one request per failed attempt."""
from __future__ import annotations

from ...store.db import Database
from .plan import Missed

# A request whose POST failed (5xx, network) or whose replica died mid-request may not
# have reached GitHub: it may be claimed again, this many times in all, once this long
# has passed (if it did reach GitHub, the delivery is stored by then and not asked for).
MAX_TRIES = 3
RETRY_AFTER = 300.0


async def asked(db: Database, guids: list[str]) -> dict[str, tuple[set[int], int]]:
    """guid -> (attempt ids asked for, requests GitHub accepted or may have got)."""
    out: dict[str, tuple[set[int], int]] = {}
    for start in range(0, len(guids), 500):  # bounded IN lists
        chunk = guids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in await db.fetchall(
                f"SELECT guid, attempt_id, status, tries FROM recovery_requests WHERE guid IN ({marks})",
                chunk):
            ids, count = out.get(row["guid"], (set(), 0))
            # A POST that failed, or whose sender died before it knew, may be claimed again
            # (see claim): only accepted requests count.
            if row["status"] in ("requested", "refused") or row["tries"] >= MAX_TRIES:
                # Accepted, refused, or given up after MAX_TRIES failed POSTs (claim would
                # not take it again): not to be asked for.
                ids = ids | {int(row["attempt_id"])}
                count += row["status"] == "requested"
            out[row["guid"]] = (ids, count)
    return out


async def claim(db: Database, m: Missed, *, holder: str, now: float) -> bool:
    """True when this process may ask for ``m``: it inserted the row, or took back one whose
    POST failed a while ago. Concurrent replicas: exactly one wins."""
    inserted = await db.execute(
        "INSERT INTO recovery_requests (attempt_id, guid, event, action, status, holder, tries,"
        " requested_at) VALUES (?, ?, ?, ?, 'requesting', ?, 1, ?)"
        " ON CONFLICT (attempt_id) DO NOTHING",
        (m.attempt_id, m.guid, m.event, m.action, holder, now))
    if inserted == 1:
        return True
    taken = await db.execute(
        "UPDATE recovery_requests SET status = 'requesting', holder = ?, tries = tries + 1,"
        " requested_at = ? WHERE attempt_id = ? AND status IN ('failed', 'requesting')"
        " AND tries < ?"
        " AND requested_at < ?", (holder, now, m.attempt_id, MAX_TRIES, now - RETRY_AFTER))
    return taken == 1


async def settle(db: Database, attempt_id: int, *, status: str, error: str | None = None) -> None:
    await db.execute("UPDATE recovery_requests SET status = ?, error = ? WHERE attempt_id = ?",
                     (status, (error or None) and error[:500], attempt_id))


async def release(db: Database, attempt_id: int) -> None:
    """Not sent at all (rate limited before the request left): forget the claim."""
    await db.execute("DELETE FROM recovery_requests WHERE attempt_id = ? AND status = 'requesting'",
                     (attempt_id,))


async def listing(db: Database, limit: int = 100) -> list[dict]:
    return await db.fetchall(
        "SELECT attempt_id, guid, event, action, status, tries, requested_at, error"
        " FROM recovery_requests ORDER BY requested_at DESC LIMIT ?", (limit,))


async def covered_at(db: Database) -> float | None:
    """When the latest pass that settled every missed delivery it saw started (None: never)."""
    value = await db.fetchval("SELECT covered_at FROM recovery_progress WHERE id = 1")
    return None if value is None else float(value)


async def mark_covered(db: Database, started_at: float) -> None:
    # Never backwards: a pass that started earlier may finish after a later one.
    await db.execute(
        "INSERT INTO recovery_progress (id, covered_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE"
        " SET covered_at = CASE WHEN recovery_progress.covered_at < excluded.covered_at"
        " THEN excluded.covered_at ELSE recovery_progress.covered_at END", (started_at,))
