"""The ``merge-queue-follow`` job: a queued group's checks follow the verdicts held for its pull
request (a CLA version raised or a signature recorded, a pipeline finishing, patches no longer
trusted) until the group is destroyed; and old records are dropped.

Decided from the store alone (no GitHub read), so it is cheap every 30 seconds: two small
queries when nothing is queued. A destroyed group is no longer live, so nothing is decided for it again.
"""
from __future__ import annotations

from ...context import JobContext
from ...core.actions import Action, Note, Record
from ...core.merge_group import Pull
from . import store
from .handlers import FEATURE_NAME, check_actions, digests, outcome_text
from .mirrors import Env, group_checks
from .rules import SECTION

# GitHub redelivers a delivery for 3 days: a tombstone outlives any late checks_requested.
KEEP_RECORDS = 3 * 86400.0


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
    for row in live:
        handle = handles.get(row["repo"])
        if handle is None or SECTION.name not in handle.rules or not handle.rules.enabled(SECTION.name):
            continue
        if float(row["requested_at"]) < now - float(handle.rules.section(SECTION.name)["follow_for"]):
            continue
        repo, group_sha = row["repo"], row["head_sha"]
        pull = Pull(number=int(row["number"]), head_sha=str(row["pr_head_sha"]))
        checks = await group_checks(Env(repo, handle.rules, jctx.db, group_sha), pull)
        before = await store.reported_digests(jctx.db, repo, group_sha)
        changed = [c for c in checks if before.get(c.name) != c.digest]
        if not changed:
            continue
        # The check first, then the record: a run that fails half-way decides it again.
        actions += [*check_actions(repo, group_sha, changed),
                    Record(repo, feature=FEATURE_NAME, op="reported",
                           args={"repo": repo, "head_sha": group_sha, "checks": digests(changed), "at": now}),
                    Note(repo, feature=FEATURE_NAME, number=pull.number,
                         text="verdict changed: " + outcome_text(group_sha, changed))]
    return actions
