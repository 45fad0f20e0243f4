"""A cancel the bot owes is not lost. When the pipeline ends a run whose id is known (a stage
past its timeout, a newer push, patches no longer trusted), "cancel owed for run X" is written
with that end; the cancel is sent; only GitHub's answer that nothing runs any more (202, 409
already ended, 404 gone) settles it. A cancel lost to a server error (after the client's own
retries) is sent again by the delivery's retry, by the run's next workflow_run event and by the
timeout sweep; one still failing after three days is given up, and said so in the log.

Decided by the feature's handlers, performed by the real executor against a GitHub that answers
each cancel as told."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from bot.executor import Executor
from bot.features.base import Invocation
from bot.features.patch_pipeline import FEATURE, handlers
from bot.features.patch_pipeline.store import StaleDecision
from bot.github import PermanentGitHubError, TransientGitHubError
from bot.store import state

from .conftest import (HEAD, HEAD2, NOW, REPO, SignedFlow, comment_payload, context, job_context, job_payload,
                       of, pr_payload, rules, workflow_run_payload)

RUN = 5550301
T = lambda s: NOW + timedelta(seconds=s)  # noqa: E731
DAY = 86400.0
REFUSALS = {403: "Resource not accessible by integration", 404: "Not Found",
            409: "Cannot cancel a workflow run that is completed."}


class GitHub:
    """GitHub as the executor sees it: check runs and dispatches go through; each cancel is
    answered with the next status of ``answers`` (202 once they run out) and fails as the
    client fails then (a 5xx it gave up on is transient, a 4xx permanent)."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.cancels: list[tuple[int, int]] = []  # (run id, status answered)

    def sent(self) -> list[int]:
        return [status for _, status in self.cancels]

    async def getitem(self, url, url_vars=None, **kw):
        return {"workflow_runs": []}

    async def getiter(self, url, url_vars=None, **kw):
        return
        yield

    async def patch(self, url, url_vars=None, **kw):
        return {}

    async def post(self, url, url_vars=None, **kw):
        if not url.endswith("/cancel"):
            return {"id": 99}
        status = self.answers.pop(0) if self.answers else 202
        self.cancels.append((int(url_vars["run_id"]), status))
        if status >= 500:
            raise TransientGitHubError(f"gave up after 1 attempts: server error {status}", status=status)
        if status >= 400:
            raise PermanentGitHubError(REFUSALS[status], status=status)
        return {}


class Flow(SignedFlow):
    """PR 7's pipeline, dispatched and running on workflow run RUN; what is decided next is
    performed by the executor."""

    def __init__(self, db, key) -> None:
        super().__init__(db, key)
        self.github = GitHub()

        async def api_for(installation):
            return self.github

        self.executor = Executor(db, api_for=api_for, dry_run=False, features={"patch_pipeline": FEATURE},
                                 bot_login="contributor-flow[bot]")

    async def act(self, actions, *, delivery_id, retrying=False, batch="patch_pipeline.handler"):
        return await self.executor.run(delivery_id=delivery_id, installation_id=None, retrying=retrying,
                                       batches=[(batch, actions)])

    async def deliver(self, event, payload, at, *, delivery_id, retrying=False):
        """One attempt of a delivery: decided, then performed (raising what the executor raises)."""
        actions = await self.decide(event, payload, at, delivery_id=delivery_id)
        await self.act(actions, delivery_id=delivery_id, retrying=retrying)
        return actions

    async def verify(self, at, *, delivery_id, retrying=False):
        """/verify-patch after the key was taken out of the trust policy."""
        self.repo.pulls[7] = {"number": 7, "state": "open", "head": {"sha": HEAD}}
        event, ctx = context("issue_comment", comment_payload(), db=self.db, repo=self.repo, rules=rules(None),
                             now=at, delivery_id=delivery_id)
        actions = await handlers.verify_command(Invocation("verify-patch", (), "/verify-patch"), event, ctx)
        await self.act(actions, delivery_id=delivery_id, retrying=retrying)
        return actions

    async def sweep(self, at):
        """One run of the feature's periodic job, as the scheduler runs it (its own period)."""
        [job] = FEATURE.jobs
        actions = await job.run(job_context(self.db, self.rules, self.repo.reader(), at))
        await self.act(actions, delivery_id=f"job:{job.name}:{at.timestamp() // 30:.0f}", batch=job.name)
        return actions

    async def owed(self):
        rows = await self.db.fetchall("SELECT run_id, attempts FROM patch_pipeline_cancels ORDER BY run_id")
        return [(int(r["run_id"]), int(r["attempts"])) for r in rows]


@pytest.fixture
async def flow(db, key):
    f = Flow(db, key)
    await state.remember_installation(db, REPO, 1)
    assert of(await f.send("pull_request", pr_payload("opened")), "DispatchWorkflow")
    await f.send("workflow_run", workflow_run_payload("requested", run_id=RUN, status="in_progress"), at=T(5))
    await f.send("workflow_job", job_payload("patch-apply", "in_progress", run_id=RUN, started=T(10)), at=T(10))
    return f


def cancels(actions):
    return [a.run_id for a in of(actions, "CancelWorkflowRun")]


async def timed_out_with_its_cancel_lost(flow, status=502):
    """patch-apply runs past its 90 s: the sweep ends the pipeline, and its cancel fails."""
    flow.github.answers = [status]
    with pytest.raises(TransientGitHubError):
        await flow.sweep(T(101))
    row, _ = await flow.state()
    assert row["conclusion"] == "timed_out"
    assert flow.github.cancels == [(RUN, status)]


async def test_a_timeout_cancel_lost_to_a_server_error_is_sent_again_by_the_sweep(flow):
    await timed_out_with_its_cancel_lost(flow)
    assert await flow.sweep(T(131)) == []  # a minute between attempts
    await flow.sweep(T(162))
    assert flow.github.cancels == [(RUN, 502), (RUN, 202)]
    assert await flow.owed() == []
    assert await flow.sweep(T(400)) == []


async def test_a_superseded_runs_cancel_lost_to_a_server_error_is_sent_again_by_the_retry(flow):
    push = pr_payload("synchronize", head=HEAD2)
    flow.github.answers = [502]
    with pytest.raises(TransientGitHubError):
        await flow.deliver("pull_request", push, T(20), delivery_id="push")
    row, _ = await flow.state(HEAD)
    assert row["status"] == "superseded"
    # The retry decides again on a pipeline that has ended already: its cancel goes all the same,
    # after what the first attempt did not get to (the new head's dispatch).
    actions = await flow.deliver("pull_request", push, T(25), delivery_id="push", retrying=True)
    assert cancels(actions) == [RUN] and of(actions, "DispatchWorkflow")
    assert flow.github.cancels == [(RUN, 502), (RUN, 202)]
    assert await flow.owed() == []
    assert cancels(await flow.decide("pull_request", push, T(30), delivery_id="push")) == []


async def test_a_withdrawn_runs_cancel_lost_to_a_server_error_is_sent_again_by_the_retry(flow):
    flow.github.answers = [503]
    with pytest.raises(TransientGitHubError):
        await flow.verify(T(20), delivery_id="verify")
    actions = await flow.verify(T(22), delivery_id="verify", retrying=True)
    assert cancels(actions) == [RUN]
    assert flow.github.cancels == [(RUN, 503), (RUN, 202)]
    row, _ = await flow.state(HEAD)
    assert row["status"] == "rejected" and await flow.owed() == []


async def test_the_runs_next_workflow_run_event_sends_it_again(flow):
    await timed_out_with_its_cancel_lost(flow)
    news = workflow_run_payload("in_progress", run_id=RUN, status="in_progress")
    actions = await flow.deliver("workflow_run", news, T(110), delivery_id="run-news")
    assert cancels(actions) == [RUN]
    assert flow.github.cancels == [(RUN, 502), (RUN, 202)]
    assert await flow.owed() == []
    assert await flow.decide("workflow_run", news, T(111), delivery_id="run-news-again") == []
    assert await flow.sweep(T(400)) == []


@pytest.mark.parametrize("answer", [409, 404], ids=["already-ended", "gone"])
async def test_a_run_that_has_ended_or_is_gone_settles_its_cancel(flow, answer):
    await timed_out_with_its_cancel_lost(flow)
    flow.github.answers = [answer]
    await flow.sweep(T(162))
    assert flow.github.sent() == [502, answer]
    assert await flow.owed() == []
    assert await flow.sweep(T(400)) == []


async def test_a_cancel_refused_for_good_stays_owed(flow):
    """A 403 (the App lost its actions permission) fails the action for good and the executor
    goes on with the list: the settle that follows finds no answer, so the cancel stays owed
    and is sent again (the permission may be given back)."""
    flow.github.answers = [403]
    await flow.sweep(T(101))
    assert flow.github.sent() == [403]
    assert await flow.owed() == [(RUN, 1)]
    await flow.sweep(T(162))
    assert flow.github.sent() == [403, 202]
    assert await flow.owed() == []


async def test_sent_twice_at_once_either_answer_settles_it(flow):
    """Two replicas send it at once (an event of the run, the sweep): GitHub answers the second
    with a 409, which settles it as well."""
    await timed_out_with_its_cancel_lost(flow)
    news = workflow_run_payload("in_progress", run_id=RUN, status="in_progress")
    by_event = await flow.decide("workflow_run", news, T(170), delivery_id="run-news")
    [job] = FEATURE.jobs
    by_sweep = await job.run(job_context(flow.db, flow.rules, flow.repo.reader(), T(170)))
    assert cancels(by_event) == cancels(by_sweep) == [RUN]
    flow.github.answers = [202, 409]
    await flow.act(by_event, delivery_id="run-news")
    await flow.act(by_sweep, delivery_id="job:patch-pipeline-timeouts:1", batch=job.name)
    assert flow.github.sent() == [502, 202, 409]
    assert await flow.owed() == []


async def test_the_end_and_the_cancel_it_owes_are_written_together(flow):
    """A decision that loses its compare-and-set (the run changed after it was read) writes
    neither and sends nothing: it is decided again on what is there now."""
    stale = await flow.decide("pull_request", pr_payload("synchronize", head=HEAD2), T(20), delivery_id="push")
    await flow.send("workflow_job", job_payload("patch-apply", "completed", "success", run_id=RUN, started=T(10),
                                                completed=T(19)), at=T(19))
    with pytest.raises(StaleDecision):
        await flow.act(stale, delivery_id="push")
    assert flow.github.cancels == [] and await flow.owed() == []
    row, _ = await flow.state(HEAD)
    assert row["status"] == "running"


async def test_a_cancel_failing_for_three_days_is_given_up_and_logged(flow, caplog):
    await timed_out_with_its_cancel_lost(flow)
    owed_at = T(101).timestamp()
    flow.github.answers = [502] * 1000
    tries = [owed_at]
    while True:
        next_at = await flow.db.fetchval("SELECT next_at FROM patch_pipeline_cancels")
        if next_at is None:
            break
        at = datetime.fromtimestamp(float(next_at) + 1, timezone.utc)
        with caplog.at_level(logging.WARNING, logger="bot.patch_pipeline"):
            try:
                actions = await flow.sweep(at)
            except TransientGitHubError:
                tries.append(at.timestamp())
                continue
        assert cancels(actions) == []  # given up, not sent
    waits = [round(b - a) for a, b in zip(tries, tries[1:])]
    assert waits[:7] == [61, 121, 241, 481, 961, 1801, 1801]  # doubling from a minute, at most 30
    assert 3 * DAY - 1801 < tries[-1] - owed_at <= 3 * DAY
    assert len(flow.github.cancels) == len(tries)
    assert [r.getMessage() for r in caplog.records if str(RUN) in r.getMessage()], caplog.text
    notes = [d["summary"] for d in await state.decisions_for(flow.db, REPO, 7)]
    assert any(f"workflow run {RUN}" in n and "gave up" in n for n in notes), notes
    assert await flow.sweep(at + timedelta(days=1)) == []


async def test_a_cancel_owed_on_a_repository_the_app_left_is_given_up_without_stopping_the_others(flow, caplog):
    """Uninstalled, a repository's runs can no longer be cancelled, and the executor refuses
    any action there: sent, its cancel would cut the job's batch short for every other one."""
    await timed_out_with_its_cancel_lost(flow)
    other = "octo/other"
    await state.remember_installation(flow.db, other, 2)
    await flow.db.execute("INSERT INTO patch_pipeline_cancels (repo, run_id, number, head_sha, delivery_id, owed_at,"
                          " attempts, next_at) VALUES (?, ?, 3, ?, NULL, ?, 1, ?)",
                          (other, 777, HEAD2, T(100).timestamp(), T(100).timestamp()))
    await state.forget_installation(flow.db, 1)  # the App is uninstalled from REPO
    with caplog.at_level(logging.WARNING, logger="bot.patch_pipeline"):
        actions = await flow.sweep(T(200))
    assert cancels(actions) == [777]  # the other repository's cancel goes; REPO's is given up
    assert await flow.owed() == []
    assert [status for run, status in flow.github.cancels if run == 777] == [202]
    assert any(str(RUN) in r.getMessage() and "no longer installed" in r.getMessage() for r in caplog.records)
    notes = [d["summary"] for d in await state.decisions_for(flow.db, REPO, 7)]
    assert any(f"workflow run {RUN}" in n and "no longer installed" in n for n in notes), notes
