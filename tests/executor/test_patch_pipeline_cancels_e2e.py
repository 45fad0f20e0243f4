"""The patch pipeline's owed cancels end to end: the real bot over real HTTP against the fake
GitHub, whose POSTs fail with a 502 while told to (the client never sends again a POST GitHub
may have acted on, so the executor gets the error at once). The pipeline's end is saved, its
cancel lost; the next opportunity (the sweep, the run's next event, the delivery's retry) sends
it again, and the run stops; the cancel is owed until GitHub reports the run completed. A run
that goes on after GitHub accepted its cancel (a job that runs on cancellation) is force-cancelled
by the sweep."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.features import all_features
from bot.features.patch_pipeline import FEATURE
from bot.github import TransientGitHubError
from bot.rules.registry import sections_of
from bot.scheduler import run_job
from tests.conftest import BOTH_BACKENDS
from tests.e2e.harness import BotHarness
from tests.e2e.test_patch_pipeline_e2e import (  # noqa: F401 - key, rules_dir, sigstore_cache: fixtures
    CANCEL, REPO, WORKFLOW, dispatched_run, job_event, key, one_check, pr_event, push, rules_dir, run_event,
    signed_pull, sigstore_cache)

FORCE = "/repos/{owner}/{repo}/actions/runs/{run_id}/force-cancel"


@pytest.fixture
async def bot(fake_github, database_url, rules_dir):
    """The bot of the pipeline's own end-to-end tests, every other feature off: a 502 told to
    POSTs then meets the pipeline's cancel first (a new head's CLA check is a POST too)."""
    for section in sections_of(all_features()):
        if section.name not in ("core", "commands", "pipeline"):
            (Path(rules_dir) / f"{section.name}.yml").write_text("enabled: false\n")
    fake_github.add_repo(REPO)
    fake_github.add_workflow(REPO, WORKFLOW, name="Patch pipeline")
    fake_github.add_user("contrib")
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


def answered(fake) -> list[int]:
    return [c.status for c in fake.calls_to("POST", CANCEL)]


async def owed(bot) -> list[int]:
    return [int(r["run_id"]) for r in await bot.runtime.db.fetchall("SELECT run_id FROM patch_pipeline_cancels")]


async def running_pipeline(bot, key):
    fake = bot.fake
    pr = signed_pull(fake, key)
    await bot.deliver("pull_request", pr_event(fake, pr))
    _, run = await dispatched_run(bot, pr.pull.head_sha)
    run.status = "in_progress"
    await bot.deliver("workflow_run", run_event(fake, run, "requested"))
    return pr, run


@BOTH_BACKENDS
@pytest.mark.parametrize("again_by", ["sweep", "event"])
async def test_a_timeout_cancel_lost_to_a_502_is_sent_again(bot, key, again_by):
    fake = bot.fake
    pr, run = await running_pipeline(bot, key)
    head = pr.pull.head_sha
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    await bot.deliver("workflow_job", job_event(fake, run, "patch-apply", "in_progress", job_id=1, started=t0))
    [sweep] = FEATURE.jobs
    fake.faults.configure(share=1.0, kinds=("502",), only_methods=("POST",))
    with pytest.raises(TransientGitHubError):
        await run_job(bot.runtime, sweep, key="timeout", clock=lambda: t0 + timedelta(seconds=95))
    fake.faults.off()
    assert one_check(fake, head, "patch-pipeline").conclusion == "timed_out"  # the end is saved and shown...
    assert run.status == "in_progress" and answered(fake) == [502]  # ...its cancel lost

    if again_by == "sweep":
        assert await run_job(bot.runtime, sweep, key="early", clock=lambda: t0 + timedelta(seconds=125)) == 0
        assert await run_job(bot.runtime, sweep, key="next", clock=lambda: t0 + timedelta(seconds=156)) > 0
    else:  # the run's next workflow_run event, before the sweep looks again
        await bot.deliver("workflow_run", run_event(fake, run, "in_progress"))
    assert (run.status, run.conclusion) == ("completed", "cancelled")
    assert answered(fake) == [502, 202] and await owed(bot) == [run.id]  # accepted: owed until reported ended

    # Its cancellation reported back changes nothing and sends nothing more; the run's end
    # settles the cancel.
    await bot.deliver("workflow_job", job_event(fake, run, "patch-apply", "completed", "cancelled", job_id=1,
                                                started=t0, completed=t0 + timedelta(seconds=96)))
    await bot.deliver("workflow_run", run_event(fake, run, "completed"))
    assert await owed(bot) == []
    assert await run_job(bot.runtime, sweep, key="later", clock=lambda: t0 + timedelta(seconds=900)) == 0
    assert answered(fake) == [502, 202] and fake.calls_to("POST", FORCE) == []
    stuck = one_check(fake, head, "patch-pipeline")
    assert (stuck.conclusion, stuck.output["title"]) == ("timed_out", "patch-apply timed out")
    assert not fake.violations


@BOTH_BACKENDS
async def test_a_superseded_runs_cancel_lost_to_a_502_is_sent_again_by_the_retry(bot, key):
    fake = bot.fake
    pr, old_run = await running_pipeline(bot, key)
    old = pr.pull.head_sha
    push(fake, pr, key, head_sha="e" * 40)
    fake.faults.configure(share=1.0, kinds=("502",), only_methods=("POST",))
    delivery = await bot.deliver("pull_request", pr_event(fake, pr, "synchronize"), wait=False)
    await bot.wait_for(delivery, states=("failed", "dead"))
    fake.faults.off()
    assert await bot.wait_for(delivery) == "done"

    [first, *_] = fake.calls_to("POST", CANCEL)
    assert first.faulted == "502"  # the first attempt's cancel was lost
    assert (old_run.status, old_run.conclusion) == ("completed", "cancelled")
    assert answered(fake)[-1] == 202 and await owed(bot) == [old_run.id]
    await bot.deliver("workflow_run", run_event(fake, old_run, "completed"))
    assert await owed(bot) == []
    stale = one_check(fake, old, "patch-pipeline")
    assert (stale.conclusion, stale.output["title"]) == ("cancelled", "Superseded by eeeeeee")
    assert [d.inputs["head_sha"] for d in fake.state.dispatches] == [old, "e" * 40]
    assert one_check(fake, "e" * 40, "patch-pipeline").status == "queued"
    assert not fake.violations


@BOTH_BACKENDS
async def test_a_run_going_on_after_its_cancel_was_accepted_is_force_cancelled(bot, key):
    """A job of the workflow runs on cancellation (``if: always()``): GitHub accepts the cancel
    of the timed-out run (202) and the run goes on. Its news sends nothing more; six minutes
    after the cancel, the sweep force-cancels it, and its completed event settles the cancel."""
    fake = bot.fake
    pr, run = await running_pipeline(bot, key)
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    await bot.deliver("workflow_job", job_event(fake, run, "patch-apply", "in_progress", job_id=1, started=t0))
    job_event(fake, run, "upload-results", "in_progress", job_id=2, started=t0)  # no stage: not delivered
    run.jobs[-1]["if"] = "${{ always() }}"
    [sweep] = FEATURE.jobs
    assert await run_job(bot.runtime, sweep, key="timeout", clock=lambda: t0 + timedelta(seconds=95)) > 0
    assert one_check(fake, pr.pull.head_sha, "patch-pipeline").conclusion == "timed_out"
    assert answered(fake) == [202] and run.status == "in_progress"  # accepted; upload-results goes on
    assert await owed(bot) == [run.id]

    await bot.deliver("workflow_run", run_event(fake, run, "in_progress"))
    assert await run_job(bot.runtime, sweep, key="soon", clock=lambda: t0 + timedelta(seconds=95 + 300)) == 0
    assert answered(fake) == [202] and fake.calls_to("POST", FORCE) == []
    assert await run_job(bot.runtime, sweep, key="forced", clock=lambda: t0 + timedelta(seconds=95 + 361)) > 0
    assert [c.status for c in fake.calls_to("POST", FORCE)] == [202]
    assert (run.status, run.conclusion) == ("completed", "cancelled")
    assert await owed(bot) == [run.id]  # accepted again: the run's end is still to be reported
    await bot.deliver("workflow_run", run_event(fake, run, "completed"))
    assert await owed(bot) == []
    assert await run_job(bot.runtime, sweep, key="later", clock=lambda: t0 + timedelta(hours=2)) == 0
    assert answered(fake) == [202] and len(fake.calls_to("POST", FORCE)) == 1
    assert not fake.violations


@BOTH_BACKENDS
async def test_a_rerun_after_an_accepted_cancel_is_not_force_cancelled(bot, key):
    """GitHub accepted the timed-out run's cancel and stopped it, but its completed event never
    came; within six minutes someone re-runs the run (the same id, attempt 2). The sweep reads the
    run before its force-cancel: attempt 1 has ended, so the cancel owed for it is settled, and
    the re-run is left running."""
    fake = bot.fake
    pr, run = await running_pipeline(bot, key)
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    await bot.deliver("workflow_job", job_event(fake, run, "patch-apply", "in_progress", job_id=1, started=t0))
    [sweep] = FEATURE.jobs
    assert await run_job(bot.runtime, sweep, key="timeout", clock=lambda: t0 + timedelta(seconds=95)) > 0
    assert answered(fake) == [202] and (run.status, run.conclusion) == ("completed", "cancelled")
    assert await owed(bot) == [run.id]  # its completed event is lost

    run.run_attempt, run.status, run.conclusion = 2, "in_progress", None  # "Re-run all jobs"
    assert await run_job(bot.runtime, sweep, key="forced", clock=lambda: t0 + timedelta(seconds=95 + 361)) > 0
    assert fake.calls_to("POST", FORCE) == [] and answered(fake) == [202]
    assert (run.status, run.run_attempt) == ("in_progress", 2)
    assert await owed(bot) == []
    assert fake.calls_to("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}")
    assert not fake.violations
