"""The feature's tables: the merge groups asked about and what was reported on them. Writers
are idempotent (a retried delivery or job writes the same rows again) and never bring a
destroyed group back."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ...core.merge_group import Ahead, parse_queue_ref
from ...store import state
from ...store.db import Database


async def _save_checks(db: Database, repo: str, head_sha: str, checks: Sequence[Mapping[str, Any]],
                       at: float) -> None:
    for check in checks:
        # status/conclusion/title: absent from the Records of a delivery queued before they were kept
        conclusion = check.get("conclusion")
        await db.execute(
            "INSERT INTO merge_queue_checks (repo, head_sha, name, digest, updated_at, status, conclusion, title)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo, head_sha, name) DO UPDATE SET"
            " digest = excluded.digest, updated_at = excluded.updated_at, status = excluded.status,"
            " conclusion = excluded.conclusion, title = excluded.title",
            (repo, head_sha, str(check["name"]), str(check["digest"]), float(at),
             str(check.get("status") or "completed"), None if conclusion is None else str(conclusion),
             str(check.get("title") or "")[:255]))


async def _live(db: Database, repo: str, head_sha: str) -> bool:
    row = await db.fetchone("SELECT destroyed_at FROM merge_queue_groups WHERE repo = ? AND head_sha = ?",
                            (repo, head_sha))
    return row is not None and row["destroyed_at"] is None


async def requested(db: Database, *, repo: str, head_sha: str, head_ref: str, base_ref: str,
                    number: int | None, pr_head_sha: str | None, at: float,
                    checks: Sequence[Mapping[str, Any]]) -> None:
    """The group's checks were reported: remember the group (live) and what each check said."""
    async with db.transaction():
        await db.execute(
            "INSERT INTO merge_queue_groups (repo, head_sha, head_ref, base_ref, number, pr_head_sha,"
            " requested_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo, head_sha) DO UPDATE SET"
            " number = excluded.number, pr_head_sha = excluded.pr_head_sha"
            " WHERE merge_queue_groups.destroyed_at IS NULL",
            (repo, head_sha, head_ref, base_ref, number, pr_head_sha, float(at)))
        if await _live(db, repo, head_sha):
            await _save_checks(db, repo, head_sha, checks, at)


async def reported(db: Database, *, repo: str, head_sha: str, checks: Sequence[Mapping[str, Any]],
                   at: float) -> None:
    """A live group's checks were reported again (a verdict changed on the pull request)."""
    async with db.transaction():
        if await _live(db, repo, head_sha):
            await _save_checks(db, repo, head_sha, checks, at)


async def destroyed(db: Database, *, repo: str, head_sha: str, reason: str, at: float) -> None:
    """The group is gone (merged, dequeued, invalidated): keep a tombstone, drop the rest, the
    executor's memory of the group commit's check runs included."""
    async with db.transaction():
        await db.execute(
            "INSERT INTO merge_queue_groups (repo, head_sha, requested_at, destroyed_at, reason)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (repo, head_sha) DO UPDATE SET"
            " destroyed_at = excluded.destroyed_at, reason = excluded.reason"
            " WHERE merge_queue_groups.destroyed_at IS NULL",
            (repo, head_sha, float(at), float(at), reason[:100]))
        await db.execute("DELETE FROM merge_queue_checks WHERE repo = ? AND head_sha = ?", (repo, head_sha))
        await state.forget_check_runs(db, repo, head_sha)


async def prune(db: Database, *, repo: str, before: float) -> None:
    """Forget the repository's groups last heard of before ``before`` (tombstones past the time
    GitHub could still redeliver their checks_requested, and groups whose end never came)."""
    async with db.transaction():
        rows = await db.fetchall(
            "SELECT head_sha FROM merge_queue_groups WHERE repo = ?"
            " AND COALESCE(destroyed_at, requested_at) < ?", (repo, float(before)))
        for row in rows:
            await db.execute("DELETE FROM merge_queue_checks WHERE repo = ? AND head_sha = ?",
                             (repo, row["head_sha"]))
            await state.forget_check_runs(db, repo, row["head_sha"])
            await db.execute("DELETE FROM merge_queue_groups WHERE repo = ? AND head_sha = ?",
                             (repo, row["head_sha"]))


WRITERS = {"requested": requested, "reported": reported, "destroyed": destroyed, "prune": prune}


# --- reads ---------------------------------------------------------------------------------------

async def group(db: Database, repo: str, head_sha: str) -> dict[str, Any] | None:
    return await db.fetchone("SELECT * FROM merge_queue_groups WHERE repo = ? AND head_sha = ?", (repo, head_sha))


async def live_groups(db: Database) -> list[dict[str, Any]]:
    """Groups of an identified pull request that are not destroyed, oldest first."""
    return await db.fetchall("SELECT * FROM merge_queue_groups WHERE destroyed_at IS NULL"
                             " AND number IS NOT NULL ORDER BY requested_at, repo, head_sha")


async def live_group_shas(db: Database, repo: str, number: int) -> list[str]:
    """The commits of the pull request's groups that are not destroyed."""
    rows = await db.fetchall("SELECT head_sha FROM merge_queue_groups WHERE repo = ? AND number = ?"
                             " AND destroyed_at IS NULL ORDER BY head_sha", (repo, int(number)))
    return [r["head_sha"] for r in rows]


async def ahead_of(db: Database, repo: str, stacked_on: str) -> dict[str, Ahead]:
    """Check name -> what was last reported on the live group whose commit ``stacked_on`` is
    (the group ahead in the queue); empty when it is no live group (the base branch's head, or
    a group merged or gone)."""
    row = await group(db, repo, stacked_on)
    if row is None or row["destroyed_at"] is not None:
        return {}
    number = row["number"]
    if number is None and (ref := parse_queue_ref(row["head_ref"])) is not None:
        number = ref.number
    rows = await db.fetchall("SELECT name, status, conclusion, title FROM merge_queue_checks"
                             " WHERE repo = ? AND head_sha = ?", (repo, stacked_on))
    return {r["name"]: Ahead(None if number is None else int(number), str(r["status"]), r["conclusion"],
                             str(r["title"] or ""))
            for r in rows if r["status"] != "completed" or r["conclusion"] is not None}


async def reported_digests(db: Database, repo: str, head_sha: str) -> dict[str, str]:
    rows = await db.fetchall("SELECT name, digest FROM merge_queue_checks WHERE repo = ? AND head_sha = ?",
                             (repo, head_sha))
    return {r["name"]: r["digest"] for r in rows}


async def repos_to_prune(db: Database, before: float) -> list[str]:
    rows = await db.fetchall("SELECT DISTINCT repo FROM merge_queue_groups"
                             " WHERE COALESCE(destroyed_at, requested_at) < ? ORDER BY repo", (float(before),))
    return [r["repo"] for r in rows]
