"""A cancel the bot owes is not lost. When the pipeline ends a run whose id is known (a stage
past its timeout, a newer push, patches no longer trusted), "cancel owed for run X" is written
with that end; the cancel is sent; only the news that nothing runs any more settles it: GitHub
answering a cancel 409 (already ended) or 404 (gone), or reporting the run completed. A 202 only
says GitHub accepted the cancel: the cancel stays owed, as requested, and a run not reported
ended six minutes later is force-cancelled by the sweep. A cancel lost to a server error (after
the client's own retries) is sent again by the delivery's retry, by the run's next workflow_run
event and by the timeout sweep; one still failing after three days is given up, and said so in
the log. In dry-run nothing is sent, and nothing is owed.

Decided by the feature's handlers, performed by the real executor against a GitHub that answers
each cancel as told."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from bot.executor import Executor
from bot.features.base import Invocation
from bot.features.patch_pipeline import FEATURE, handlers, store
from bot.features.patch_pipeline.store import StaleDecision
from bot.github import PermanentGitHubError, TransientGitHubError
from bot.store import state
from bot.store.migrate import discover, split_statements

from .conftest import (HEAD, HEAD2, NOW, REPO, RUN_URL, SignedFlow, comment_payload, context, job_context,
                       job_payload, of, pr_payload, rules, running_run, workflow_run_payload)

RUN = 5550301
T = lambda s: NOW + timedelta(seconds=s)  # noqa: E731
DAY = 86400.0
REFUSALS = {403: "Resource not accessible by integration", 404: "Not Found",
            409: "Cannot cancel a workflow run that is completed."}


class GitHub:
    """GitHub as the executor sees it: check runs and dispatches go through; each cancel (or
    force-cancel) is answered with the next status of ``answers`` (202 once they run out) and
    fails as the client fails then (a 5xx it gave up on is transient, a 4xx permanent). The run,
    read before a cancel, is at ``run_attempt`` and ``run_status``, unless the read is answered
    with the next status of ``read_answers`` (an error; 200 once they run out)."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.cancels: list[tuple[int, int]] = []  # (run id, status answered)
        self.verbs: list[str] = []  # "cancel" or "force-cancel", for each of them
        self.run_attempt, self.run_status = 1, "in_progress"
        self.read_answers: list[int] = []
        self.reads: list[int] = []  # status answered to each read of the run

    def sent(self) -> list[int]:
        return [status for _, status in self.cancels]

    async def getitem(self, url, url_vars=None, **kw):
        if url != RUN_URL:
            return {"workflow_runs": []}
        status = self.read_answers.pop(0) if self.read_answers else 200
        self.reads.append(status)
        _fail_as_the_client_does(status)
        return running_run(url_vars, attempt=self.run_attempt, status=self.run_status)

    async def getiter(self, url, url_vars=None, **kw):
        return
        yield

    async def patch(self, url, url_vars=None, **kw):
        return {}

    async def post(self, url, url_vars=None, **kw):
        verb = url.rsplit("/", 1)[-1]
        if verb not in ("cancel", "force-cancel"):
            return {"id": 99}
        status = self.answers.pop(0) if self.answers else 202
        self.cancels.append((int(url_vars["run_id"]), status))
        self.verbs.append(verb)
        _fail_as_the_client_does(status)
        return {}


def _fail_as_the_client_does(status: int) -> None:
    if status >= 500:
        raise TransientGitHubError(f"gave up after 1 attempts: server error {status}", status=status)
    if status >= 400:
        raise PermanentGitHubError(REFUSALS[status], status=status)


class Flow(SignedFlow):
    """PR 7's pipeline, dispatched and running on workflow run RUN; what is decided next is
    performed by the executor."""

    def __init__(self, db, key, *, dry_run: bool = False, repo_dry_run: bool = False,
                 credentials: bool = True) -> None:
        super().__init__(db, key)
        self.github = GitHub()

        async def api_for(installation):
            return self.github

        self.executor = Executor(db, api_for=api_for if credentials else None, dry_run=dry_run,
                                 features={"patch_pipeline": FEATURE}, bot_login="contributor-flow[bot]",
                                 repo_dry_run=lambda repo: repo_dry_run)

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
        actions = await self.sweep_decides(at)
        await self.act_as_sweep(actions, at)
        return actions

    async def sweep_decides(self, at):
        [job] = FEATURE.jobs
        return await job.run(job_context(self.db, self.rules, self.repo.reader(), at))

    async def act_as_sweep(self, actions, at):
        [job] = FEATURE.jobs
        return await self.act(actions, delivery_id=f"job:{job.name}:{at.timestamp() // 30:.0f}", batch=job.name)

    async def owed(self):
        rows = await self.db.fetchall("SELECT run_id, attempts FROM patch_pipeline_cancels ORDER BY run_id")
        return [(int(r["run_id"]), int(r["attempts"])) for r in rows]

    async def requested(self):
        """The owed cancels GitHub has accepted (202), waiting for their run's end."""
        rows = await self.db.fetchall("SELECT run_id FROM patch_pipeline_cancels WHERE requested_at IS NOT NULL"
                                      " ORDER BY run_id")
        return [int(r["run_id"]) for r in rows]

    async def owing(self):
        return await self.db.fetchone("SELECT * FROM patch_pipeline_cancels WHERE run_id = ?", (RUN,))

    async def run_completed(self, at, *, delivery_id="run-completed", attempt=1):
        """GitHub reports the run completed (cancelled)."""
        return await self.deliver("workflow_run", workflow_run_payload(
            "completed", run_id=RUN, conclusion="cancelled", attempt=attempt), at, delivery_id=delivery_id)


async def _running(f):
    await state.remember_installation(f.db, REPO, 1)
    assert of(await f.send("pull_request", pr_payload("opened")), "DispatchWorkflow")
    await f.send("workflow_run", workflow_run_payload("requested", run_id=RUN, status="in_progress"), at=T(5))
    await f.send("workflow_job", job_payload("patch-apply", "in_progress", run_id=RUN, started=T(10)), at=T(10))
    return f


@pytest.fixture
async def flow(db, key):
    return await _running(Flow(db, key))


def cancels(actions):
    return [a.run_id for a in of(actions, "CancelWorkflowRun")]


def ops(actions):
    return [a.op for a in of(actions, "Record")]


def split_at(actions, op):
    """The actions before the first Record ``op``, and the rest."""
    i = next(i for i, a in enumerate(actions) if getattr(a, "op", None) == op)
    return actions[:i], actions[i:]


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
    assert await flow.requested() == [RUN]  # accepted: owed until the run is reported ended
    assert of(await flow.run_completed(T(170)), "Record")
    assert await flow.owed() == []
    assert await flow.sweep(T(900)) == []


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
    assert await flow.requested() == [RUN]
    assert cancels(await flow.decide("pull_request", push, T(30), delivery_id="push")) == []
    await flow.run_completed(T(40))
    assert await flow.owed() == []


async def test_a_withdrawn_runs_cancel_lost_to_a_server_error_is_sent_again_by_the_retry(flow):
    flow.github.answers = [503]
    with pytest.raises(TransientGitHubError):
        await flow.verify(T(20), delivery_id="verify")
    actions = await flow.verify(T(22), delivery_id="verify", retrying=True)
    assert cancels(actions) == [RUN]
    assert flow.github.cancels == [(RUN, 503), (RUN, 202)]
    row, _ = await flow.state(HEAD)
    assert row["status"] == "rejected" and await flow.requested() == [RUN]
    await flow.run_completed(T(30))
    assert await flow.owed() == []


async def test_the_runs_next_workflow_run_event_sends_it_again(flow):
    await timed_out_with_its_cancel_lost(flow)
    news = workflow_run_payload("in_progress", run_id=RUN, status="in_progress")
    actions = await flow.deliver("workflow_run", news, T(110), delivery_id="run-news")
    assert cancels(actions) == [RUN]
    assert flow.github.cancels == [(RUN, 502), (RUN, 202)]
    assert await flow.requested() == [RUN]
    # Accepted: the run's news (still cancelling) sends nothing more, nor does the sweep yet.
    assert await flow.decide("workflow_run", news, T(111), delivery_id="run-news-again") == []
    assert await flow.sweep(T(400)) == []
    await flow.run_completed(T(420))
    assert await flow.owed() == [] and await flow.sweep(T(2000)) == []


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
    assert await flow.requested() == [RUN]


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
    assert await flow.owed() == [(777, 2)]  # accepted, and owed until the run is reported ended
    assert [status for run, status in flow.github.cancels if run == 777] == [202]
    assert any(str(RUN) in r.getMessage() and "no longer installed" in r.getMessage() for r in caplog.records)
    notes = [d["summary"] for d in await state.decisions_for(flow.db, REPO, 7)]
    assert any(f"workflow run {RUN}" in n and "no longer installed" in n for n in notes), notes


# --- in dry-run, nothing is sent and nothing is owed ------------------------------------------------

@pytest.mark.parametrize("where", ["executor", "repository"])
async def test_a_cancel_in_dry_run_is_owed_no_more(db, key, caplog, where):
    """In dry-run (the executor's, or the repository's ``core.dry_run``) the cancel is only
    logged, and nothing will ever answer it: it is settled at once, rather than sent again for
    three days (taking the sweep's batch from real ones) and then given up with a note. The
    dispatch was only logged too: nothing the bot started runs."""
    flow = await _running(Flow(db, key, dry_run=where == "executor", repo_dry_run=where == "repository"))
    actions = await flow.sweep(T(101))
    assert cancels(actions) == [RUN]
    assert flow.github.cancels == [] and await flow.owed() == []
    with caplog.at_level(logging.WARNING, logger="bot.patch_pipeline"):
        assert cancels(await flow.sweep(T(162))) == []
        assert await flow.sweep(T(101) + timedelta(days=3, minutes=1)) == []
    assert not [r for r in caplog.records if "gave up" in r.getMessage()]
    notes = [d["summary"] for d in await state.decisions_for(flow.db, REPO, 7)]
    assert not [n for n in notes if "gave up" in n], notes


async def test_without_credentials_a_cancel_is_not_sent_and_stays_owed(db, key):
    """No App credentials (``replay --execute`` without a key, against the live bot's database):
    nothing can be sent, and that is not a dry run, which settles the cancel as never to be
    answered. The cancel stays owed, for a bot that can send it."""
    flow = await _running(Flow(db, key, credentials=False))
    actions = await flow.sweep(T(101))
    assert cancels(actions) == [RUN] and flow.github.cancels == []
    assert await flow.owed() == [(RUN, 1)] and await flow.requested() == []
    assert await state.cancel_answer(db, REPO, RUN, store.owing(T(101).timestamp())) is None


# --- a run owed again is owed from its new end --------------------------------------------------------

async def rerun_reopens(flow, at):
    """"Re-run failed jobs": the run keeps its id, its attempt 2 re-opens the pipeline (known here
    by a job's event: its workflow_run events are still on their way)."""
    flow.github.run_attempt = 2
    await flow.send("workflow_job", job_payload("patch-apply", "in_progress", run_id=RUN, started=at, attempt=2),
                    at=at)
    row, run = await flow.state()
    assert (row["status"], run.attempt) == ("running", 2)


async def test_a_run_ended_again_after_a_rerun_is_owed_from_its_new_end(flow, caplog):
    """The cancel owed for the run's first end is still unconfirmed, nearly three days on, when
    the run is re-run and ended again. The cancel is owed anew, as for a new end: neither given
    up at once for the age of the one before nor waiting out its attempts' back-off."""
    await timed_out_with_its_cancel_lost(flow)  # owed at T(101), one attempt
    rerun = 3 * DAY  # ended again 10 s before the first owing turns three days old
    await rerun_reopens(flow, T(rerun))
    flow.github.answers = [502]
    with pytest.raises(TransientGitHubError):
        await flow.sweep(T(rerun + 91))  # attempt 2's patch-apply past its 90 s: ended again, its cancel lost
    owing = await flow.owing()
    assert float(owing["owed_at"]) == T(rerun + 91).timestamp()
    assert (int(owing["attempts"]), float(owing["next_at"])) == (1, T(rerun + 91 + 60).timestamp())
    assert (owing["requested_at"], int(owing["run_attempt"])) == (None, 2)

    with caplog.at_level(logging.WARNING, logger="bot.patch_pipeline"):
        assert await flow.sweep(T(rerun + 121)) == []  # not given up for the first end's age, nor due yet
    assert not [r for r in caplog.records if "gave up" in r.getMessage()], caplog.text
    # The run's news sends it at once, as it would any cancel owed for its attempt.
    news = workflow_run_payload("in_progress", run_id=RUN, status="in_progress", attempt=2)
    assert cancels(await flow.deliver("workflow_run", news, T(rerun + 130), delivery_id="run-news")) == [RUN]
    assert flow.github.sent()[-2:] == [502, 202] and await flow.requested() == [RUN]


# --- an answer settles only the owing its cancel was sent for ---------------------------------------

async def test_an_answer_to_the_cancel_of_an_earlier_end_does_not_settle_the_run_owed_anew(flow):
    """The sweep sends the cancel owed for the run's first end; before it settles it (another
    replica, a slow executor), the run, re-run, is ended again and owed anew. GitHub's answer to
    the earlier cancel settles nothing of the new owing, which is sent on its own."""
    await timed_out_with_its_cancel_lost(flow)
    sent, settling = split_at(await flow.sweep_decides(T(162)), "cancel_settled")
    await flow.act_as_sweep(sent, T(162))
    assert flow.github.sent() == [502, 202]  # accepted; its settling not performed yet
    await rerun_reopens(flow, T(300))
    ended, _ = split_at(await flow.sweep_decides(T(391)), "cancel_attempted")
    await flow.act_as_sweep(ended, T(391))  # attempt 2 timed out: owed anew; its cancel not sent yet
    await flow.act_as_sweep(settling, T(162))
    owing = await flow.owing()
    assert owing is not None, "the answer to the earlier end's cancel settled the new one"
    assert (float(owing["owed_at"]), owing["requested_at"], int(owing["attempts"])) == (T(391).timestamp(), None, 0)
    assert await flow.requested() == []


async def test_an_answer_recorded_late_for_an_earlier_ends_cancel_is_not_read_for_the_new_one(flow):
    """Two cancels of one run at once, on two replicas: the one owed for its earlier end (decided
    by a sweep that read it before the run was owed anew) and the new one's, which GitHub refuses
    (403). The earlier one's answer ("re-run": the run is on attempt 2, which it is not for, so
    it is not sent) is recorded while the new one's settling is under way: the new one reads only
    an answer to a cancel sent for it, and stays owed, neither settled nor taken as accepted."""
    await timed_out_with_its_cancel_lost(flow)
    earlier = await flow.sweep_decides(T(162))
    await rerun_reopens(flow, T(300))
    ended, sending = split_at(await flow.sweep_decides(T(391)), "cancel_attempted")
    await flow.act_as_sweep(ended, T(391))  # attempt 2 timed out: owed anew
    flow.github.answers = [403]
    await flow.act(sending[:2], delivery_id="replica-1")  # the new cancel: refused
    await flow.act(earlier[:2], delivery_id="replica-2")  # the earlier end's: answered, not sent
    await flow.act(sending[2:3], delivery_id="replica-1")  # the new cancel's settling
    assert flow.github.sent() == [502, 403]
    assert await state.cancel_answer(flow.db, REPO, RUN, store.owing(T(101).timestamp())) == "re-run"
    owing = await flow.owing()
    assert (float(owing["owed_at"]), owing["requested_at"]) == (T(391).timestamp(), None)


# --- a 202 is not the end: the run's end is, or a force-cancel ---------------------------------------

async def test_an_accepted_cancel_is_owed_until_the_run_is_reported_completed(flow):
    actions = await flow.sweep(T(101))
    assert cancels(actions) == [RUN] and flow.github.verbs == ["cancel"]
    assert await flow.requested() == [RUN]
    # Cancelling, the run still reports in progress: nothing more is sent, by its events or the
    # delivery's retry.
    news = workflow_run_payload("in_progress", run_id=RUN, status="in_progress")
    assert await flow.deliver("workflow_run", news, T(130), delivery_id="run-news") == []
    assert await flow.deliver("workflow_run", news, T(131), delivery_id="run-news", retrying=True) == []
    actions = await flow.run_completed(T(140))
    assert ops(actions) == ["run_ended"] and cancels(actions) == []
    assert await flow.owed() == [] and flow.github.verbs == ["cancel"]
    assert await flow.sweep(T(2000)) == []


async def test_a_run_still_running_after_its_cancel_was_accepted_is_force_cancelled(flow):
    """GitHub accepted the cancel, but the run goes on (a job that runs on cancellation, ``if:
    always()``; a run hung cancelling). Six minutes on, the sweep force-cancels it; accepted
    too, it is owed still. Once the run has ended, a force-cancel's 409 settles it (its completed
    event was lost)."""
    await flow.sweep(T(101))
    assert await flow.requested() == [RUN]
    assert await flow.sweep(T(101 + store.FORCE_AFTER - 1)) == []
    actions = await flow.sweep(T(101 + store.FORCE_AFTER + 1))
    assert [(a.run_id, a.force) for a in of(actions, "CancelWorkflowRun")] == [(RUN, True)]
    assert flow.github.verbs == ["cancel", "force-cancel"] and await flow.requested() == [RUN]
    owing = await flow.owing()
    assert float(owing["requested_at"]) == T(101).timestamp()  # when GitHub first accepted one
    next_at = float(owing["next_at"])
    assert next_at == T(101 + store.FORCE_AFTER + 1 + store.FORCE_AFTER).timestamp()
    at = datetime.fromtimestamp(next_at, timezone.utc)
    assert await flow.sweep(at - timedelta(seconds=1)) == []
    flow.github.answers = [409]
    actions = await flow.sweep(at)
    assert [a.force for a in of(actions, "CancelWorkflowRun")] == [True]
    assert flow.github.sent() == [202, 202, 409] and await flow.owed() == []


async def test_a_rerun_after_an_accepted_cancel_settles_it_and_is_not_cancelled(flow):
    """The cancel was accepted and the run's completed event lost; then someone re-runs the run
    (the same id, attempt 2: GitHub re-runs only a run that has ended). Attempt 2 is not what the
    cancel was owed for: its first event settles the cancel, and nothing force-cancels the re-run."""
    await flow.sweep(T(101))
    assert await flow.requested() == [RUN]
    rerun = workflow_run_payload("requested", run_id=RUN, status="queued", attempt=2, created=T(5))
    actions = await flow.deliver("workflow_run", rerun, T(200), delivery_id="rerun")
    assert "run_ended" in ops(actions) and cancels(actions) == []
    assert await flow.owed() == []
    row, run = await flow.state()
    assert (row["status"], run.attempt) == ("running", 2)  # followed as the pipeline's newer attempt


async def test_a_late_completed_event_of_an_earlier_attempt_leaves_a_later_attempts_cancel_owed(flow):
    await flow.sweep(T(101))  # attempt 1 timed out, its cancel accepted; its completed event late
    await rerun_reopens(flow, T(300))
    actions = await flow.sweep(T(391))  # attempt 2 timed out: owed anew, accepted
    assert cancels(actions) == [RUN] and await flow.requested() == [RUN]
    assert int((await flow.owing())["run_attempt"]) == 2
    assert "run_ended" not in ops(await flow.run_completed(T(400), attempt=1))
    assert await flow.requested() == [RUN]
    assert ops(await flow.run_completed(T(410), attempt=2, delivery_id="attempt-2-completed")) == ["run_ended"]
    assert await flow.owed() == []


# --- a cancel stops only the attempt it is owed for ---------------------------------------------------

@pytest.mark.parametrize("attempt,status", [(2, "in_progress"), (1, "completed")], ids=["re-run", "ended"])
async def test_no_force_cancel_once_the_attempt_owed_has_ended(flow, attempt, status):
    """The cancel was accepted and the run's completed event lost; within the six minutes the
    attempt owed has ended, and maybe someone has re-run the run (attempt 2, its events not here
    yet). Read before the force-cancel, the run shows it: the cancel is settled, and nothing is
    sent that would stop the re-run, which the bot does not owe a cancel."""
    await flow.sweep(T(101))
    assert await flow.requested() == [RUN]
    flow.github.run_attempt, flow.github.run_status = attempt, status
    actions = await flow.sweep(T(101 + store.FORCE_AFTER + 1))
    assert [(a.force, a.attempt) for a in of(actions, "CancelWorkflowRun")] == [(True, 1)]
    assert flow.github.verbs == ["cancel"] and flow.github.reads == [200, 200]
    assert await flow.owed() == []
    assert await flow.sweep(T(2000)) == []


async def test_a_lost_cancel_is_not_sent_again_to_a_rerun(flow):
    """The timeout's cancel was lost to a 502; before the sweep sends it again, the run has ended
    and been re-run: the cancel owed for attempt 1 is settled, and attempt 2 goes on."""
    await timed_out_with_its_cancel_lost(flow)
    flow.github.run_attempt = 2
    actions = await flow.sweep(T(162))
    assert [(a.force, a.attempt) for a in of(actions, "CancelWorkflowRun")] == [(False, 1)]
    assert flow.github.sent() == [502] and await flow.owed() == []


async def test_a_run_gone_when_read_before_its_cancel_settles_it(flow):
    await flow.sweep(T(101))
    flow.github.read_answers = [404]
    await flow.sweep(T(101 + store.FORCE_AFTER + 1))
    assert flow.github.verbs == ["cancel"] and flow.github.reads == [200, 404]
    assert await flow.owed() == []


async def test_a_run_that_could_not_be_read_keeps_its_cancel_owed(flow):
    """A server error reading the run sends nothing and settles nothing: the force-cancel goes
    on the sweep's next attempt."""
    await flow.sweep(T(101))
    flow.github.read_answers = [502]
    with pytest.raises(TransientGitHubError):
        await flow.sweep(T(101 + store.FORCE_AFTER + 1))
    assert flow.github.verbs == ["cancel"] and await flow.requested() == [RUN]
    next_at = datetime.fromtimestamp(float((await flow.owing())["next_at"]), timezone.utc)
    await flow.sweep(next_at)
    assert flow.github.verbs == ["cancel", "force-cancel"] and flow.github.reads == [200, 502, 200]
    assert await flow.requested() == [RUN]


async def test_a_cancel_accepted_but_never_ended_is_force_cancelled_at_most_every_half_hour_and_given_up(
        flow, caplog):
    await flow.sweep(T(101))
    owed_at = T(101).timestamp()
    tries = [owed_at]
    while (next_at := await flow.db.fetchval("SELECT next_at FROM patch_pipeline_cancels")) is not None:
        at = datetime.fromtimestamp(float(next_at) + 1, timezone.utc)
        with caplog.at_level(logging.WARNING, logger="bot.patch_pipeline"):
            actions = await flow.sweep(at)
        if cancels(actions):
            tries.append(at.timestamp())
    waits = [round(b - a) for a, b in zip(tries, tries[1:])]
    assert waits[:4] == [361, 361, 361, 481] and max(waits) == 1801
    assert set(flow.github.verbs[1:]) == {"force-cancel"} and len(tries) < 160
    assert 3 * DAY - 1801 < tries[-1] - owed_at <= 3 * DAY
    notes = [d["summary"] for d in await state.decisions_for(flow.db, REPO, 7)]
    assert any("gave up" in n and "accepted" in n for n in notes), notes
    assert any("gave up" in r.getMessage() and str(RUN) in r.getMessage() for r in caplog.records)


# --- migration 0007: cancels owed before 0006 are owed for the attempt their pipeline ended at -------

async def test_cancels_owed_before_the_upgrade_are_owed_for_the_attempt_their_pipeline_ended_at(db):
    """0006 gave them all attempt 1. 0007 takes the attempt of the pipeline that ended on the run
    (the same repository), where later: not a live pipeline's (re-opened by a re-run since, it
    follows an attempt the bot does not owe a cancel), never lowering one, and leaving a stray
    run's (no pipeline) alone."""
    other = "octo/other"
    pipelines = [  # (repo, head, status, workflow run, attempt)
        (REPO, "a" * 40, "completed", 11, 3), (REPO, "b" * 40, "superseded", 12, 2),
        (REPO, "c" * 40, "running", 13, 2), (REPO, "d" * 40, "completed", 14, 2),
        (other, "e" * 40, "completed", 16, 3)]
    for repo, head, status, run_id, attempt in pipelines:
        await db.execute("INSERT INTO patch_pipeline_runs (repo, head_sha, number, status, run_id, dispatched_at,"
                         " updated_at, attempt) VALUES (?, ?, 7, ?, ?, 100.0, 200.0, ?)",
                         (repo, head, status, run_id, attempt))
    owed = [(11, 1), (12, 1), (13, 1), (14, 4), (15, 1), (16, 1)]  # (workflow run, attempt as 0006 left it)
    for run_id, attempt in owed:
        await db.execute("INSERT INTO patch_pipeline_cancels (repo, run_id, number, head_sha, delivery_id, owed_at,"
                         " attempts, next_at, run_attempt) VALUES (?, ?, 7, ?, NULL, 300.0, 1, 360.0, ?)",
                         (REPO, run_id, "f" * 40, attempt))
    [migration] = [m for m in discover("patch_pipeline", "bot.features.patch_pipeline.migrations", db.dialect)
                   if m.version == 7]
    for statement in split_statements(migration.sql):
        await db.execute(statement)
    rows = await db.fetchall("SELECT run_id, run_attempt FROM patch_pipeline_cancels ORDER BY run_id")
    assert [(int(r["run_id"]), int(r["run_attempt"])) for r in rows] == [
        (11, 3), (12, 2), (13, 1), (14, 4), (15, 1), (16, 1)]
