"""Following the pipeline: real workflow_run / workflow_job payload shapes in, the
patch-pipeline check run out; the timeout sweep; a new push superseding a run."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.features.patch_pipeline import handlers, status_line
from bot.features.patch_pipeline.store import run_for_head

from .conftest import (HEAD, HEAD2, NOW, REPO, Repo, apply_records, context, job_context, job_json,
                       job_payload, of, pr_payload, rules, workflow_run_payload)
from tests.signing.cosign_fake import sig_file

PATCH = "patches/kernel/0001-vmalloc-bridge.patch"
DATA = b"Subject: [PATCH] mm: vmalloc bridge\n"
RUN = 5550001
T = lambda s: NOW + timedelta(seconds=s)  # noqa: E731


@pytest.fixture
def repo(key) -> Repo:
    r = Repo()
    for head in (HEAD, HEAD2):
        r.put(head, PATCH, DATA + head.encode())
        r.put(head, PATCH + ".sig", sig_file(key, DATA + head.encode()))
    r.pr_files[7] = [PATCH, PATCH + ".sig"]
    return r


@pytest.fixture
def rule_set(key):
    return rules(key)


class Flow:
    def __init__(self, db, repo, rule_set):
        self.db, self.repo, self.rules = db, repo, rule_set

    async def send(self, event: str, payload: dict, at=NOW):
        event_obj, ctx = context(event, payload, db=self.db, repo=self.repo, rules=self.rules, now=at)
        handler = {"pull_request": handlers.on_pull_request, "workflow_run": handlers.on_workflow_run,
                   "workflow_job": handlers.on_workflow_job}[event]
        actions = await handler(event_obj, ctx)
        await apply_records(self.db, actions)
        return actions

    async def job(self, name, status, conclusion=None, *, at, started=None, completed=None, job_id=1):
        return await self.send("workflow_job", job_payload(name, status, conclusion, run_id=RUN, job_id=job_id,
                                                           started=started, completed=completed), at=at)

    async def state(self, head=HEAD):
        return await run_for_head(self.db, REPO, head)


@pytest.fixture
async def flow(db, repo, rule_set):
    f = Flow(db, repo, rule_set)
    actions = await f.send("pull_request", pr_payload("opened"))
    assert of(actions, "DispatchWorkflow")
    return f


def pipeline_check(actions):
    [check] = [a for a in of(actions, "UpsertCheckRun") if a.name == "patch-pipeline"]
    return check


async def test_stage_progression_to_success(flow):
    actions = await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    check = pipeline_check(actions)
    assert check.status == "in_progress" and check.details_url == f"https://github.com/{REPO}/actions/runs/{RUN}"
    row, run = await flow.state()
    assert run.run_id == RUN and row["status"] == "running"

    check = pipeline_check(await flow.job("patch-apply", "in_progress", at=T(10), started=T(8)))
    assert check.title == "patch-apply running"
    check = pipeline_check(await flow.job("patch-apply", "completed", "success", at=T(60), started=T(8),
                                          completed=T(50)))
    assert "| patch-apply | ✅ passed | 12:00:08 | 12:00:50 | 42s | 1m30s |" in check.summary.replace(
        f"[patch-apply](https://github.com/{REPO}/actions/runs/{RUN}/job/1)", "patch-apply")
    await flow.job("kselftest-go", "in_progress", at=T(61), started=T(60), job_id=2)
    await flow.job("kselftest-go", "completed", "success", at=T(200), started=T(60), completed=T(190), job_id=2)
    await flow.job("boot-to-initrd", "in_progress", at=T(201), started=T(200), job_id=3)
    actions = await flow.job("boot-to-initrd", "completed", "success", at=T(300), started=T(200),
                             completed=T(290), job_id=3)
    check = pipeline_check(actions)
    assert (check.status, check.conclusion, check.title) == ("completed", "success", "All stages passed")
    assert "2m10s" in check.summary and "1m30s" in check.summary
    assert of(actions, "Note")
    line = await status_line(flow.db, REPO, 7)
    assert "All stages passed" in line and "patch-apply ✅ 42s" in line
    # The run's own completion event adds nothing new.
    assert await flow.send("workflow_run", workflow_run_payload("completed", run_id=RUN, conclusion="success"),
                           at=T(301)) == []


async def test_first_failing_stage_fails_the_run_and_skips_the_rest(flow):
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    await flow.job("patch-apply", "completed", "success", at=T(40), started=T(8), completed=T(30))
    actions = await flow.job("kselftest-go", "completed", "failure", at=T(100), started=T(40), completed=T(95),
                             job_id=2)
    check = pipeline_check(actions)
    assert (check.conclusion, check.title) == ("failure", "kselftest-go failed")
    assert "| boot-to-initrd | ⏭ skipped |" in check.summary
    _, run = await flow.state()
    assert [s.status for s in run.stages] == ["success", "failure", "skipped"]


async def test_job_before_its_run_event_asks_github_which_run_it_is(flow):
    flow.repo.runs[RUN] = workflow_run_payload("requested", run_id=RUN)["workflow_run"]
    actions = await flow.job("patch-apply", "in_progress", at=T(10), started=T(8))
    assert pipeline_check(actions).title == "patch-apply running"
    _, run = await flow.state()
    assert run.run_id == RUN


async def test_jobs_of_other_workflows_are_ignored(flow):
    other = workflow_run_payload("requested", run_id=RUN, path=".github/workflows/ci.yml")
    assert await flow.send("workflow_run", other, at=T(5)) == []
    flow.repo.runs[RUN] = other["workflow_run"]
    assert await flow.job("patch-apply", "in_progress", at=T(10), started=T(8)) == []
    assert await flow.job("lint", "in_progress", at=T(10), started=T(8)) == []


async def test_a_run_of_the_pipeline_workflow_dispatched_on_another_branch_is_not_ours(flow):
    """Anyone who may dispatch can run the workflow file of their own branch, jobs named as the
    stages included and passing at once: the pipeline is the workflow on trigger.ref only."""
    elsewhere = workflow_run_payload("requested", run_id=RUN)
    elsewhere["workflow_run"]["head_branch"] = "look-alike"
    assert await flow.send("workflow_run", elsewhere, at=T(5)) == []
    flow.repo.runs[RUN] = elsewhere["workflow_run"]
    assert await flow.job("patch-apply", "completed", "success", at=T(10), started=T(8), completed=T(9)) == []
    _, run = await flow.state()
    assert run.run_id is None and run.status == "dispatched"


async def test_workflow_run_created_before_the_dispatch_is_not_ours(flow):
    old = workflow_run_payload("requested", run_id=RUN, created=NOW - timedelta(hours=1))
    assert await flow.send("workflow_run", old, at=T(5)) == []


async def test_completed_run_reads_its_job_list_for_missed_job_events(flow):
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    flow.repo.jobs[RUN] = [
        job_json("patch-apply", "completed", "success", run_id=RUN, started=T(8), completed=T(30)),
        job_json("kselftest-go (x86_64)", "completed", "success", run_id=RUN, job_id=2, started=T(31),
                 completed=T(100)),
        job_json("boot-to-initrd", "completed", "success", run_id=RUN, job_id=3, started=T(101),
                 completed=T(150)),
    ]
    actions = await flow.send("workflow_run", workflow_run_payload("completed", run_id=RUN, conclusion="success"),
                              at=T(151))
    assert pipeline_check(actions).conclusion == "success"


async def test_completed_run_without_a_stage_fails_that_stage(flow):
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    flow.repo.jobs[RUN] = [job_json("patch-apply", "completed", "success", run_id=RUN, started=T(8),
                                    completed=T(30))]
    actions = await flow.send("workflow_run", workflow_run_payload("completed", run_id=RUN, conclusion="failure"),
                              at=T(40))
    check = pipeline_check(actions)
    assert (check.conclusion, check.title) == ("failure", "kselftest-go failed")


async def test_sweep_times_out_a_stage_past_its_timeout(flow):
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    await flow.job("patch-apply", "in_progress", at=T(10), started=T(10))
    assert await handlers.sweep_timeouts(job_context(flow.db, flow.rules, flow.repo.reader(), T(99))) == []
    actions = await handlers.sweep_timeouts(job_context(flow.db, flow.rules, flow.repo.reader(), T(101)))
    await apply_records(flow.db, actions)
    check = pipeline_check(actions)
    assert (check.conclusion, check.title) == ("timed_out", "patch-apply timed out")
    assert f"| [patch-apply](https://github.com/{REPO}/actions/runs/{RUN}/job/1) | ⌛ timed out | 12:00:10 | 12:01:41 | 1m31s | 1m30s |" in check.summary
    _, run = await flow.state()
    assert [s.status for s in run.stages] == ["timed_out", "skipped", "skipped"]
    # The late completion changes nothing, and the next sweep has nothing to do.
    assert await flow.job("patch-apply", "completed", "success", at=T(120), started=T(10), completed=T(115)) == []
    assert await handlers.sweep_timeouts(job_context(flow.db, flow.rules, flow.repo.reader(), T(500))) == []


async def test_sweep_times_out_a_pipeline_that_never_started(flow):
    grace = 90 + 600
    assert await handlers.sweep_timeouts(job_context(flow.db, flow.rules, flow.repo.reader(), T(grace - 1))) == []
    actions = await handlers.sweep_timeouts(job_context(flow.db, flow.rules, flow.repo.reader(), T(grace + 1)))
    assert pipeline_check(actions).conclusion == "timed_out"


async def test_new_push_supersedes_the_running_pipeline(flow):
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    await flow.job("patch-apply", "in_progress", at=T(10), started=T(10))
    actions = await flow.send("pull_request", pr_payload("synchronize", head=HEAD2), at=T(20))
    old = [a for a in of(actions, "UpsertCheckRun") if a.head_sha == HEAD]
    assert [(a.name, a.conclusion, a.title) for a in old] == [
        ("patch-pipeline", "cancelled", f"Superseded by {HEAD2[:7]}")]
    new = [a.name for a in of(actions, "UpsertCheckRun") if a.head_sha == HEAD2]
    assert new == ["patch-signature", "patch-pipeline"]
    assert of(actions, "DispatchWorkflow")[0].inputs["head_sha"] == HEAD2
    row, run = await flow.state(HEAD)
    assert row["status"] == "superseded" and [s.status for s in run.stages] == ["cancelled", "skipped", "skipped"]
    # Late events of the old run change nothing; the new head starts from pending.
    assert await flow.job("patch-apply", "completed", "success", at=T(30), started=T(10), completed=T(29)) == []
    _, fresh = await flow.state(HEAD2)
    assert [s.status for s in fresh.stages] == ["pending"] * 3
    line = await status_line(flow.db, REPO, 7)  # the card follows the newest head
    assert "Dispatched, waiting for the workflow" in line and "Superseded" not in line


async def test_push_with_unsigned_patch_supersedes_without_dispatching(flow):
    del flow.repo.files[HEAD2][PATCH + ".sig"]
    actions = await flow.send("pull_request", pr_payload("synchronize", head=HEAD2), at=T(20))
    assert not of(actions, "DispatchWorkflow")
    assert [(a.name, a.head_sha, a.conclusion) for a in of(actions, "UpsertCheckRun")] == [
        ("patch-pipeline", HEAD, "cancelled"), ("patch-signature", HEAD2, "failure")]
    assert "not verified" in await status_line(flow.db, REPO, 7)


async def test_a_stale_live_write_does_not_reopen_a_superseded_run(flow):
    """A job event read the run before a push superseded it (different queues): its write loses."""
    from bot.features.patch_pipeline import store
    from bot.core import pipeline as P
    read, before = await flow.state(HEAD)
    await flow.send("pull_request", pr_payload("synchronize", head=HEAD2), at=T(20))
    stale = P.apply_job(before, P.specs_from_rules(flow.rules.section("pipeline")["stages"]),
                        job_name="patch-apply", status="in_progress", conclusion=None, started_at=T(10).timestamp(),
                        completed_at=None)
    with pytest.raises(store.StaleDecision):
        await store.save_run(flow.db, repo=REPO, number=7, run=store.run_to_args(stale), at=T(21).timestamp(),
                             revision=read["revision"])
    row, run = await flow.state(HEAD)
    assert row["status"] == "superseded" and [s.status for s in run.stages] == ["skipped"] * 3


async def test_too_many_patches_are_refused_not_half_checked(db, repo, rule_set, monkeypatch):
    from bot.features.patch_pipeline import verification
    monkeypatch.setattr("bot.features.patch_pipeline.head_verification.MAX_PATCHES", 0)
    flow = Flow(db, repo, rule_set)
    actions = await flow.send("pull_request", pr_payload("opened"))
    [check] = of(actions, "UpsertCheckRun")
    assert check.conclusion == "failure" and "split it" in check.summary
    assert not of(actions, "DispatchWorkflow")
    assert verification.MAX_PATCHES == 100


async def test_push_back_to_a_decided_head_supersedes_the_newer_run(flow):
    await flow.send("pull_request", pr_payload("synchronize", head=HEAD2), at=T(20))
    actions = await flow.send("pull_request", pr_payload("synchronize", head=HEAD), at=T(30))
    assert [(a.name, a.head_sha, a.conclusion) for a in of(actions, "UpsertCheckRun")] == [
        ("patch-pipeline", HEAD2, "cancelled")]
    assert not of(actions, "DispatchWorkflow")


async def test_a_running_pipeline_whose_head_no_longer_verifies_is_concluded(flow):
    """/verify-patch on the same head after the trust policy changed (the key was revoked):
    the head is refused, and its pipeline, running on patches no longer trusted, must not
    stay "in progress" for ever (a refused head is out of the timeout sweep's reach)."""
    from bot.features.base import Invocation
    from .conftest import comment_payload
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    await flow.job("patch-apply", "in_progress", at=T(10), started=T(10))
    flow.repo.pulls[7] = {"number": 7, "state": "open", "head": {"sha": HEAD}}
    revoked = rules(None)
    event, ctx = context("issue_comment", comment_payload(), db=flow.db, repo=flow.repo, rules=revoked, now=T(20))
    actions = await handlers.verify_command(Invocation("verify-patch", (), "/verify-patch"), event, ctx)
    await apply_records(flow.db, actions)
    assert not of(actions, "DispatchWorkflow")
    assert [(a.name, a.head_sha, a.status, a.conclusion) for a in of(actions, "UpsertCheckRun")] == [
        ("patch-signature", HEAD, "completed", "failure"), ("patch-pipeline", HEAD, "completed", "cancelled")]
    check = pipeline_check(actions)
    assert "no longer verify" in check.title
    assert [line.split(" | ")[1] for line in check.summary.splitlines() if line.startswith("| [patch-apply]")] == [
        "🚫 cancelled"]
    row, _ = await flow.state(HEAD)
    assert row["status"] == "rejected"
    assert "not verified" in await status_line(flow.db, REPO, 7)
    # the workflow's late reports change nothing any more
    assert await flow.job("patch-apply", "completed", "success", at=T(30), started=T(10), completed=T(29)) == []


# --- a run the bot ends is stopped on GitHub too ----------------------------------
# The stage timeouts are the pipeline's gates (project brief, chapter 4.4: patch-apply 90 s,
# kselftest 5 min, boot-to-initrd 3 min): a stage past its timeout is stopped, not only
# reported. Likewise a run superseded by a newer push, or whose patches no longer verify, no
# longer runs on patches nobody will look at (or trusts) with the workflow's secrets.

def cancels(actions):
    return [(a.repo, a.run_id) for a in of(actions, "CancelWorkflowRun")]


def after_its_save(actions):
    """The cancel comes after the decision's compare-and-set save: a decision that loses
    (StaleDecision) stops nothing."""
    kinds = [type(a).__name__ for a in actions]
    return kinds.index("CancelWorkflowRun") > kinds.index("Record")


async def test_a_stage_past_its_timeout_has_its_workflow_run_cancelled(flow):
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    await flow.job("patch-apply", "in_progress", at=T(10), started=T(10))
    assert await handlers.sweep_timeouts(job_context(flow.db, flow.rules, flow.repo.reader(), T(99))) == []
    actions = await handlers.sweep_timeouts(job_context(flow.db, flow.rules, flow.repo.reader(), T(101)))
    assert pipeline_check(actions).conclusion == "timed_out"
    assert cancels(actions) == [(REPO, RUN)] and after_its_save(actions)
    await apply_records(flow.db, actions)
    # The cancelled run's own reports then change nothing, and nothing is cancelled twice.
    # (Its end settles the cancel, which GitHub had only accepted.)
    assert [getattr(a, "op", a.kind) for a in await flow.send(
        "workflow_run", workflow_run_payload("completed", run_id=RUN, conclusion="cancelled"), at=T(110))] == ["run_ended"]
    assert await handlers.sweep_timeouts(job_context(flow.db, flow.rules, flow.repo.reader(), T(500))) == []


async def test_a_pipeline_that_never_reported_has_no_run_to_cancel(flow):
    actions = await handlers.sweep_timeouts(job_context(flow.db, flow.rules, flow.repo.reader(), T(90 + 601)))
    assert pipeline_check(actions).conclusion == "timed_out"
    assert cancels(actions) == []


async def test_a_superseded_run_is_cancelled_on_github(flow):
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    await flow.job("patch-apply", "in_progress", at=T(10), started=T(10))
    actions = await flow.send("pull_request", pr_payload("synchronize", head=HEAD2), at=T(20))
    assert cancels(actions) == [(REPO, RUN)] and after_its_save(actions)
    # The new head's pipeline is dispatched as before; a redelivery cancels nothing again.
    assert of(actions, "DispatchWorkflow")[0].inputs["head_sha"] == HEAD2
    assert cancels(await flow.send("pull_request", pr_payload("synchronize", head=HEAD2), at=T(21))) == []


async def test_a_run_whose_patches_no_longer_verify_is_cancelled_on_github(flow):
    from bot.features.base import Invocation
    from .conftest import comment_payload
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    flow.repo.pulls[7] = {"number": 7, "state": "open", "head": {"sha": HEAD}}
    event, ctx = context("issue_comment", comment_payload(), db=flow.db, repo=flow.repo, rules=rules(None),
                         now=T(20))
    actions = await handlers.verify_command(Invocation("verify-patch", (), "/verify-patch"), event, ctx)
    assert pipeline_check(actions).conclusion == "cancelled"
    assert cancels(actions) == [(REPO, RUN)] and after_its_save(actions)


async def test_a_stage_the_workflow_failed_itself_cancels_nothing(flow):
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    actions = await flow.job("patch-apply", "completed", "failure", at=T(40), started=T(8), completed=T(30))
    assert pipeline_check(actions).conclusion == "failure"
    assert cancels(actions) == []
