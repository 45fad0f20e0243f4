"""merge_group events: report the bot's checks on a group's commit; forget a destroyed group."""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from ...context import Context
from ...core.actions import Action, Note, Record, UpsertCheckRun
from ...core.events import Event
from ...core.merge_group import GroupCheck, Pull, branch_of, parse_queue_ref, unidentified, unusable_pull
from ...github import PermanentGitHubError
from ...store import state
from . import store
from .mirrors import Env, all_names, group_checks

FEATURE_NAME = "merge_queue"
_SHA = re.compile(r"[0-9a-f]{40}")


def check_actions(repo: str, group_sha: str, checks: Sequence[GroupCheck]) -> list[Action]:
    return [UpsertCheckRun(repo, name=c.name, head_sha=group_sha, status=c.status, conclusion=c.conclusion,
                           title=c.title, summary=c.summary) for c in checks]


def digests(checks: Sequence[GroupCheck]) -> list[dict[str, Any]]:
    return [{"name": c.name, "digest": c.digest} for c in checks]


def outcome_text(group_sha: str, checks: Sequence[GroupCheck]) -> str:
    shown = ", ".join(f"{c.name} {c.conclusion or c.status}" for c in checks) or "no check of the bot's to report"
    return f"merge group {group_sha[:7]}: {shown}"


async def _pull(ctx: Context, number: int) -> Pull | None:
    owner, name = ctx.repo.split("/", 1)
    try:
        pr = await ctx.gh.getitem("/repos/{owner}/{repo}/pulls/{pull_number}",
                                  {"owner": owner, "repo": name, "pull_number": number})
    except PermanentGitHubError as exc:
        if exc.status in (404, 410):
            return None
        raise
    return Pull(number=number, head_sha=str((pr.get("head") or {}).get("sha") or ""),
                state=str(pr.get("state") or ""),
                base_ref=str((pr.get("base") or {}).get("ref") or ""))


async def _seen(ctx: Context, names: Sequence[str]) -> list[str]:
    """Of the checks the bot could owe a group, those it has ever reported in the repository (one
    it never reported there is none a pull request could have passed before being queued)."""
    seen = await state.check_names_seen(ctx.db, ctx.repo, names)
    return [n for n in names if n in seen]


async def on_checks_requested(event: Event, ctx: Context) -> list[Action]:
    group: Mapping[str, Any] = event.payload.get("merge_group") or {}
    group_sha = str(group.get("head_sha") or "")
    if not _SHA.fullmatch(group_sha):
        return []
    head_ref, base_ref = str(group.get("head_ref") or ""), str(group.get("base_ref") or "")
    ref = parse_queue_ref(head_ref)
    number = ref.number if ref else None
    known = await store.group(ctx.db, ctx.repo, group_sha)
    if known is not None and known["destroyed_at"] is not None:
        return [Note(ctx.repo, feature=FEATURE_NAME, number=number or 0,
                     text=f"merge group {group_sha[:7]}: checks requested after it was destroyed; nothing reported")]
    names = all_names(ctx.rules)
    pull: Pull | None = None
    if ref is None:
        checks = unidentified(await _seen(ctx, names), head_ref)
    else:
        pull = await _pull(ctx, ref.number)
        base = branch_of(base_ref) or ref.base
        bad = unusable_pull(names, ref.number, pull, base)
        if bad is not None:
            seen = set(await _seen(ctx, names))
            checks, pull = [c for c in bad if c.name in seen], None
        else:
            assert pull is not None
            checks = await group_checks(Env(ctx.repo, ctx.rules, ctx.db, group_sha, gh=ctx.gh), pull)
    return [
        *check_actions(ctx.repo, group_sha, checks),
        Record(ctx.repo, feature=FEATURE_NAME, op="requested", args={
            "repo": ctx.repo, "head_sha": group_sha, "head_ref": head_ref, "base_ref": base_ref,
            "number": pull.number if pull else None, "pr_head_sha": pull.head_sha if pull else None,
            "at": ctx.now().timestamp(), "checks": digests(checks)}),
        Note(ctx.repo, feature=FEATURE_NAME, number=number or 0, text=outcome_text(group_sha, checks)),
    ]


async def on_destroyed(event: Event, ctx: Context) -> list[Action]:
    """Nothing to post: the group's commit is gone with its branch. Its records go, a tombstone
    stays (a late checks_requested for it reports nothing), and its checks stop following."""
    group: Mapping[str, Any] = event.payload.get("merge_group") or {}
    group_sha = str(group.get("head_sha") or "")
    if not _SHA.fullmatch(group_sha):
        return []
    reason = str(event.payload.get("reason") or "")
    ref = parse_queue_ref(str(group.get("head_ref") or ""))
    return [Record(ctx.repo, feature=FEATURE_NAME, op="destroyed",
                   args={"repo": ctx.repo, "head_sha": group_sha, "reason": reason, "at": ctx.now().timestamp()}),
            Note(ctx.repo, feature=FEATURE_NAME, number=ref.number if ref else 0,
                 text=f"merge group {group_sha[:7]} destroyed" + (f" ({reason})" if reason else ""))]
