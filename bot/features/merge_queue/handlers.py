"""merge_group events: report the bot's checks on a group's commit; forget a destroyed group.
"Re-run" on one of those checks (check_run / check_suite ``rerequested``) decides the group's
checks again, as its checks_requested did."""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from ...context import Context
from ...core.actions import Action, Note, Record, UpsertCheckRun
from ...core.cla import account_from_api
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
    """What the store keeps of each check reported: its digest, and what it said (read by the
    group stacked on this one)."""
    return [{"name": c.name, "digest": c.digest, "status": c.status, "conclusion": c.conclusion,
             "title": c.title} for c in checks]


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
                base_ref=str((pr.get("base") or {}).get("ref") or ""),
                merged=bool(pr.get("merged") or pr.get("merged_at")), opener=account_from_api(pr.get("user")))


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
    return await decide_group(ctx, group_sha, str(group.get("head_ref") or ""), str(group.get("base_ref") or ""))


async def decide_group(ctx: Context, group_sha: str, head_ref: str, base_ref: str, *,
                       why: str = "checks requested") -> list[Action]:
    """The group's checks decided now (asked by the queue, or re-run), reported and recorded;
    nothing for a destroyed group."""
    ref = parse_queue_ref(head_ref)
    number = ref.number if ref else None
    known = await store.group(ctx.db, ctx.repo, group_sha)
    if known is not None and known["destroyed_at"] is not None:
        return [Note(ctx.repo, feature=FEATURE_NAME, number=number or 0,
                     text=f"merge group {group_sha[:7]}: {why} after it was destroyed; nothing reported")]
    names = all_names(ctx.rules)
    pull: Pull | None = None
    outcome = ""
    learned: list[Action] = []
    if ref is None:
        checks = unidentified(await _seen(ctx, names), head_ref)
    else:
        pull = await _pull(ctx, ref.number)
        bad = unusable_pull(names, ref.number, pull, branch_of(base_ref) or ref.base)
        if pull is not None and pull.merged:
            # Asked late (a retried delivery, its destroyed still behind it): the group's
            # commit may be the base branch's head by now, and no verdict is owed to it.
            checks, pull = [], None
            outcome = f"merge group {group_sha[:7]}: #{ref.number} is merged already; nothing reported"
        elif bad is not None:
            seen = set(await _seen(ctx, names))
            checks, pull = [c for c in bad if c.name in seen], None
        else:
            assert pull is not None
            ahead = await store.ahead_of(ctx.db, ctx.repo, ref.stacked_on)
            env = Env(ctx.repo, ctx.rules, ctx.db, group_sha, gh=ctx.gh, clock=ctx.now)
            checks = await group_checks(env, pull, ahead=ahead)
            learned = env.learned
    return [
        # First what was learned from GitHub deciding (membership answers, a pull request's
        # verdict checked again): the group is live for the follow job once recorded below, and
        # it must find them then, or say otherwise.
        *learned,
        *check_actions(ctx.repo, group_sha, checks),
        Record(ctx.repo, feature=FEATURE_NAME, op="requested", args={
            "repo": ctx.repo, "head_sha": group_sha, "head_ref": head_ref, "base_ref": base_ref,
            "number": pull.number if pull else None, "pr_head_sha": pull.head_sha if pull else None,
            "at": ctx.now().timestamp(), "checks": digests(checks)}),
        Note(ctx.repo, feature=FEATURE_NAME, number=number or 0,
             text=f"{why}: {outcome or outcome_text(group_sha, checks)}"),
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


async def on_pull_closed(event: Event, ctx: Context) -> list[Action]:
    """A closed (or merged) pull request's groups are over, whether or not their ``destroyed``
    arrives (GitHub does not promise it, and it may wait behind a retried delivery): ended here
    as ``destroyed`` would end them, so the follow job never writes on a commit that has since
    become the base branch's head."""
    pr: Mapping[str, Any] = event.payload.get("pull_request") or {}
    number = pr.get("number")
    if not isinstance(number, int):
        return []
    at = ctx.now().timestamp()
    return [Record(ctx.repo, feature=FEATURE_NAME, op="destroyed",
                   args={"repo": ctx.repo, "head_sha": sha, "reason": "pull request closed", "at": at})
            for sha in await store.live_group_shas(ctx.db, ctx.repo, number)]


async def on_check_run_rerequested(event: Event, ctx: Context) -> list[Action]:
    """"Re-run" on one of the bot's checks of a merge group: the group's checks decided again."""
    run: Mapping[str, Any] = event.payload.get("check_run") or {}
    if not str(run.get("external_id") or "").startswith("contributor-flow"):
        return []
    return await _rerun(ctx, str(run.get("head_sha") or ""), f"re-run of {run.get('name')}")


async def on_check_suite_rerequested(event: Event, ctx: Context) -> list[Action]:
    """"Re-run all checks" of the bot's check suite on a merge group's commit."""
    suite: Mapping[str, Any] = event.payload.get("check_suite") or {}
    return await _rerun(ctx, str(suite.get("head_sha") or ""), "re-run of the check suite")


async def _rerun(ctx: Context, group_sha: str, why: str) -> list[Action]:
    """As the group's checks_requested, from what was recorded of it: the same runs are updated
    in place (the executor's check-run ledger). Any other commit's checks (a pull request's
    own) are their features' to re-run."""
    if not _SHA.fullmatch(group_sha):
        return []
    known = await store.group(ctx.db, ctx.repo, group_sha)
    if known is None:
        return []
    return await decide_group(ctx, group_sha, str(known["head_ref"] or ""), str(known["base_ref"] or ""), why=why)
