"""The executor's cancel of a workflow run against the fake GitHub over real HTTP: GitHub's answer
is recorded when it leaves nothing running (202 cancelled, 409 already ended, 404 gone), so a
feature that owes the cancel can tell it is settled; a cancel that failed leaves no answer, not
even an earlier attempt's."""
from __future__ import annotations

import pytest
import pytest_asyncio

from bot.core import actions as A
from bot.store import state
from bot.github import TransientGitHubError
from bot.runtime import open_runtime
from tests.helpers import app_settings

REPO = "octo/repo"
CANCEL = "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel"


@pytest_asyncio.fixture
async def rt(fake_github, tmp_path):
    fake_github.add_repo(REPO)
    settings = app_settings(fake_github, f"sqlite:///{tmp_path}/db.sqlite3")
    async with open_runtime(settings) as runtime:
        yield runtime


async def cancel(rt, delivery: str, run_id: int):
    return await rt.executor.run(delivery_id=delivery, installation_id=1,
                                 batches=[("test", [A.CancelWorkflowRun(repo=REPO, run_id=run_id)])])


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
