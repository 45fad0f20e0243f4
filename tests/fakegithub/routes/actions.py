"""GitHub Actions: workflows, workflow_dispatch, workflow runs and their jobs.

Runs exist only as state: a dispatch creates a queued run, and tests move it along by editing
`fake.state.workflow_runs[...]` (and deliver the matching workflow_run webhook themselves).

Cancelling, as GitHub does it: a cancel (202) stops every unfinished job of the run except those
whose `if` condition holds on cancellation (`always()`, `cancelled()`); a run left with such a job
stays `in_progress` (GitHub shows it "cancelling") until the test ends that job. REST job objects
do not show a job's condition: a test gives it as the job's `"if"` key, which the fake never
serves. A force-cancel (202) stops every unfinished job and the run with them. Either answers 409
for a completed run, 404 for an unknown one.
"""

from __future__ import annotations

import json

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
    if len(json.dumps(inputs)) > 65_535:
        # GitHub: the maximum payload for a workflow_dispatch's inputs is 65,535 characters.
        raise GitHubError(422, "inputs are too large")
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
    return paginate(ctx, [{k: v for k, v in job.items() if k != "if"} for job in _run(ctx).jobs], wrap="jobs")


# The status functions that make a job's condition hold when its run is cancelled.
_RUNS_ON_CANCEL = ("always()", "cancelled()")


def _stop(run: WorkflowRun, *, force: bool) -> Reply:
    if run.status == "completed":
        raise GitHubError(409, "Cannot cancel a workflow run that is completed.")
    now = now_iso()
    for job in run.jobs:
        if job.get("status") == "completed":
            continue
        if not force and any(f in str(job.get("if") or "") for f in _RUNS_ON_CANCEL):
            continue  # goes on: the server re-evaluates the job's condition, which holds
        job.update(status="completed", conclusion="cancelled", completed_at=now)
    if all(job.get("status") == "completed" for job in run.jobs):
        run.status, run.conclusion = "completed", "cancelled"
    else:
        run.status = "in_progress"  # cancelling: its surviving jobs still run
    run.updated_at = now
    return Reply(status=202, json={})


@route("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel")
def cancel_run(ctx: Ctx) -> Reply:
    return _stop(_run(ctx), force=False)


@route("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/force-cancel")
def force_cancel_run(ctx: Ctx) -> Reply:
    """Stops what a cancel lets run on (`if: always()`) and a run stuck cancelling."""
    return _stop(_run(ctx), force=True)


@route("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/rerun")
def rerun(ctx: Ctx) -> Reply:
    run = _run(ctx)
    run.run_attempt += 1
    run.status, run.conclusion, run.updated_at = "queued", None, now_iso()
    return Reply(status=201, json={})
