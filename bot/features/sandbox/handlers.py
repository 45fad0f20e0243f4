"""Decisions: a merged pull request starts waiting for the sandbox; a push is deployed (with
``create``); a deployment status of the sandbox environment settles the waiting pull requests
whose merge commit it includes. Nothing is posted here: the card job (refresh.py) shows the
lines recorded."""
from __future__ import annotations

from typing import Any, Mapping

from ...context import Context
from ...core.actions import Action, CreateDeployment, Note, Record
from ...core.events import Event, parse_time
from ...github import PermanentGitHubError
from . import store
from .lines import SHA, safe_url, short
from .rules import SECTION

FEATURE_NAME = "sandbox"
# A merged pull request waits this long for a deployment that includes it (one compare per
# waiting pull request and deployment status: the wait bounds the cost).
WAIT_DAYS = 14
_ZERO = "0" * 40
LIVE, FAILED = "success", ("failure", "error")


def branches(rules: Mapping[str, Any], payload: Mapping[str, Any]) -> tuple[str, ...]:
    """The section's branches, or the repository's default branch (as the payload says)."""
    listed = tuple(rules.get("branches") or ())
    if listed:
        return listed
    default = str((payload.get("repository") or {}).get("default_branch") or "")
    return (default,) if default else ()


def same_environment(a: Any, b: str) -> bool:
    return isinstance(a, str) and a.casefold() == b.casefold()


async def on_pull_closed(event: Event, ctx: Context) -> list[Action]:
    """Merged into a sandbox branch: the pull request waits for a deployment including its
    merge commit (GitHub's ``merge_commit_sha``: the merge, squash or rebased head)."""
    rules = ctx.rules.section(SECTION.name)
    pr: Mapping[str, Any] = event.payload.get("pull_request") or {}
    number, sha = pr.get("number"), str(pr.get("merge_commit_sha") or "")
    base = str((pr.get("base") or {}).get("ref") or "")
    if not pr.get("merged") or not isinstance(number, int) or not SHA.fullmatch(sha):
        return []
    if base not in branches(rules, event.payload):
        return []
    merged_at = parse_time(pr.get("merged_at")) or ctx.now()
    return [Record(ctx.repo, feature=FEATURE_NAME, op="merged", args={
                "repo": ctx.repo, "number": number, "merge_sha": sha, "base_ref": base,
                "merged_at": merged_at.timestamp()}),
            Note(ctx.repo, feature=FEATURE_NAME, number=number,
                 text=f"merged into {base} as {sha[:7]}: waiting for a {rules['environment']} deployment")]


async def on_push(event: Event, ctx: Context) -> list[Action]:
    """``create``: one deployment of the pushed head of a sandbox branch (the executor creates
    none when that commit has one in the environment already: a retried delivery, a push of
    the same commit to another listed branch)."""
    rules = ctx.rules.section(SECTION.name)
    if not rules["create"]:
        return []
    payload = event.payload
    ref, sha = str(payload.get("ref") or ""), str(payload.get("after") or "")
    if payload.get("deleted") or not ref.startswith("refs/heads/") or not SHA.fullmatch(sha) or sha == _ZERO:
        return []
    branch = ref.removeprefix("refs/heads/")
    if branch not in branches(rules, payload):
        return []
    environment = rules["environment"]
    return [CreateDeployment(ctx.repo, sha=sha, environment=environment,
                             required_contexts=tuple(rules["required_contexts"]),
                             description=f"contributor-flow: {environment} deployment of {branch} at {sha[:7]}",
                             payload={"requested_by": "contributor-flow", "bot": ctx.bot_login,
                                      "branch": branch}),
            Note(ctx.repo, feature=FEATURE_NAME, number=0,
                 text=f"push to {branch}: deployment of {sha[:7]} to {environment} asked")]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


async def contains(ctx: Context, merge_sha: str, deployed_sha: str) -> bool:
    """Whether ``deployed_sha`` includes ``merge_sha``: GitHub's compare of the two says the
    deployed commit is ``ahead`` of it or ``identical``. A commit GitHub no longer knows (a
    force-push dropped it) is not included."""
    if merge_sha == deployed_sha:
        return True
    owner, name = ctx.repo.split("/", 1)

    async def load() -> str:
        try:
            found = await ctx.gh.getitem("/repos/{owner}/{repo}/compare/{basehead}{?per_page}",
                                         {"owner": owner, "repo": name, "per_page": 1,
                                          "basehead": f"{merge_sha}...{deployed_sha}"})
        except PermanentGitHubError as exc:
            if exc.status in (404, 422):
                return "unknown"
            raise
        return str((found or {}).get("status") or "")

    status = await ctx.cached(f"sandbox:compare:{ctx.repo}:{merge_sha}...{deployed_sha}", load)
    return status in ("ahead", "identical")


async def on_deployment_status(event: Event, ctx: Context) -> list[Action]:
    """A final status of a sandbox deployment: ``success`` makes each waiting pull request it
    includes live; ``failure``/``error`` says so on theirs, and they keep waiting. Other
    states (queued, in_progress, pending, inactive) change nothing."""
    rules = ctx.rules.section(SECTION.name)
    status: Mapping[str, Any] = event.payload.get("deployment_status") or {}
    deployment: Mapping[str, Any] = event.payload.get("deployment") or {}
    environment = status.get("environment") or deployment.get("environment")
    if not same_environment(environment, rules["environment"]):
        return []
    state = status.get("state")
    if state != LIVE and state not in FAILED:
        return []
    sha = str(deployment.get("sha") or "")
    deployment_id, status_id = _int(deployment.get("id")), _int(status.get("id"))
    if not SHA.fullmatch(sha) or deployment_id is None or status_id is None:
        return []
    since = ctx.now().timestamp() - WAIT_DAYS * 86400
    numbers: list[int] = []
    for row in await store.waiting(ctx.db, ctx.repo, merged_since=since):
        if (row["deployment_id"] or 0, row["status_id"] or 0) >= (deployment_id, status_id):
            continue  # its line is about this status or a newer one already
        if await contains(ctx, str(row["merge_sha"]), sha):
            numbers.append(int(row["number"]))
    if not numbers:
        return []
    at = parse_time(status.get("created_at")) or ctx.now()
    line = "live" if state == LIVE else "failed"
    return [Record(ctx.repo, feature=FEATURE_NAME, op="deployed", args={
                "repo": ctx.repo, "numbers": numbers, "state": line, "environment": str(environment),
                "deployment_id": deployment_id, "status_id": status_id, "deployed_sha": sha,
                # target_url: the older name of log_url (GitHub still sends both).
                "env_url": safe_url(status.get("environment_url")),
                "log_url": safe_url(status.get("log_url")) or safe_url(status.get("target_url")),
                "status_at": at.timestamp()}),
            *(Note(ctx.repo, feature=FEATURE_NAME, number=n,
                   text=f"{environment} deployment of {short(sha)} {state}: included") for n in numbers)]
