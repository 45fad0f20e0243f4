"""Following the pipeline when GitHub's events do not line up: matrix legs, job events out of
order, "Re-run jobs" (a new run_attempt of the same run), decisions made on a run that a
push superseded meanwhile (different queues), and one head in two pull requests."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bot.core.actions import UpsertCheckRun
from bot.executor import Executor
from bot.features.patch_pipeline import FEATURE, status_line
from bot.features.patch_pipeline.store import StaleDecision, live_runs
from bot.worker import retry_delay

from .conftest import (HEAD, HEAD2, NOW, REPO, SignedFlow, job_json, job_payload, of, pr_payload,
                       workflow_run_payload)

RUN = 5550002
T = lambda s: NOW + timedelta(seconds=s)  # noqa: E731


class Flow(SignedFlow):
    def __init__(self, db, key):
        super().__init__(db, key, numbers=(7, 8))

    async def job(self, name, status, conclusion=None, *, at, job_id, started=None, completed=None, attempt=1):
        return await self.send("workflow_job", job_payload(name, status, conclusion, run_id=RUN, job_id=job_id,
                                                           started=started, completed=completed,
                                                           attempt=attempt), at=at)

    async def run_event(self, action, *, at, conclusion=None, attempt=1):
        return await self.send("workflow_run", workflow_run_payload(action, run_id=RUN, conclusion=conclusion,
                                                                    attempt=attempt), at=at)


@pytest.fixture
async def flow(db, key):
    f = Flow(db, key)
    assert of(await f.send("pull_request", pr_payload("opened")), "DispatchWorkflow")
    await f.run_event("requested", at=T(5))
    return f


def pipeline_check(actions, head=HEAD) -> UpsertCheckRun:
    [check] = [a for a in of(actions, "UpsertCheckRun") if a.name == "patch-pipeline" and a.head_sha == head]
    return check


async def through_kselftest(flow):
    await flow.job("patch-apply", "completed", "success", at=T(21), job_id=1, started=T(6), completed=T(20))
    await flow.job("kselftest-go", "completed", "success", at=T(61), job_id=2, started=T(21), completed=T(60))


# --- matrix stages ------------------------------------------------------------------------

async def test_a_failing_matrix_leg_fails_the_pipeline(flow):
    await through_kselftest(flow)
    await flow.job("boot-to-initrd (arm64)", "in_progress", at=T(62), job_id=4, started=T(61))
    check = pipeline_check(await flow.job("boot-to-initrd (x86_64)", "completed", "success", at=T(91), job_id=3,
                                          started=T(61), completed=T(90)))
    assert (check.status, check.conclusion, check.title) == ("in_progress", None, "boot-to-initrd running")
    check = pipeline_check(await flow.job("boot-to-initrd (arm64)", "completed", "failure", at=T(101), job_id=4,
                                          started=T(61), completed=T(100)))
    assert (check.conclusion, check.title) == ("failure", "boot-to-initrd failed")
    assert "❌ failed (1/2 legs passed)" in check.summary
    row, run = await flow.state()
    assert (row["status"], row["conclusion"]) == ("completed", "failure")
    assert [leg.job for leg in run.stages[2].legs] == ["boot-to-initrd (arm64)", "boot-to-initrd (x86_64)"]


async def test_a_leg_without_events_yet_is_found_in_the_job_list_before_passing(flow):
    await through_kselftest(flow)
    flow.repo.jobs[RUN] = [job_json("boot-to-initrd (arm64)", "in_progress", run_id=RUN, job_id=4, started=T(61))]
    check = pipeline_check(await flow.job("boot-to-initrd (x86_64)", "completed", "success", at=T(91), job_id=3,
                                          started=T(61), completed=T(90)))
    assert (check.status, check.conclusion) == ("in_progress", None)
    # Its failure is only in the job list read when the workflow run completes.
    flow.repo.jobs[RUN] = [job_json("boot-to-initrd (arm64)", "completed", "failure", run_id=RUN, job_id=4,
                                    started=T(61), completed=T(100))]
    check = pipeline_check(await flow.run_event("completed", at=T(102), conclusion="failure"))
    assert (check.conclusion, check.title) == ("failure", "boot-to-initrd failed")


# --- events out of order ------------------------------------------------------------------

async def test_a_stage_reported_after_the_run_failed_is_still_recorded(flow):
    await flow.job("patch-apply", "in_progress", at=T(7), job_id=1, started=T(6))
    check = pipeline_check(await flow.job("kselftest-go", "completed", "failure", at=T(81), job_id=2,
                                          started=T(40), completed=T(80)))
    assert check.conclusion == "failure"
    check = pipeline_check(await flow.job("patch-apply", "completed", "success", at=T(82), job_id=1,
                                          started=T(6), completed=T(39)))
    assert (check.status, check.conclusion, check.title) == ("completed", "failure", "kselftest-go failed")
    assert "| ✅ passed | 12:00:06 | 12:00:39 | 33s |" in check.summary
    row, run = await flow.state()
    assert row["status"] == "completed" and [s.status for s in run.stages] == ["success", "failure", "skipped"]


async def test_the_job_list_at_completion_fills_in_a_concluded_run(flow):
    await flow.job("patch-apply", "in_progress", at=T(7), job_id=1, started=T(6))
    await flow.job("kselftest-go", "completed", "failure", at=T(81), job_id=2, started=T(40), completed=T(80))
    flow.repo.jobs[RUN] = [
        job_json("patch-apply", "completed", "success", run_id=RUN, job_id=1, started=T(6), completed=T(39)),
        job_json("kselftest-go", "completed", "failure", run_id=RUN, job_id=2, started=T(40), completed=T(80))]
    check = pipeline_check(await flow.run_event("completed", at=T(90), conclusion="failure"))
    assert check.conclusion == "failure"
    _, run = await flow.state()
    assert [s.status for s in run.stages] == ["success", "failure", "skipped"]


# --- "Re-run jobs": same run id, new run_attempt ------------------------------------------

async def test_rerun_of_failed_jobs_turns_the_check_green(flow):
    check = pipeline_check(await flow.job("patch-apply", "completed", "failure", at=T(21), job_id=1,
                                          started=T(6), completed=T(20)))
    assert check.conclusion == "failure"
    check = pipeline_check(await flow.run_event("requested", at=T(300), attempt=2))
    assert (check.status, check.conclusion, check.title) == ("in_progress", None, "patch-apply pending")
    assert f"actions/runs/{RUN} (attempt 2)" in check.summary
    for i, name in enumerate(["patch-apply", "kselftest-go", "boot-to-initrd"]):
        actions = await flow.job(name, "completed", "success", at=T(306 + i * 10), job_id=10 + i,
                                 started=T(301 + i * 10), completed=T(305 + i * 10), attempt=2)
    check = pipeline_check(actions)
    assert (check.conclusion, check.title) == ("success", "All stages passed")
    row, run = await flow.state()
    assert (row["conclusion"], row["attempt"], run.attempt) == ("success", 2, 2)
    # The first attempt's completion, delivered late, changes nothing.
    assert await flow.run_event("completed", at=T(400), conclusion="failure", attempt=1) == []


# --- decisions made on a run a push superseded meanwhile ---------------------------------

class RecordingApi:
    """What the executor would send to GitHub."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def getiter(self, url, url_vars=None, **kw):
        self.calls.append(("GET", url))
        return
        yield

    async def post(self, url, url_vars=None, **kw):
        self.calls.append(("POST", url))
        return {"id": 99}

    async def patch(self, url, url_vars=None, **kw):
        self.calls.append(("PATCH", url))
        return {}


@pytest.mark.parametrize("status,conclusion", [("in_progress", None), ("completed", "failure")])
async def test_a_decision_made_before_a_supersede_is_decided_again(flow, status, conclusion):
    # The job event (queue: the repository) reads the run...
    stale = await flow.decide("workflow_job", job_payload("patch-apply", status, conclusion, run_id=RUN, job_id=1,
                                                          started=T(6), completed=T(20)), T(21))
    assert pipeline_check(stale).conclusion == conclusion
    # ...meanwhile a push (queue: the PR) supersedes it.
    check = pipeline_check(await flow.send("pull_request", pr_payload("synchronize", head=HEAD2), at=T(21)))
    assert (check.conclusion, check.title) == ("cancelled", f"Superseded by {HEAD2[:7]}")

    api = RecordingApi()

    async def api_for(installation):
        return api

    executor = Executor(flow.db, api_for=api_for, dry_run=False, features={"patch_pipeline": FEATURE},
                        bot_login="contributor-flow[bot]")
    with pytest.raises(StaleDecision) as raised:
        await executor.run(delivery_id="stale-job", installation_id=1,
                           batches=[("patch_pipeline.on_workflow_job", stale)])
    # The delivery is retried (decided again) at once, not after a backoff.
    assert retry_delay(3, 5.0, raised.value, time.time()) == 1.0
    assert api.calls == []  # the superseded check was not turned back
    row, run = await flow.state()
    assert row["status"] == "superseded" and [s.status for s in run.stages] == ["skipped"] * 3
    # Decided again, on the current state: nothing to do.
    assert await flow.decide("workflow_job", job_payload("patch-apply", status, conclusion, run_id=RUN, job_id=1,
                                                         started=T(6), completed=T(20)), T(22)) == []


# --- one head in two pull requests --------------------------------------------------------

async def test_a_head_opened_again_as_a_new_pr_follows_it(flow):
    # PR 7 was closed; the same branch (same head) is opened as PR 8.
    actions = await flow.send("pull_request", pr_payload("opened", number=8), at=T(60))
    assert [(a.op, a.args["number"]) for a in of(actions, "Record")] == [("adopt_run", 8)]
    assert not of(actions, "DispatchWorkflow")
    assert "Patch pipeline" in await status_line(flow.db, REPO, 8)
    # A push to PR 8 supersedes the run still live for its old head.
    actions = await flow.send("pull_request", pr_payload("synchronize", number=8, head=HEAD2), at=T(120))
    assert pipeline_check(actions, HEAD).conclusion == "cancelled"
    assert of(actions, "DispatchWorkflow")[0].inputs["pr_number"] == "8"
    assert [run.head_sha for _, run in await live_runs(flow.db, REPO)] == [HEAD2]


async def test_a_superseded_run_never_gets_a_check_update_again(flow):
    from bot.features.patch_pipeline import tracking
    await flow.send("pull_request", pr_payload("synchronize", head=HEAD2), at=T(21))
    row, run = await flow.state()
    assert run.status == "superseded"
    # Even with news about its workflow run (a link it did not have), nothing is said about it.
    assert tracking.changed(REPO, 7, {**row, "run_url": None}, run, run, flow.rules.section("pipeline"),
                            T(30).timestamp(), run_url=f"https://github.com/{REPO}/actions/runs/{RUN}") == []
