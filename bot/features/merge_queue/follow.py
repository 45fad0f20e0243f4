"""The ``merge-queue-follow`` job: a queued group's checks follow the verdicts held for its pull
request (a CLA version raised or a signature recorded, a pipeline finishing, patches no longer
trusted) and for the pull requests ahead of it in its commit, until the group is destroyed; and
old records are dropped.

Decided from the store alone (no GitHub read), so it is cheap every 30 seconds: two small
queries when nothing is queued. A destroyed group is no longer live, so nothing is decided for it
again. A run re-reports at most ``MAX_UPDATES`` checks (the oldest groups first): the executor
paces GitHub writes about a second apart, and a run must end before the next one is due, or the
next one would send the same updates again. The rest go in the next runs.
"""
from __future__ import annotations

from typing import Any, Mapping

from ...context import JobContext, RepoHandle
from ...core.actions import Action, Note, Record
from ...core.merge_group import Ahead, GroupCheck, Pull, parse_queue_ref
from . import store
from .handlers import FEATURE_NAME, check_actions, digests, outcome_text
from .mirrors import Env, group_checks
from .rules import SECTION

# GitHub redelivers a delivery for 3 days: a tombstone outlives any late checks_requested.
KEEP_RECORDS = 3 * 86400.0
# Check runs updated per run (the job runs every 30 s; GitHub writes are paced ~1 s apart).
MAX_UPDATES = 25

Key = tuple[str, str]   # (repository, group commit)


def _followed(row: Mapping[str, Any], handle: RepoHandle | None, now: float) -> bool:
    if handle is None or SECTION.name not in handle.rules or not handle.rules.enabled(SECTION.name):
        return False
    return float(row["requested_at"]) >= now - float(handle.rules.section(SECTION.name)["follow_for"])


def _stacked_on(row: Mapping[str, Any]) -> Key | None:
    ref = parse_queue_ref(str(row["head_ref"] or ""))
    return (str(row["repo"]), ref.stacked_on) if ref else None


async def follow_groups(jctx: JobContext) -> list[Action]:
    now = jctx.now().timestamp()
    actions: list[Action] = [
        Record(repo, feature=FEATURE_NAME, op="prune", args={"repo": repo, "before": now - KEEP_RECORDS})
        for repo in await store.repos_to_prune(jctx.db, now - KEEP_RECORDS)]
    live = await store.live_groups(jctx.db)
    if not live:
        return actions
    wanted = {row["repo"] for row in live}
    handles = {h.repo: h for h in await jctx.repos() if h.repo in wanted}
    rows: dict[Key, Mapping[str, Any]] = {(r["repo"], r["head_sha"]): r for r in live}
    # This run's decisions (None: not followed), so a group behind another one in the queue
    # sees what its group ahead is about to report, not what it reported last.
    decided: dict[Key, list[GroupCheck] | None] = {}
    updates = 0

    async def ahead_of(row: Mapping[str, Any]) -> dict[str, Ahead]:
        key = _stacked_on(row)
        if key is None:
            return {}
        checks = decided.get(key)
        if checks is None:
            return await store.ahead_of(jctx.db, key[0], key[1])
        number = rows[key]["number"]
        return {c.name: Ahead(int(number) if number is not None else None, c.status, c.conclusion, c.title)
                for c in checks}

    for row in live:
        # The groups ahead first: the chain down to one decided already or not queued.
        chain: list[Key] = []
        key: Key | None = (row["repo"], row["head_sha"])
        while key is not None and key in rows and key not in decided and key not in chain:
            chain.append(key)
            key = _stacked_on(rows[key])
        for key in reversed(chain):
            if updates >= MAX_UPDATES:
                return actions
            group = rows[key]
            repo, group_sha = key
            handle = handles.get(repo)
            if not _followed(group, handle, now):
                decided[key] = None
                continue
            assert handle is not None
            pull = Pull(number=int(group["number"]), head_sha=str(group["pr_head_sha"]))
            checks = await group_checks(Env(repo, handle.rules, jctx.db, group_sha), pull,
                                        ahead=await ahead_of(group))
            decided[key] = checks
            before = await store.reported_digests(jctx.db, repo, group_sha)
            changed = [c for c in checks if before.get(c.name) != c.digest]
            if not changed:
                continue
            updates += len(changed)
            # The check first, then the record: a run that fails half-way decides it again.
            actions += [*check_actions(repo, group_sha, changed),
                        Record(repo, feature=FEATURE_NAME, op="reported",
                               args={"repo": repo, "head_sha": group_sha, "checks": digests(changed), "at": now}),
                        Note(repo, feature=FEATURE_NAME, number=pull.number,
                             text="verdict changed: " + outcome_text(group_sha, changed))]
    return actions
