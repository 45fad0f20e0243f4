"""Deployments: create, list (filtered by sha, ref, task, environment), get. Statuses are the
tests' to deliver as webhooks (``deployment_status``); GitHub's environments are not modelled."""
from __future__ import annotations

from typing import Any

from ..context import Ctx, GitHubError, Reply, not_found, paginate
from ..state import Deployment, make_node_id, now_iso
from . import route


def serialize(ctx: Ctx, d: Deployment) -> dict[str, Any]:
    url = f"{ctx.fake.url}/repos/{d.repo}/deployments/{d.id}"
    return {"url": url, "id": d.id, "node_id": d.node_id, "sha": d.sha, "ref": d.ref, "task": d.task,
            "payload": d.payload, "original_environment": d.environment, "environment": d.environment,
            "description": d.description, "creator": ctx.ser.user(d.creator), "created_at": d.created_at,
            "updated_at": d.created_at, "statuses_url": f"{url}/statuses",
            "repository_url": f"{ctx.fake.url}/repos/{d.repo}",
            "transient_environment": d.transient_environment,
            "production_environment": d.production_environment}


def _commit_of(ctx: Ctx, ref: str) -> str | None:
    """The commit ``ref`` (a sha, a branch or a tag name) names in the repository."""
    repo = ctx.repo()
    if ref in repo.commits:
        return ref
    if ref in repo.branches:
        return repo.branches[ref]
    for issue in repo.issues.values():
        pull = issue.pull
        if pull and ref in (pull.head_sha, pull.merge_commit_sha):
            return ref
    return None


@route("POST", "/repos/{owner}/{repo}/deployments")
def create_deployment(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    body = ctx.body or {}
    sha = _commit_of(ctx, body["ref"])
    if sha is None:
        raise GitHubError(422, f"No ref found for: {body['ref']}")
    contexts = body.get("required_contexts")
    if contexts:
        # GitHub refuses (409) while a required context has not succeeded on the commit.
        passed = {s["context"] for s in ctx.state.statuses.get(repo.full_name, {}).get(sha, [])
                  if s.get("state") == "success"}
        passed |= {r.name for r in ctx.state.check_runs.values()
                   if r.repo == repo.full_name and r.head_sha == sha and r.conclusion == "success"}
        missing = [c for c in contexts if c not in passed]
        if missing:
            raise GitHubError(409, "Conflict: Commit status checks failed for " + body["ref"])
    did = ctx.state.next_id()
    payload = body.get("payload") or {}
    deployment = Deployment(
        id=did, node_id=make_node_id("DE", did), repo=repo.full_name, sha=sha, ref=body["ref"],
        environment=body.get("environment") or "production", creator=ctx.fake.bot_login,
        created_at=now_iso(), task=body.get("task") or "deploy", description=body.get("description"),
        payload=payload if isinstance(payload, dict) else {"value": payload},
        required_contexts=contexts, transient_environment=bool(body.get("transient_environment")),
        production_environment=bool(body.get("production_environment",
                                             (body.get("environment") or "production") == "production")))
    ctx.state.deployments[did] = deployment
    return Reply(status=201, json=serialize(ctx, deployment))


@route("GET", "/repos/{owner}/{repo}/deployments")
def list_deployments(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    found = [d for d in ctx.state.deployments.values() if d.repo == repo.full_name]
    for key in ("sha", "ref", "task", "environment"):
        if key in ctx.query:
            found = [d for d in found if getattr(d, key) == ctx.query[key]]
    return paginate(ctx, [serialize(ctx, d) for d in sorted(found, key=lambda d: -d.id)])


@route("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}")
def get_deployment(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    d = ctx.state.deployments.get(int(ctx.params["deployment_id"]))
    if d is None or d.repo != repo.full_name:
        raise not_found()
    return Reply(json=serialize(ctx, d))
