"""GitHub Actions: workflows and workflow_dispatch (runs are not simulated)."""

from __future__ import annotations

from ..context import Ctx, GitHubError, Reply, not_found, paginate
from ..state import Dispatch, Workflow
from . import route


def _workflow(ctx: Ctx) -> Workflow:
    repo = ctx.repo()
    key = str(ctx.params["workflow_id"])
    for file, wf in repo.workflows.items():
        if key in (file, str(wf.id), wf.path):
            return wf
    raise not_found()


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
    if ref.removeprefix("refs/heads/") not in repo.branches and not ref.startswith("refs/tags/"):
        raise GitHubError(422, f"No ref found for: {ref}")
    ctx.state.dispatches.append(Dispatch(kind="workflow", repo=repo.full_name,
                                         workflow=wf.path.rsplit("/", 1)[-1], ref=ref, inputs=inputs))
    if ctx.body.get("return_run_details"):
        run_id = ctx.state.next_id()
        return Reply(status=200, json={"workflow_run_id": run_id,
                                       "run_url": f"{ctx.fake.url}/repos/{repo.full_name}/actions/runs/{run_id}",
                                       "html_url": f"https://github.com/{repo.full_name}/actions/runs/{run_id}"})
    return Reply(status=204)


@route("GET", "/repos/{owner}/{repo}/actions/runs")
def list_runs(ctx: Ctx) -> Reply:
    ctx.repo()
    return paginate(ctx, [], wrap="workflow_runs")


@route("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs")
def list_workflow_runs(ctx: Ctx) -> Reply:
    _workflow(ctx)
    return paginate(ctx, [], wrap="workflow_runs")
