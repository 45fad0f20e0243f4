"""A workflow run whose pipeline the bot ended before GitHub reported it (a push seconds after
the dispatch, a run that never reported before the queue-grace timeout, patches no longer
trusted): when its events come, the run is cancelled once, and the ended pipeline's verdict
and check are left as they are. A run the live pipeline of its head could have started is
never cancelled."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.executor import Executor
from bot.features.base import Invocation
from bot.features.patch_pipeline import FEATURE, handlers, lookups
from bot.features.patch_pipeline.store import unmatched_strays
from bot.github import TransientGitHubError
from bot.store.migrate import discover, split_statements

from .conftest import (HEAD, HEAD2, NOW, REPO, RUN_URL, SignedFlow, apply_records, comment_payload, context,
                       job_context, job_payload, of, pr_payload, rules, running_run, workflow_run_payload)

OLD_RUN, NEW_RUN = 5550101, 5550102
T = lambda s: NOW + timedelta(seconds=s)  # noqa: E731


class Flow(SignedFlow):
    async def run_event(self, action, *, run_id=OLD_RUN, head=HEAD, created, at, status=None, conclusion=None):
        return await self.send("workflow_run", workflow_run_payload(action, run_id=run_id, head=head,
                                                                    created=created, status=status,
                                                                    conclusion=conclusion), at=at)

    async def sweep(self, at):
        actions = await handlers.sweep_timeouts(job_context(self.db, self.rules, self.repo.reader(), at))
        await apply_records(self.db, actions)
        return actions

    async def verify(self, at, *, trusted=True):
        self.repo.pulls[7] = {"number": 7, "state": "open", "head": {"sha": HEAD}}
        event, ctx = context("issue_comment", comment_payload(), db=self.db, repo=self.repo,
                             rules=self.rules if trusted else rules(None), now=at)
        actions = await handlers.verify_command(Invocation("verify-patch", (), "/verify-patch"), event, ctx)
        await apply_records(self.db, actions)
        return actions


@pytest.fixture
async def flow(db, key):
    f = Flow(db, key)
    assert of(await f.send("pull_request", pr_payload("opened")), "DispatchWorkflow")
    return f


def ops(actions):
    return [getattr(a, "op", a.kind) for a in actions]


def cancels(actions):
    return [a.run_id for a in of(actions, "CancelWorkflowRun")]


def checks(actions):
    return [(a.name, a.head_sha) for a in of(actions, "UpsertCheckRun")]


async def superseded_before_reported(flow):
    """A push three seconds after the dispatch, before GitHub said anything about the run."""
    actions = await flow.send("pull_request", pr_payload("synchronize", head=HEAD2), at=T(3))
    assert cancels(actions) == []  # no run id to name yet
    # The save that ends the pipeline remembers its dispatch (one write: see store.save_run).
    ending = of(actions, "Record")[0]
    assert (ending.op, ending.args["run"]["head_sha"], ending.args["stops"]) == ("save_run", HEAD, True)
    assert [r["head_sha"] for r in await unmatched_strays(flow.db, REPO, since=0)] == [HEAD]
    row, run = await flow.state(HEAD)
    assert (row["status"], run.run_id) == ("superseded", None)


async def test_a_run_reported_after_a_push_superseded_it_is_cancelled_once(flow):
    await superseded_before_reported(flow)
    ended, live = await flow.state(HEAD), await flow.state(HEAD2)

    actions = await flow.run_event("requested", created=T(2), at=T(8))
    assert cancels(actions) == [OLD_RUN]
    assert checks(actions) == []  # the superseded check stays as it is
    # The cancel is owed first (with the run's id on the stray), then sent: see the retry test.
    assert [getattr(a, "op", a.kind) for a in actions] == [
        "stray_stopped", "cancel_attempted", "CancelWorkflowRun", "cancel_settled", "Note"]
    assert await flow.state(HEAD) == ended and await flow.state(HEAD2) == live

    # Once: a redelivery, the run's other events and its jobs cancel nothing more (the jobs
    # are known by the run's id, without asking GitHub which run it is).
    assert await flow.run_event("requested", created=T(2), at=T(9)) == []
    assert await flow.run_event("in_progress", created=T(2), at=T(10), status="in_progress") == []
    assert await flow.send("workflow_job", job_payload("patch-apply", "in_progress", run_id=OLD_RUN,
                                                       started=T(10)), at=T(11)) == []
    assert flow.reader.calls == []
    # Its end settles the cancel it was owed (GitHub had only accepted it), and cancels nothing.
    assert ops(await flow.run_event("completed", created=T(2), at=T(12), conclusion="cancelled")) == ["run_ended"]
    assert await flow.state(HEAD) == ended

    # The new head's run is followed as ever, not cancelled.
    actions = await flow.run_event("requested", run_id=NEW_RUN, head=HEAD2, created=T(4), at=T(13),
                                   status="in_progress")
    assert cancels(actions) == [] and checks(actions) == [("patch-pipeline", HEAD2)]
    row, run = await flow.state(HEAD2)
    assert (row["status"], run.run_id) == ("running", NEW_RUN)


class FlakyApi:
    """GitHub as the executor sees it: the first cancel fails as a 502 would."""

    def __init__(self) -> None:
        self.cancels: list[int] = []
        self.failures = 1

    async def getitem(self, url, url_vars=None, **kw):
        assert url == RUN_URL, url
        return running_run(url_vars)

    async def post(self, url, url_vars=None, **kw):
        assert url.endswith("/cancel")
        if self.failures:
            self.failures -= 1
            raise TransientGitHubError("502 Bad Gateway", status=502)
        self.cancels.append(int(url_vars["run_id"]))
        return {}


async def decided_twice_cancel_failing_first(flow, event: str, payload, ats, *, delivery_id: str,
                                              handler: str, check=lambda actions: None) -> FlakyApi:
    """``event`` decided at each of ``ats`` as one delivery and its retry, run by the executor
    against GitHub whose first cancel fails with a 502 (the first run raises, the retry goes
    through); ``check`` looks at each decision's actions. Returns that GitHub."""
    api = FlakyApi()

    async def api_for(installation):
        return api

    executor = Executor(flow.db, api_for=api_for, dry_run=False, features={"patch_pipeline": FEATURE},
                        bot_login="contributor-flow[bot]")
    for attempt, at in enumerate(ats):
        actions = await flow.decide(event, payload, at, delivery_id=delivery_id)
        check(actions)
        run = executor.run(delivery_id=delivery_id, installation_id=1, retrying=attempt > 0,
                           batches=[(handler, actions)])
        if attempt == 0:
            with pytest.raises(TransientGitHubError):
                await run
        else:
            await run
    return api


async def test_a_cancel_that_failed_is_sent_again_by_the_retry(flow):
    """The stray is recorded as stopped with its cancel owed: the delivery's retry, which no
    longer decides to stop it, sends the cancel owed again, and GitHub's answer settles it.
    (A cancel sent twice is harmless; one recorded but never sent would leave the run going.)"""
    await superseded_before_reported(flow)
    payload = workflow_run_payload("requested", run_id=OLD_RUN, created=T(2))

    def owes_the_cancel(actions):
        assert cancels(actions) == [OLD_RUN]

    api = await decided_twice_cancel_failing_first(flow, "workflow_run", payload, (T(8), T(14)),
                                                   delivery_id="late-run", handler="patch_pipeline.on_workflow_run",
                                                   check=owes_the_cancel)
    assert api.cancels == [OLD_RUN]
    assert await flow.decide("workflow_run", payload, T(20), delivery_id="late-run") == []


async def test_a_cancel_decided_on_a_job_event_that_failed_is_sent_again_by_the_retry(flow):
    """The same when a job event is the first news of the run: its retry finds the run known
    as stopped (so decides nothing) and sends the cancel its first attempt owes."""
    await superseded_before_reported(flow)
    flow.repo.runs[OLD_RUN] = workflow_run_payload("in_progress", run_id=OLD_RUN, created=T(2),
                                                   status="in_progress")["workflow_run"]
    payload = job_payload("patch-apply", "in_progress", run_id=OLD_RUN, started=T(6))

    def owes_the_cancel_only(actions):
        assert cancels(actions) == [OLD_RUN] and checks(actions) == []

    api = await decided_twice_cancel_failing_first(flow, "workflow_job", payload, (T(7), T(13)),
                                                   delivery_id="job-news", handler="patch_pipeline.on_workflow_job",
                                                   check=owes_the_cancel_only)
    assert api.cancels == [OLD_RUN]
    assert await flow.decide("workflow_job", payload, T(20), delivery_id="job-news") == []


async def test_a_stray_run_first_heard_of_by_a_job_is_cancelled(flow):
    await superseded_before_reported(flow)
    flow.repo.runs[OLD_RUN] = workflow_run_payload("in_progress", run_id=OLD_RUN, created=T(2),
                                                   status="in_progress")["workflow_run"]
    actions = await flow.send("workflow_job", job_payload("patch-apply", "in_progress", run_id=OLD_RUN,
                                                          started=T(6)), at=T(7))
    assert cancels(actions) == [OLD_RUN] and checks(actions) == []
    asked = {"owner": "Codertocat", "repo": "Hello-World", "run_id": OLD_RUN}
    assert (lookups.WORKFLOW_RUN, asked) in flow.reader.calls
    assert await flow.run_event("requested", created=T(2), at=T(8)) == []


async def test_a_run_that_ended_already_is_not_cancelled(flow):
    await superseded_before_reported(flow)
    ended = await flow.state(HEAD)
    assert await flow.run_event("completed", created=T(2), at=T(60), conclusion="success") == []
    flow.repo.runs[OLD_RUN] = workflow_run_payload("completed", run_id=OLD_RUN, created=T(2),
                                                   conclusion="success")["workflow_run"]
    assert await flow.send("workflow_job", job_payload("patch-apply", "completed", "success", run_id=OLD_RUN,
                                                       started=T(6), completed=T(30)), at=T(61)) == []
    assert await flow.state(HEAD) == ended


async def test_a_pipeline_timed_out_before_its_run_was_reported(flow):
    """Never reported within timeout + queue_grace: timed out, and its run, when GitHub does
    report it, is cancelled; the verdict stays "timed out"."""
    actions = await flow.sweep(T(90 + 601))
    assert cancels(actions) == [] and [a.args.get("stops") for a in of(actions, "Record")] == [True]
    assert [r["head_sha"] for r in await unmatched_strays(flow.db, REPO, since=0)] == [HEAD]
    ended = await flow.state(HEAD)
    assert ended[0]["conclusion"] == "timed_out"
    actions = await flow.run_event("requested", created=T(1), at=T(700))
    assert cancels(actions) == [OLD_RUN] and checks(actions) == []
    assert await flow.state(HEAD) == ended
    assert ops(await flow.run_event("completed", created=T(1), at=T(710), conclusion="cancelled")) == ["run_ended"]
    assert await flow.state(HEAD) == ended


async def test_a_pipeline_no_longer_trusted_before_its_run_was_reported(flow):
    actions = await flow.verify(T(20), trusted=False)
    assert not of(actions, "DispatchWorkflow") and cancels(actions) == []
    ended = await flow.state(HEAD)
    assert ended[0]["status"] == "rejected"
    actions = await flow.run_event("requested", created=T(2), at=T(30))
    assert cancels(actions) == [OLD_RUN] and checks(actions) == []
    assert await flow.state(HEAD) == ended
    assert await flow.run_event("in_progress", created=T(2), at=T(31), status="in_progress") == []


async def test_a_head_dispatched_again_keeps_its_live_run_and_loses_its_stray(flow):
    """Timed out unreported, then /verify-patch dispatches the same head again: the new
    dispatch's run is followed; a second run naming that head after the new dispatch may be
    the live pipeline's too and is left alone; the run of the ended dispatch is cancelled."""
    await flow.sweep(T(90 + 601))
    assert of(await flow.verify(T(900)), "DispatchWorkflow")
    row, _ = await flow.state(HEAD)
    assert row["status"] == "dispatched"
    actions = await flow.run_event("requested", run_id=NEW_RUN, created=T(902), at=T(905))
    assert cancels(actions) == [] and checks(actions) == [("patch-pipeline", HEAD)]
    assert (await flow.state(HEAD))[1].run_id == NEW_RUN
    assert await flow.run_event("requested", run_id=NEW_RUN + 1, created=T(903), at=T(906)) == []
    live = await flow.state(HEAD)
    actions = await flow.run_event("requested", created=T(1), at=T(907))
    assert cancels(actions) == [OLD_RUN] and checks(actions) == []
    assert await flow.state(HEAD) == live


@pytest.mark.parametrize("created", [T(-121), T(3601)], ids=["before-the-dispatch", "an-hour-after"])
async def test_a_run_created_outside_the_dispatch_window_is_not_ours(flow, created):
    await superseded_before_reported(flow)
    assert await flow.run_event("requested", created=created, at=T(3700)) == []
    # ...whereas the one created just after the dispatch is.
    assert cancels(await flow.run_event("requested", run_id=NEW_RUN, created=T(3600), at=T(3700))) == [NEW_RUN]


async def test_a_run_of_another_workflow_or_head_is_not_cancelled(flow):
    await superseded_before_reported(flow)
    other = workflow_run_payload("requested", run_id=OLD_RUN, created=T(2), path=".github/workflows/ci.yml")
    assert await flow.send("workflow_run", other, at=T(8)) == []
    unknown = workflow_run_payload("requested", run_id=OLD_RUN, head="c" * 40, created=T(2))
    assert await flow.send("workflow_run", unknown, at=T(8)) == []
    assert cancels(await flow.run_event("requested", created=T(2), at=T(9))) == [OLD_RUN]


async def test_pipelines_ended_unreported_before_the_upgrade_are_remembered(db):
    """Migration 0003 remembers the superseded and timed-out pipelines that never had a run
    id, and nothing else."""
    rows = [("a" * 40, "superseded", None), ("b" * 40, "completed", None), ("c" * 40, "completed", 77),
            ("d" * 40, "running", None), ("e" * 40, "rejected", None)]
    await db.execute("DROP TABLE patch_pipeline_strays")
    for i, (head, status, run_id) in enumerate(rows):
        await db.execute("INSERT INTO patch_pipeline_runs (repo, head_sha, number, status, run_id, dispatched_at,"
                         " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (REPO, head, 7, status, run_id, 100.0 + i, 200.0))
    [migration] = [m for m in discover("patch_pipeline", "bot.features.patch_pipeline.migrations", db.dialect)
                   if m.version == 3]
    for statement in split_statements(migration.sql):
        await db.execute(statement)
    remembered = await db.fetchall("SELECT head_sha, dispatched_at, number, run_id FROM patch_pipeline_strays"
                                   " ORDER BY head_sha")
    assert [(r["head_sha"], r["dispatched_at"], r["number"], r["run_id"]) for r in remembered] == [
        ("a" * 40, 100.0, 7, None), ("b" * 40, 101.0, 7, None)]
