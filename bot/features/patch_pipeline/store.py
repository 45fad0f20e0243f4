"""The feature's tables: runs (one per PR head) and their stages, and the dispatches whose
pipeline the bot ended before GitHub reported their run (strays). Writers are upserts,
so a retried delivery writes the same rows again.

A run is followed from several queues at once (the PR's events, the repository's workflow
events, the timeout sweep), so each decision about a run carries the ``revision`` it read and
its write is a compare-and-set: if the run changed in between, the write is refused with
StaleDecision, a RetryLater: the delivery (or job) stops before its check-run update and
is decided again on the current state: a run superseded by
a push stays superseded, and its check is not turned back by a decision made before.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Mapping, Sequence

from ...core import pipeline as P
from ...core.retry import RetryLater
from ...store.db import Database

LIVE = (P.DISPATCHED, P.RUNNING)
REJECTED = "rejected"

_RUN_COLS = ("repo", "head_sha", "number", "status", "conclusion", "signers", "patches", "reason",
             "run_id", "run_url", "superseded_by", "dispatched_at", "updated_at", "attempt",
             "attempt_started_at", "revision")
_STAGE_COLS = ("repo", "head_sha", "position", "name", "status", "started_at", "completed_at", "url", "legs")


class StaleDecision(RetryLater):
    """The run changed after the decision read it: the delivery is decided again, at once
    (no need to back off: the next decision reads the new state)."""


def _upsert_sql(table: str, cols: Sequence[str], keys: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    return (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}")


# --- Run <-> plain data (Record args are JSON) ------------------------------------

def run_to_args(run: P.Run) -> dict[str, Any]:
    return asdict(run)  # stages and their legs become nested dicts


def _stage(data: Mapping[str, Any]) -> P.Stage:
    legs = data.get("legs") or ()
    if isinstance(legs, str):  # the stages table keeps them as JSON text
        legs = json.loads(legs)
    return P.Stage(**{**data, "legs": tuple(P.Leg(**leg) for leg in legs)})


def run_from_args(data: Mapping[str, Any]) -> P.Run:
    return P.Run(**{**data, "stages": tuple(_stage(s) for s in data["stages"])})


# --- writers -------------------------------------------------------------------------

async def _next_revision(db: Database, repo: str, head_sha: str) -> int:
    current = await db.fetchval("SELECT revision FROM patch_pipeline_runs WHERE repo = ? AND head_sha = ?",
                                (repo, head_sha))
    return 0 if current is None else int(current) + 1


async def record_rejection(db: Database, *, repo: str, number: int, head_sha: str, reason: str,
                           patches: Sequence[str], at: float) -> None:
    async with db.transaction():
        row = {"repo": repo, "head_sha": head_sha, "number": number, "status": REJECTED,
               "conclusion": "failure", "signers": "", "patches": json.dumps(list(patches)),
               "reason": reason[:2000], "run_id": None, "run_url": None, "superseded_by": None,
               "dispatched_at": at, "updated_at": at, "attempt": 1, "attempt_started_at": None,
               "revision": await _next_revision(db, repo, head_sha)}
        await db.execute(_upsert_sql("patch_pipeline_runs", _RUN_COLS, ("repo", "head_sha")),
                         tuple(row[c] for c in _RUN_COLS))
        await db.execute("DELETE FROM patch_pipeline_stages WHERE repo = ? AND head_sha = ?", (repo, head_sha))


async def save_run(db: Database, *, repo: str, number: int, run: Mapping[str, Any], at: float,
                   signers: str | None = None, patches: Sequence[str] | None = None,
                   run_url: str | None = None, revision: int | None = None) -> None:
    """Save a run and all its stages.

    With ``revision`` (the one the decision read) this is an update that happens only if
    nobody wrote the run since; otherwise StaleDecision. Without it, it is a new dispatch
    for the head (``/verify-patch`` again, a push back to it), which replaces what was there."""
    state = run_from_args(run)
    values: dict[str, Any] = {
        "number": number, "status": state.status, "conclusion": state.conclusion, "run_id": state.run_id,
        "superseded_by": state.superseded_by, "dispatched_at": state.dispatched_at, "updated_at": at,
        "attempt": state.attempt, "attempt_started_at": state.attempt_started_at}
    async with db.transaction():
        if revision is None:
            row = {"repo": repo, "head_sha": state.head_sha, "signers": signers or "",
                   "patches": json.dumps(list(patches or ())), "reason": "", "run_url": run_url, **values,
                   "revision": await _next_revision(db, repo, state.head_sha)}
            await db.execute(_upsert_sql("patch_pipeline_runs", _RUN_COLS, ("repo", "head_sha")),
                             tuple(row[c] for c in _RUN_COLS))
        else:
            if signers is not None:
                values["signers"] = signers
            if patches is not None:
                values["patches"] = json.dumps(list(patches))
            if run_url is not None:
                values["run_url"] = run_url
            sets = ", ".join(f"{c} = ?" for c in values)
            written = await db.execute(
                f"UPDATE patch_pipeline_runs SET {sets}, revision = revision + 1"
                " WHERE repo = ? AND head_sha = ? AND revision = ?",
                (*values.values(), repo, state.head_sha, revision))
            if not written:
                raise StaleDecision(f"patch pipeline run of {state.head_sha[:7]} in {repo} changed since "
                                    f"revision {revision} was read: deciding again")
        await db.execute("DELETE FROM patch_pipeline_stages WHERE repo = ? AND head_sha = ? AND position >= ?",
                         (repo, state.head_sha, len(state.stages)))
        for i, s in enumerate(state.stages):
            legs = json.dumps([asdict(leg) for leg in s.legs])
            await db.execute(_upsert_sql("patch_pipeline_stages", _STAGE_COLS, ("repo", "head_sha", "position")),
                             (repo, state.head_sha, i, s.name, s.status, s.started_at, s.completed_at, s.url, legs))


async def adopt_run(db: Database, *, repo: str, head_sha: str, number: int, at: float) -> None:
    """The head's run now belongs to pull request ``number`` (the same head opened again as a
    new pull request): that PR's card shows it, and its next push supersedes it."""
    await db.execute("UPDATE patch_pipeline_runs SET number = ?, updated_at = ?, revision = revision + 1"
                     " WHERE repo = ? AND head_sha = ?", (number, at, repo, head_sha))


# Runs of pipelines the bot ended before GitHub reported them (see strays): one row per such
# dispatch, kept a week (runs are created within seconds of their dispatch; GitHub offers a
# delivery again for three days).
STRAY_KEEP = 7 * 86400.0


async def remember_stray(db: Database, *, repo: str, number: int, head_sha: str, dispatched_at: float,
                         at: float) -> None:
    """The bot ended the pipeline of ``head_sha`` dispatched at ``dispatched_at`` while its
    workflow run was not reported yet: remembered, so that the run is cancelled when it is."""
    async with db.transaction():
        await db.execute("INSERT INTO patch_pipeline_strays (repo, head_sha, dispatched_at, number, ended_at)"
                         " VALUES (?, ?, ?, ?, ?) ON CONFLICT (repo, head_sha, dispatched_at) DO NOTHING",
                         (repo, head_sha, dispatched_at, number, at))
        await db.execute("DELETE FROM patch_pipeline_strays WHERE repo = ? AND dispatched_at < ?",
                         (repo, at - STRAY_KEEP))


async def stray_stopped(db: Database, *, stray_id: int, run_id: int, at: float) -> None:
    """The workflow run ``run_id`` of a remembered dispatch was cancelled: its events, any
    number of them, are then recognised by its id and cancel nothing more."""
    await db.execute("UPDATE patch_pipeline_strays SET run_id = ?, stopped_at = ? WHERE id = ? AND run_id IS NULL",
                     (run_id, at, stray_id))


WRITERS = {"record_rejection": record_rejection, "save_run": save_run, "adopt_run": adopt_run,
           "remember_stray": remember_stray, "stray_stopped": stray_stopped}


# --- reads ---------------------------------------------------------------------------

async def _with_stages(db: Database, row: dict[str, Any] | None) -> tuple[dict[str, Any], P.Run] | None:
    if row is None:
        return None
    stages = await db.fetchall("SELECT name, status, started_at, completed_at, url, legs FROM patch_pipeline_stages"
                               " WHERE repo = ? AND head_sha = ? ORDER BY position",
                               (row["repo"], row["head_sha"]))
    run = P.Run(head_sha=row["head_sha"], dispatched_at=float(row["dispatched_at"]),
                stages=tuple(_stage(s) for s in stages), status=row["status"],
                conclusion=row["conclusion"], run_id=int(row["run_id"]) if row["run_id"] is not None else None,
                superseded_by=row["superseded_by"], attempt=int(row["attempt"]),
                attempt_started_at=row["attempt_started_at"])
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


async def stray_of_run(db: Database, repo: str, run_id: int) -> dict[str, Any] | None:
    """The remembered dispatch whose workflow run ``run_id`` was cancelled already, if any."""
    return await db.fetchone("SELECT * FROM patch_pipeline_strays WHERE repo = ? AND run_id = ?", (repo, run_id))


async def unmatched_strays(db: Database, repo: str, *, since: float) -> list[dict[str, Any]]:
    """Remembered dispatches (since ``since``) whose workflow run has not shown up yet."""
    return await db.fetchall("SELECT * FROM patch_pipeline_strays WHERE repo = ? AND run_id IS NULL"
                             " AND dispatched_at >= ? ORDER BY dispatched_at", (repo, since))
