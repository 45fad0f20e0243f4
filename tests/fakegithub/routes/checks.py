"""Check runs (and the little of check suites a bot touches)."""

from __future__ import annotations

from typing import Any

from ..context import Ctx, GitHubError, Reply, not_found, paginate
from ..state import CheckRun, now_iso
from . import route

TEXT_LIMIT = 65535


def _apply(run: CheckRun, body: dict[str, Any]) -> None:
    output = body.get("output")
    if output is not None:
        for key in ("summary", "text"):
            if len(output.get(key) or "") > TEXT_LIMIT:
                raise GitHubError(422, "Invalid request.\n\nOnly 65535 characters are allowed; "
                                       f"{len(output[key])} were supplied.")
        if len(output.get("annotations") or []) > 50:
            raise GitHubError(422, "Invalid request.\n\nAt most 50 annotations per request.")
        run.output = {**run.output, **output}
    for key in ("name", "details_url", "external_id", "started_at", "status"):
        if key in body:
            setattr(run, key, body[key])
    if "actions" in body:
        run.actions = body["actions"]
    if body.get("conclusion"):
        # A conclusion implies completion, as on GitHub.
        run.conclusion, run.status = body["conclusion"], "completed"
        run.completed_at = body.get("completed_at") or now_iso()
    elif run.status == "completed" and run.conclusion is None:
        raise GitHubError(422, "Invalid request.\n\nconclusion is required when status is completed.")


@route("POST", "/repos/{owner}/{repo}/check-runs")
def create_check_run(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    run = ctx.fake.add_check_run(repo.full_name, ctx.body["name"], ctx.body["head_sha"],
                                 app_id=ctx.fake.app_id)
    _apply(run, ctx.body)
    if run.status == "in_progress" and run.started_at is None:
        run.started_at = now_iso()
    return Reply(status=201, json=ctx.ser.check_run(run))


def _run(ctx: Ctx) -> CheckRun:
    repo = ctx.repo()
    run = ctx.state.check_runs.get(ctx.params["check_run_id"])
    if run is None or run.repo != repo.full_name:
        raise not_found()
    return run


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def get_check_run(ctx: Ctx) -> Reply:
    return Reply(json=ctx.ser.check_run(_run(ctx)))


@route("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def update_check_run(ctx: Ctx) -> Reply:
    run = _run(ctx)
    body = ctx.body or {}
    # GitHub does not take a completed check run back to queued or in_progress (Mergify and
    # Atlantis switched to a new run per re-run for this reason): the fake refuses it loudly.
    if run.status == "completed" and body.get("status") in ("queued", "in_progress"):
        raise GitHubError(422, "Invalid request.\n\nA completed check run cannot be set back to "
                               f"{body['status']}.")
    _apply(run, body)
    return Reply(json=ctx.ser.check_run(run))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs")
def list_for_ref(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    ref = ctx.params["ref"]
    sha = repo.branches.get(ref, ref)
    runs = [r for r in ctx.state.check_runs.values() if r.repo == repo.full_name and r.head_sha == sha
            and ctx.query.get("check_name") in (None, r.name)
            and ctx.query.get("status") in (None, r.status)
            and ctx.query.get("app_id") in (None, r.app_id)]
    if ctx.query.get("filter", "latest") == "latest":
        latest: dict[str, CheckRun] = {}
        for r in runs:
            latest[r.name] = r
        runs = list(latest.values())
    runs.sort(key=lambda r: r.id, reverse=True)
    return paginate(ctx, [ctx.ser.check_run(r) for r in runs], wrap="check_runs")


@route("POST", "/repos/{owner}/{repo}/statuses/{sha}")
def create_status(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    status = {"id": ctx.state.next_id(), "state": ctx.body["state"],
              "context": ctx.body.get("context") or "default",
              "description": ctx.body.get("description"), "target_url": ctx.body.get("target_url"),
              "creator": ctx.ser.user(ctx.fake.bot_login), "created_at": now_iso(), "updated_at": now_iso()}
    ctx.state.statuses.setdefault(repo.full_name, {}).setdefault(ctx.params["sha"], []).append(status)
    return Reply(status=201, json=status)


def _statuses(ctx: Ctx) -> list[dict[str, Any]]:
    repo = ctx.repo()
    sha = repo.branches.get(ctx.params["ref"], ctx.params["ref"])
    return list(reversed(ctx.state.statuses.get(repo.full_name, {}).get(sha, [])))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses")
def list_statuses(ctx: Ctx) -> Reply:
    return paginate(ctx, _statuses(ctx))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/status")
def combined_status(ctx: Ctx) -> Reply:
    latest: dict[str, dict[str, Any]] = {}
    for s in _statuses(ctx):
        latest.setdefault(s["context"], s)
    states = {s["state"] for s in latest.values()}
    state = ("failure" if states & {"failure", "error"} else "pending" if "pending" in states or not states
             else "success")
    repo = ctx.repo()
    return Reply(json={"state": state, "statuses": list(latest.values()), "total_count": len(latest),
                       "sha": repo.branches.get(ctx.params["ref"], ctx.params["ref"]),
                       "repository": ctx.ser.repo(repo)})


@route("POST", "/repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest")
def rerequest(ctx: Ctx) -> Reply:
    _run(ctx)
    return Reply(status=201, json={})
