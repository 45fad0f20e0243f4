"""The feature's tables: runs (one per PR head) and their stages. Writers are upserts,
so a retried delivery writes the same rows again."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Mapping, Sequence

from ...core import pipeline as P
from ...store.db import Database

LIVE = (P.DISPATCHED, P.RUNNING)
REJECTED = "rejected"

_RUN_COLS = ("repo", "head_sha", "number", "status", "conclusion", "signers", "patches", "reason",
             "run_id", "run_url", "superseded_by", "dispatched_at", "updated_at")


def _upsert_sql(table: str, cols: Sequence[str], keys: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    return (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}")


# --- Run <-> plain data (Record args are JSON) ------------------------------------

def run_to_args(run: P.Run) -> dict[str, Any]:
    data = asdict(run)
    data["stages"] = [asdict(s) for s in run.stages]
    return data


def run_from_args(data: Mapping[str, Any]) -> P.Run:
    stages = tuple(P.Stage(**s) for s in data["stages"])
    return P.Run(**{**data, "stages": stages})


# --- writers -------------------------------------------------------------------------

async def record_rejection(db: Database, *, repo: str, number: int, head_sha: str, reason: str,
                           patches: Sequence[str], at: float) -> None:
    row = {"repo": repo, "head_sha": head_sha, "number": number, "status": REJECTED,
           "conclusion": "failure", "signers": "", "patches": json.dumps(list(patches)),
           "reason": reason[:2000], "run_id": None, "run_url": None, "superseded_by": None,
           "dispatched_at": at, "updated_at": at}
    async with db.transaction():
        await db.execute(_upsert_sql("patch_pipeline_runs", _RUN_COLS, ("repo", "head_sha")),
                         tuple(row[c] for c in _RUN_COLS))
        await db.execute("DELETE FROM patch_pipeline_stages WHERE repo = ? AND head_sha = ?", (repo, head_sha))


async def save_run(db: Database, *, repo: str, number: int, run: Mapping[str, Any], at: float,
                   signers: str | None = None, patches: Sequence[str] | None = None,
                   run_url: str | None = None) -> None:
    """Create or update a run and all its stages. A new dispatch for the same head
    (``/verify-patch`` again) replaces the previous state."""
    state = run_from_args(run)
    existing = await db.fetchone("SELECT signers, patches, run_url, status, dispatched_at FROM patch_pipeline_runs"
                                 " WHERE repo = ? AND head_sha = ?", (repo, state.head_sha))
    if (existing is not None and existing["status"] in (P.COMPLETED, P.SUPERSEDED)
            and state.status in LIVE and state.dispatched_at <= float(existing["dispatched_at"])):
        # A job event decided on a copy read before a push superseded this run (they run
        # on different queues): the finished state wins; only a new dispatch reopens it.
        return
    row = {"repo": repo, "head_sha": state.head_sha, "number": number, "status": state.status,
           "conclusion": state.conclusion,
           "signers": signers if signers is not None else (existing or {}).get("signers") or "",
           "patches": json.dumps(list(patches)) if patches is not None else (existing or {}).get("patches") or "[]",
           "reason": "", "run_id": state.run_id,
           "run_url": run_url or (existing or {}).get("run_url"), "superseded_by": state.superseded_by,
           "dispatched_at": state.dispatched_at, "updated_at": at}
    async with db.transaction():
        await db.execute(_upsert_sql("patch_pipeline_runs", _RUN_COLS, ("repo", "head_sha")),
                         tuple(row[c] for c in _RUN_COLS))
        await db.execute("DELETE FROM patch_pipeline_stages WHERE repo = ? AND head_sha = ? AND position >= ?",
                         (repo, state.head_sha, len(state.stages)))
        cols = ("repo", "head_sha", "position", "name", "status", "started_at", "completed_at", "url")
        for i, s in enumerate(state.stages):
            await db.execute(_upsert_sql("patch_pipeline_stages", cols, ("repo", "head_sha", "position")),
                             (repo, state.head_sha, i, s.name, s.status, s.started_at, s.completed_at, s.url))


WRITERS = {"record_rejection": record_rejection, "save_run": save_run}


# --- reads ---------------------------------------------------------------------------

async def _with_stages(db: Database, row: dict[str, Any] | None) -> tuple[dict[str, Any], P.Run] | None:
    if row is None:
        return None
    stages = await db.fetchall("SELECT name, status, started_at, completed_at, url FROM patch_pipeline_stages"
                               " WHERE repo = ? AND head_sha = ? ORDER BY position",
                               (row["repo"], row["head_sha"]))
    run = P.Run(head_sha=row["head_sha"], dispatched_at=float(row["dispatched_at"]),
                stages=tuple(P.Stage(**s) for s in stages), status=row["status"],
                conclusion=row["conclusion"], run_id=int(row["run_id"]) if row["run_id"] is not None else None,
                superseded_by=row["superseded_by"])
    return row, run


async def run_for_head(db: Database, repo: str, head_sha: str) -> tuple[dict[str, Any], P.Run] | None:
    row = await db.fetchone("SELECT * FROM patch_pipeline_runs WHERE repo = ? AND head_sha = ?", (repo, head_sha))
    return await _with_stages(db, row)


async def run_for_workflow_run(db: Database, repo: str, run_id: int) -> tuple[dict[str, Any], P.Run] | None:
    row = await db.fetchone("SELECT * FROM patch_pipeline_runs WHERE repo = ? AND run_id = ?", (repo, run_id))
    return await _with_stages(db, row)


async def live_runs(db: Database, repo: str, *, number: int | None = None) -> list[tuple[dict[str, Any], P.Run]]:
    sql = "SELECT * FROM patch_pipeline_runs WHERE repo = ? AND status IN (?, ?)"
    params: list[Any] = [repo, *LIVE]
    if number is not None:
        sql += " AND number = ?"
        params.append(number)
    rows = await db.fetchall(sql + " ORDER BY dispatched_at", params)
    return [pair for row in rows if (pair := await _with_stages(db, row)) is not None]


async def latest_for_pr(db: Database, repo: str, number: int) -> tuple[dict[str, Any], P.Run] | None:
    row = await db.fetchone("SELECT * FROM patch_pipeline_runs WHERE repo = ? AND number = ?"
                            " ORDER BY dispatched_at DESC, updated_at DESC LIMIT 1", (repo, number))
    return await _with_stages(db, row)
