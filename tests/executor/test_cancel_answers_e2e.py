"""The executor's cancel of a workflow run against the fake GitHub over real HTTP: GitHub's answer
is recorded (202 cancelled: accepted, 409 already ended, 404 gone; force-cancel likewise), for the
owing the cancel was sent for, so that a feature that owes the cancel can tell what came of it; a
cancel that failed leaves no answer, not even an earlier attempt's; in dry-run nothing is sent and
"dry-run" is the answer."""
from __future__ import annotations

import pytest

from bot.core import actions as A
from bot.executor import Executor
from bot.store import state
from bot.github import TransientGitHubError

REPO = "octo/repo"
CANCEL = "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel"
FORCE = "/repos/{owner}/{repo}/actions/runs/{run_id}/force-cancel"


async def cancel(rt, delivery: str, run_id: int, *, force: bool = False, owing: str = "", executor=None):
    return await (executor or rt.executor).run(delivery_id=delivery, installation_id=1, batches=[
        ("test", [A.CancelWorkflowRun(repo=REPO, run_id=run_id, force=force, owing=owing)])])


async def test_an_answer_that_leaves_nothing_running_is_recorded(rt, fake_github):
    running = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="in_progress")
    ended = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="completed", conclusion="success")
    gone = max(fake_github.state.workflow_runs) + 1000  # deleted, or never there
    for delivery, run_id in (("d1", running.id), ("d2", ended.id), ("d3", gone)):
        out = await cancel(rt, delivery, run_id)
        assert out.done and not out.failed
    assert [await state.cancel_answer(rt.db, REPO, r) for r in (running.id, ended.id, gone)] == [
        "cancelled", "already ended", "gone"]
    assert [c.status for c in fake_github.calls_to("POST", CANCEL)] == [202, 409, 404]
    assert (running.status, running.conclusion) == ("completed", "cancelled")


async def test_a_cancel_that_failed_leaves_no_answer(rt, fake_github):
    run = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="in_progress")
    await cancel(rt, "d1", run.id)
    assert await state.cancel_answer(rt.db, REPO, run.id) == "cancelled"
    # "Re-run all jobs" in the Actions UI: the same run goes again, and is to be stopped again.
    run.status, run.conclusion = "in_progress", None
    fake_github.faults.configure(share=1.0, kinds=("502",), only_methods=["POST"])
    with pytest.raises(TransientGitHubError):
        await cancel(rt, "d2", run.id)
    fake_github.faults.configure(share=0.0)
    assert run.status == "in_progress"
    assert await state.cancel_answer(rt.db, REPO, run.id) is None  # the earlier answer was another attempt's
    await cancel(rt, "d3", run.id)
    assert await state.cancel_answer(rt.db, REPO, run.id) == "cancelled"
    assert (run.status, run.conclusion) == ("completed", "cancelled")


async def test_a_force_cancel_stops_what_a_cancel_leaves_running(rt, fake_github):
    """A job whose condition holds on cancellation (``if: always()``) goes on after a cancel,
    accepted all the same (202): GitHub's force-cancel stops it and the run."""
    run = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="in_progress")
    run.jobs = [{"id": 1, "name": "patch-apply", "status": "in_progress", "conclusion": None},
                {"id": 2, "name": "upload-logs", "status": "in_progress", "conclusion": None, "if": "always()"}]
    await cancel(rt, "d1", run.id, owing="1")
    assert await state.cancel_answer(rt.db, REPO, run.id, "1") == "cancelled"
    assert (run.status, [j["status"] for j in run.jobs]) == ("in_progress", ["completed", "in_progress"])
    await cancel(rt, "d2", run.id, force=True, owing="1")
    assert await state.cancel_answer(rt.db, REPO, run.id, "1") == "force-cancelled"
    assert (run.status, run.conclusion) == ("completed", "cancelled")
    await cancel(rt, "d3", run.id, force=True, owing="1")
    assert await state.cancel_answer(rt.db, REPO, run.id, "1") == "already ended"
    gone = max(fake_github.state.workflow_runs) + 1000
    await cancel(rt, "d4", gone, force=True)
    assert await state.cancel_answer(rt.db, REPO, gone) == "gone"
    assert [c.status for c in fake_github.calls_to("POST", CANCEL)] == [202]
    assert [c.status for c in fake_github.calls_to("POST", FORCE)] == [202, 409, 404]


async def test_an_answer_is_recorded_for_the_owing_the_cancel_was_sent_for(rt, fake_github):
    run = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="in_progress")
    await cancel(rt, "d1", run.id, owing="1795694501.0")
    assert await state.cancel_answer(rt.db, REPO, run.id, "1795694501.0") == "cancelled"
    assert await state.cancel_answer(rt.db, REPO, run.id, "1795953631.0") is None
    assert await state.cancel_answer(rt.db, REPO, run.id) is None


@pytest.mark.parametrize("where", ["executor", "repository"])
async def test_in_dry_run_nothing_is_sent_and_dry_run_is_the_answer(rt, fake_github, where):
    """Nothing will ever answer a cancel that is not sent: a feature owing it reads "dry-run"."""
    run = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="in_progress")
    dry = Executor(rt.db, api_for=rt.executor.api_for, dry_run=where == "executor", features={},
                   bot_login=rt.bot_login, repo_dry_run=lambda repo: where == "repository")
    out = await cancel(rt, "d1", run.id, owing="7.0", executor=dry)
    assert out.dry_run and not out.done and not out.failed
    assert await state.cancel_answer(rt.db, REPO, run.id, "7.0") == "dry-run"
    assert fake_github.calls_to("POST", CANCEL) == [] and run.status == "in_progress"
