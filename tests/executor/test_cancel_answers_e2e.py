"""The executor's cancel of a workflow run against the fake GitHub over real HTTP: GitHub's answer
is recorded (202 cancelled: accepted, 409 already ended, 404 gone; force-cancel likewise), for the
owing the cancel was sent for, so that a feature that owes the cancel can tell what came of it; a
cancel that failed leaves no answer, not even an earlier attempt's; in dry-run nothing is sent and
"dry-run" is the answer. A cancel for a given attempt of the run reads the run first, and is not
sent once that attempt has ended (completed, or re-run since: the later attempt is not its to
stop) or the run is gone."""
from __future__ import annotations

import pytest

from bot.core import actions as A
from bot.executor import Executor
from bot.store import state
from bot.github import TransientGitHubError

REPO = "octo/repo"
CANCEL = "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel"
FORCE = "/repos/{owner}/{repo}/actions/runs/{run_id}/force-cancel"
RUN = "/repos/{owner}/{repo}/actions/runs/{run_id}"


async def cancel(rt, delivery: str, run_id: int, *, force: bool = False, owing: str = "", attempt: int = 0,
                 executor=None):
    return await (executor or rt.executor).run(delivery_id=delivery, installation_id=1, batches=[
        ("test", [A.CancelWorkflowRun(repo=REPO, run_id=run_id, force=force, owing=owing, attempt=attempt)])])


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


@pytest.mark.parametrize("force", [False, True], ids=["cancel", "force-cancel"])
async def test_a_cancel_for_an_attempt_that_has_ended_is_answered_without_being_sent(rt, fake_github, force):
    ended = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="completed", conclusion="cancelled")
    rerun = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="in_progress")
    rerun.run_attempt = 2  # someone pressed "Re-run" once attempt 1 had ended
    gone = max(fake_github.state.workflow_runs) + 1000
    for delivery, run_id in (("d1", ended.id), ("d2", rerun.id), ("d3", gone)):
        out = await cancel(rt, delivery, run_id, force=force, owing="1", attempt=1)
        assert out.done and not out.failed
    assert [await state.cancel_answer(rt.db, REPO, r, "1") for r in (ended.id, rerun.id, gone)] == [
        "already ended", "re-run", "gone"]
    assert [c.status for c in fake_github.calls_to("GET", RUN)] == [200, 200, 404]
    assert fake_github.calls_to("POST", CANCEL) == fake_github.calls_to("POST", FORCE) == []
    assert (rerun.status, rerun.conclusion) == ("in_progress", None)
    # The attempt running is the one the cancel is for: it is stopped.
    await cancel(rt, "d4", rerun.id, force=force, owing="2", attempt=2)
    assert await state.cancel_answer(rt.db, REPO, rerun.id, "2") == ("force-cancelled" if force else "cancelled")
    assert (rerun.status, rerun.conclusion) == ("completed", "cancelled")


async def test_a_run_that_could_not_be_read_is_not_cancelled_and_leaves_no_answer(rt, fake_github):
    from bot.github import GitHub

    # A client that gives up at the first 502 (the runtime's backs off for seconds first).
    impatient = GitHub(rt.session, api_url=fake_github.url, app_id=str(fake_github.app_id),
                       private_key=fake_github.private_key_pem, mutation_interval=0.0, max_attempts=1)
    executor = Executor(rt.db, api_for=impatient.installation, dry_run=False, features={}, bot_login=rt.bot_login)
    run = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="in_progress")
    fake_github.faults.configure(share=1.0, kinds=("502",), only_methods=["GET"])
    with pytest.raises(TransientGitHubError):
        await cancel(rt, "d1", run.id, owing="1", attempt=1, executor=executor)
    fake_github.faults.configure(share=0.0)
    assert fake_github.calls_to("GET", RUN) and fake_github.calls_to("POST", CANCEL) == []
    assert await state.cancel_answer(rt.db, REPO, run.id, "1") is None and run.status == "in_progress"


@pytest.mark.parametrize("why", ["no credentials", "core.dry_run"])
async def test_only_a_dry_run_asked_for_answers_a_cancel_it_does_not_send(fake_github, tmp_path, why):
    """Without the App's credentials (``replay --execute`` without a key, against the live bot's
    database) nothing can be sent either, but nobody chose not to act: the cancel is left
    unanswered, so a feature owing it keeps it owed for a bot that can send it. A dry run asked
    for (the deployment's ``core.dry_run``) answers it "dry-run"."""
    import os
    import shutil

    from bot.runtime import open_runtime
    from bot.settings import BUNDLED_RULES
    from tests.helpers import app_settings

    fake_github.add_repo(REPO)
    run = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="in_progress")
    rules = tmp_path / "rules"
    shutil.copytree(os.environ.get("BOT_RULES_DIR") or BUNDLED_RULES, rules)
    if why == "core.dry_run":
        core = rules / "core.yml"
        core.write_text(core.read_text().replace("dry_run: false", "dry_run: true"))
        overrides = {}
    else:
        overrides = {"app_id": None, "private_key": None}
    settings = app_settings(fake_github, f"sqlite:///{tmp_path}/db.sqlite3", rules_dir=str(rules), **overrides)
    async with open_runtime(settings) as runtime:
        assert runtime.dry_run
        out = await cancel(runtime, "d1", run.id, owing="1", attempt=1)
        assert out.dry_run and not out.done and not out.failed
        answer = await state.cancel_answer(runtime.db, REPO, run.id, "1")
    assert answer == (None if why == "no credentials" else "dry-run")
    assert [c for c in fake_github.calls if c.method != "GET"] == [] and run.status == "in_progress"
