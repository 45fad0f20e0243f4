"""GitHub Actions: workflows, workflow_dispatch, workflow runs and their jobs.

Runs exist only as state: a dispatch creates a queued run, and tests move it along by editing
`fake.state.workflow_runs[...]` (and deliver the matching workflow_run webhook themselves).
"""

from __future__ import annotations

from ..context import Ctx, GitHubError, Reply, not_found, paginate
from ..state import Dispatch, Workflow, WorkflowRun, now_iso
from . import route


def _workflow(ctx: Ctx) -> Workflow:
    repo = ctx.repo()
    key = str(ctx.params["workflow_id"])
    for file, wf in repo.workflows.items():
        if key in (file, str(wf.id), wf.path):
            return wf
    raise not_found()


def _run(ctx: Ctx) -> WorkflowRun:
    repo = ctx.repo()
    run = ctx.state.workflow_runs.get(ctx.params["run_id"])
    if run is None or run.repo != repo.full_name:
        raise not_found()
    return run


@route("GET", "/repos/{owner}/{repo}/actions/workflows")
def list_workflows(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    return paginate(ctx, [ctx.ser.workflow(repo.full_name, w) for w in repo.workflows.values()],
                    wrap="workflows")


@route("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}")
def get_workflow(ctx: Ctx) -> Reply:
    return Reply(json=ctx.ser.workflow(ctx.repo().full_name, _workflow(ctx)))


@route("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches")
def dispatch(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    wf = _workflow(ctx)
    inputs = ctx.body.get("inputs") or {}
    if len(inputs) > 25:
        raise GitHubError(422, "you may only define up to 25 `inputs` for a `workflow_dispatch` event")
    ref = ctx.body["ref"]
    branch = ref.removeprefix("refs/heads/")
    if branch not in repo.branches and not ref.startswith("refs/tags/"):
        raise GitHubError(422, f"No ref found for: {ref}")
    file = wf.path.rsplit("/", 1)[-1]
    run = ctx.fake.add_workflow_run(repo.full_name, file, head_branch=branch, actor=ctx.fake.bot_login)
    ctx.state.dispatches.append(Dispatch(kind="workflow", repo=repo.full_name, workflow=file, ref=ref,
                                         inputs=inputs, run_id=run.id))
    if ctx.body.get("return_run_details"):
        return Reply(status=200, json={
            "workflow_run_id": run.id,
            "run_url": f"{ctx.fake.url}/repos/{repo.full_name}/actions/runs/{run.id}",
            "html_url": f"https://github.com/{repo.full_name}/actions/runs/{run.id}"})
    return Reply(status=204)


def _runs(ctx: Ctx, workflow_file: str | None) -> Reply:
    repo = ctx.repo()
    q = ctx.query
    runs = [r for r in ctx.state.workflow_runs.values() if r.repo == repo.full_name
            and workflow_file in (None, r.workflow_file)
            and q.get("branch") in (None, r.head_branch) and q.get("event") in (None, r.event)
            and q.get("head_sha") in (None, r.head_sha) and q.get("actor") in (None, r.actor)
            and q.get("status") in (None, r.status, r.conclusion)]
    runs.sort(key=lambda r: r.id, reverse=True)
    return paginate(ctx, [ctx.ser.workflow_run(r) for r in runs], wrap="workflow_runs")


@route("GET", "/repos/{owner}/{repo}/actions/runs")
def list_runs(ctx: Ctx) -> Reply:
    return _runs(ctx, None)


@route("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs")
def list_workflow_runs(ctx: Ctx) -> Reply:
    return _runs(ctx, _workflow(ctx).path.rsplit("/", 1)[-1])


@route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}")
def get_run(ctx: Ctx) -> Reply:
    return Reply(json=ctx.ser.workflow_run(_run(ctx)))


@route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs")
def list_jobs(ctx: Ctx) -> Reply:
    return paginate(ctx, _run(ctx).jobs, wrap="jobs")


@route("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel")
def cancel_run(ctx: Ctx) -> Reply:
    run = _run(ctx)
    if run.status == "completed":
        raise GitHubError(409, "Cannot cancel a workflow run that is completed.")
    run.status, run.conclusion, run.updated_at = "completed", "cancelled", now_iso()
    return Reply(status=202, json={})


@route("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/rerun")
def rerun(ctx: Ctx) -> Reply:
    run = _run(ctx)
    run.run_attempt += 1
    run.status, run.conclusion, run.updated_at = "queued", None, now_iso()
    return Reply(status=201, json={})
