"""The feature's table (sandbox_prs): merged pull requests and what their card says of the
sandbox. Writers are idempotent (a retried delivery or job writes the same again) and settle
races in SQL: a line is replaced only by a newer deployment status's, and only while its pull
request still waits."""
from __future__ import annotations

from typing import Any, Sequence

from ...store.db import Database

_NEWER = ("(deployment_id IS NULL OR deployment_id < ? OR (deployment_id = ? AND status_id < ?))")


async def merged(db: Database, *, repo: str, number: int, merge_sha: str, base_ref: str,
                 merged_at: float) -> None:
    """The pull request waits for a deployment that includes ``merge_sha`` (first record wins:
    a redelivered ``closed`` changes nothing)."""
    await db.execute(
        "INSERT INTO sandbox_prs (repo, number, merge_sha, base_ref, merged_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (repo, number) DO NOTHING",
        (repo, int(number), merge_sha, base_ref[:255], float(merged_at)))


async def deployed(db: Database, *, repo: str, numbers: Sequence[int], state: str, environment: str,
                   deployment_id: int, status_id: int, deployed_sha: str, env_url: str | None,
                   log_url: str | None, status_at: float) -> None:
    """A deployment status (``state`` live or failed) for the waiting pull requests it
    includes; a pull request that stopped waiting meanwhile, or whose line is about a newer
    status already, keeps its line."""
    if state not in ("live", "failed"):
        raise ValueError(f"unknown sandbox state {state!r}")
    async with db.transaction():
        for number in numbers:
            await db.execute(
                "UPDATE sandbox_prs SET state = ?, environment = ?, deployment_id = ?, status_id = ?,"
                " deployed_sha = ?, env_url = ?, log_url = ?, status_at = ?, line_version = line_version + 1"
                f" WHERE repo = ? AND number = ? AND state IN ('waiting', 'failed') AND {_NEWER}",
                (state, environment[:255], int(deployment_id), int(status_id), deployed_sha,
                 env_url, log_url, float(status_at), repo, int(number),
                 int(deployment_id), int(deployment_id), int(status_id)))


async def expire(db: Database, *, repo: str, before: float) -> None:
    """Pull requests merged before ``before`` and still waiting stop waiting (their card says so)."""
    await db.execute(
        "UPDATE sandbox_prs SET state = 'expired', line_version = line_version + 1"
        " WHERE repo = ? AND state IN ('waiting', 'failed') AND merged_at < ?", (repo, float(before)))


async def carded(db: Database, *, repo: str, number: int, version: int) -> None:
    """The card showed the line at ``version`` (a newer change stays due)."""
    await db.execute("UPDATE sandbox_prs SET carded_version = ? WHERE repo = ? AND number = ?"
                     " AND carded_version < ?", (int(version), repo, int(number), int(version)))


async def prune(db: Database, *, repo: str, before: float) -> None:
    """Forget settled pull requests (live or expired) merged before ``before``: their card
    keeps what it last said, and nothing renders it again (nor tries to, for a repository out
    of reach since)."""
    await db.execute("DELETE FROM sandbox_prs WHERE repo = ? AND state IN ('live', 'expired')"
                     " AND merged_at < ?", (repo, float(before)))


WRITERS = {"merged": merged, "deployed": deployed, "expire": expire, "carded": carded, "prune": prune}


# --- reads ---------------------------------------------------------------------------------------

async def pull(db: Database, repo: str, number: int) -> dict[str, Any] | None:
    return await db.fetchone("SELECT * FROM sandbox_prs WHERE repo = ? AND number = ?", (repo, int(number)))


async def waiting(db: Database, repo: str, *, merged_since: float) -> list[dict[str, Any]]:
    """The repository's pull requests still waiting, merged since ``merged_since``, oldest first."""
    return await db.fetchall(
        "SELECT * FROM sandbox_prs WHERE repo = ? AND state IN ('waiting', 'failed') AND merged_at >= ?"
        " ORDER BY merged_at, number", (repo, float(merged_since)))


async def due_cards(db: Database, limit: int) -> list[dict[str, Any]]:
    """Pull requests whose line changed since their card last showed it, oldest change first."""
    return await db.fetchall("SELECT * FROM sandbox_prs WHERE line_version > carded_version"
                             " ORDER BY merged_at, repo, number LIMIT ?", (int(limit),))


async def repos_to_expire(db: Database, before: float) -> list[str]:
    rows = await db.fetchall("SELECT DISTINCT repo FROM sandbox_prs WHERE state IN ('waiting', 'failed')"
                             " AND merged_at < ? ORDER BY repo", (float(before),))
    return [r["repo"] for r in rows]


async def repos_to_prune(db: Database, before: float) -> list[str]:
    rows = await db.fetchall("SELECT DISTINCT repo FROM sandbox_prs WHERE state IN ('live', 'expired')"
                             " AND merged_at < ? ORDER BY repo", (float(before),))
    return [r["repo"] for r in rows]
