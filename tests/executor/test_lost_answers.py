"""Content-creating calls whose answer is lost after GitHub acted on them (a 502, a timeout).

The client never resends such a call; the delivery's (or job's) retry comes back to the
executor, which must find what the first attempt made instead of making it again: a second
discussion, or a second run of the pipeline. Against the fake GitHub over real HTTP (REST
checked against the OpenAPI description, GraphQL against GitHub's schema).
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

import pytest
import pytest_asyncio

from bot.core import actions as A
from bot.core.retry import RetryLater
from bot.executor import Executor, workflows
from bot.github import TransientGitHubError
from bot.runtime import open_runtime
from bot.worker import retry_delay
from tests.conftest import BOTH_BACKENDS
from tests.helpers import app_settings

REPO = "octo/repo"
SHA = "0123456789abcdef0123456789abcdef01234567"

pytestmark = BOTH_BACKENDS  # what was attempted is kept in the store
DISPATCHES = "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"


class LosesAnswers:
    """The real installation client, except that calls ``lose`` picks reach GitHub (or not,
    with ``applied=False``) and then fail as a lost answer does."""

    def __init__(self, api: Any, lose: Callable[[str, str], bool], *, applied: bool = True,
                 times: int = 1) -> None:
        self._api, self._lose, self._applied, self.left = api, lose, applied, times

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    async def _call(self, kind: str, what: str, call):
        if self.left and self._lose(kind, what):
            self.left -= 1
            if self._applied:
                await call()
            raise TransientGitHubError(f"gave up after 1 attempts: 502 on {kind} (answer lost)", status=502)
        return await call()

    async def graphql(self, query: str, **variables: Any) -> Any:
        return await self._call("graphql", query, lambda: self._api.graphql(query, **variables))

    async def post(self, url: str, url_vars: Any = None, **kw: Any) -> Any:
        return await self._call("post", url, lambda: self._api.post(url, url_vars or {}, **kw))


@pytest_asyncio.fixture
async def rt(fake_github, database_url):
    fake_github.add_repo(REPO)
    settings = app_settings(fake_github, database_url)
    async with open_runtime(settings) as runtime:
        yield runtime


def executor(rt, wrap: Callable[[Any], Any]) -> Executor:
    async def api_for(installation_id: int) -> Any:
        return wrap(await rt.github.installation(installation_id))

    return Executor(rt.db, api_for=api_for, dry_run=False, features=rt.features_by_name,
                    bot_login=rt.bot_login)


async def attempts(ex: Executor, delivery: str, action: A.Action, n: int = 2) -> list[str]:
    """The job or delivery tried ``n`` times, as the worker and scheduler do after a
    transient error; what each attempt ended with."""
    ended = []
    for _ in range(n):
        try:
            out = await ex.run(delivery_id=delivery, installation_id=1, batches=[("funnel", [action])])
        except (TransientGitHubError, RetryLater) as exc:
            ended.append(type(exc).__name__)
        else:
            ended.append("ok" if out.done or out.skipped else f"not done: {out}")
    return ended


# --- discussions ---------------------------------------------------------------------------------

REPORT = A.CreateDiscussion(repo=REPO, category="Reports", title="Week 47", body="figures",
                            dedupe_key="2026-W47")


async def test_a_discussion_whose_answer_was_lost_is_not_created_again(rt, fake_github):
    fake_github.add_discussion_category(REPO, "Reports")
    lossy: list[LosesAnswers] = []

    def wrap(api):
        lossy.append(LosesAnswers(api, lambda kind, what: "createDiscussion" in what))
        return lossy[0]

    ex = executor(rt, wrap)
    assert await attempts(ex, "job:funnel-weekly-report:1", REPORT) == ["TransientGitHubError", "ok"]
    [discussion] = fake_github.repo(REPO).discussions
    assert discussion.title == "Week 47" and discussion.body.startswith("figures")
    assert len(fake_github.graphql_calls("createDiscussion")) == 1
    # Found once, it is remembered: a later run (another job period) does not even look.
    lookups = len(fake_github.graphql_calls())
    assert await attempts(ex, "job:funnel-weekly-report:2", REPORT, n=1) == ["ok"]
    assert len(fake_github.graphql_calls()) == lookups
    assert fake_github.violations == []


async def test_a_discussion_that_was_not_created_is_created_on_the_retry(rt, fake_github):
    fake_github.add_discussion_category(REPO, "Reports")
    lossy = LosesAnswers(None, lambda kind, what: "createDiscussion" in what, applied=False)

    def wrap(api):
        lossy._api = api
        return lossy

    ex = executor(rt, wrap)
    assert await attempts(ex, "job:funnel-weekly-report:1", REPORT) == ["TransientGitHubError", "ok"]
    assert len(fake_github.repo(REPO).discussions) == 1
    assert fake_github.violations == []


# --- workflow_dispatch ---------------------------------------------------------------------------

PIPELINE = A.DispatchWorkflow(repo=REPO, workflow="patch.yml", ref="main",
                              inputs={"pr_number": "7", "head_sha": SHA, "patches": "[]", "signer": "x"})


def name_runs_after_their_head(fake_github) -> None:
    """What the pipeline's run-name does on GitHub (`Patch pipeline ${{ inputs.head_sha }}`)."""
    for d in fake_github.state.dispatches:
        if d.run_id is not None:
            fake_github.state.workflow_runs[d.run_id].display_title = f"Patch pipeline {d.inputs['head_sha']}"


async def test_a_workflow_dispatch_whose_answer_was_lost_is_not_sent_again(rt, fake_github):
    fake_github.add_workflow(REPO, "patch.yml")
    lossy = LosesAnswers(None, lambda kind, what: kind == "post" and what == DISPATCHES)

    def wrap(api):
        lossy._api = api
        return lossy

    ex = executor(rt, wrap)
    assert await attempts(ex, "d1", PIPELINE, n=1) == ["TransientGitHubError"]
    name_runs_after_their_head(fake_github)
    assert await attempts(ex, "d1", PIPELINE, n=1) == ["ok"]
    assert len(fake_github.state.dispatches) == 1
    assert len(fake_github.calls_to("POST", DISPATCHES)) == 1
    assert fake_github.violations == []


async def test_a_workflow_dispatch_that_never_arrived_is_sent_again_once_github_would_list_it(
        rt, fake_github, monkeypatch):
    fake_github.add_workflow(REPO, "patch.yml")
    # An older run for the same head (an earlier /verify-patch): not this dispatch's.
    old = fake_github.add_workflow_run(REPO, "patch.yml", head_branch="main")
    old.display_title = f"Patch pipeline {SHA}"
    lossy = LosesAnswers(None, lambda kind, what: kind == "post" and what == DISPATCHES, applied=False)

    def wrap(api):
        lossy._api = api
        return lossy

    monkeypatch.setattr(workflows, "SETTLE", 0.5)
    ex = executor(rt, wrap)
    # Lost; then too soon to tell whether GitHub has it: nothing is sent, come back later.
    assert await attempts(ex, "d1", PIPELINE) == ["TransientGitHubError", "DispatchUnsettled"]
    assert fake_github.state.dispatches == []
    await asyncio.sleep(0.6)
    assert await attempts(ex, "d1", PIPELINE, n=1) == ["ok"]
    assert len(fake_github.state.dispatches) == 1
    assert fake_github.violations == []


async def test_the_wait_for_an_unsettled_dispatch_is_the_retry_time(rt, fake_github):
    fake_github.add_workflow(REPO, "patch.yml")
    lossy = LosesAnswers(None, lambda kind, what: kind == "post" and what == DISPATCHES, applied=False)

    def wrap(api):
        lossy._api = api
        return lossy

    ex = executor(rt, wrap)
    await attempts(ex, "d1", PIPELINE, n=1)
    with pytest.raises(workflows.DispatchUnsettled) as caught:
        await ex.run(delivery_id="d1", installation_id=1, batches=[("funnel", [PIPELINE])])
    assert 50 < retry_delay(1, 5.0, caught.value, time.time()) <= workflows.SETTLE


# --- repository_dispatch -------------------------------------------------------------------------

REPO_DISPATCH = A.RepositoryDispatch(repo=REPO, event_type="verify-patches",
                                     client_payload={"pr_number": 7, "head_sha": SHA})


async def test_a_repository_dispatch_whose_answer_was_lost_is_not_sent_again(rt, fake_github):
    lossy = LosesAnswers(None, lambda kind, what: kind == "post" and what == "/repos/{owner}/{repo}/dispatches")

    def wrap(api):
        lossy._api = api
        return lossy

    ex = executor(rt, wrap)
    assert await attempts(ex, "d1", REPO_DISPATCH, n=1) == ["TransientGitHubError"]
    # The workflow listening for the event started; its run-name carries the head SHA.
    run = fake_github.add_workflow_run(REPO, "pipeline.yml", event="repository_dispatch")
    run.display_title = f"Patch pipeline {SHA}"
    assert await attempts(ex, "d1", REPO_DISPATCH, n=1) == ["ok"]
    assert len(fake_github.state.dispatches) == 1
    assert fake_github.violations == []


# --- comments and labels: what a run that does not know it is a retry finds -------------------------

COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
LABELS = "/repos/{owner}/{repo}/issues/{issue_number}/labels"


def lossy_on(kind: str, url: str, **kw: Any) -> tuple[LosesAnswers, Callable[[Any], Any]]:
    lossy = LosesAnswers(None, lambda k, what: k == kind and what == url, **kw)

    def wrap(api):
        lossy._api = api
        return lossy

    return lossy, wrap


async def test_a_comment_whose_answer_was_lost_is_not_posted_again_after_deliveries_retry(rt, fake_github):
    """The delivery died after GitHub had taken the comment (its answer lost, then GitHub down
    for the remaining attempts); ``deliveries retry`` gives it a fresh count of attempts, so its
    next run is its first by that count: it must still find the comment rather than post it twice."""
    from bot.store import deliveries

    issue = fake_github.add_issue(REPO, title="A bug", user="alice")
    reply = A.Comment(repo=REPO, number=issue.number, body="Thanks, @alice!")
    _, wrap = lossy_on("post", COMMENTS)
    ex = executor(rt, wrap)
    await deliveries.insert(rt.db, delivery_id="d-help", event="issue_comment", action="created",
                            repo=REPO, subject=f"{REPO}#{issue.number}", installation_id=1, body="{}")
    d = await deliveries.get(rt.db, "d-help")
    with pytest.raises(TransientGitHubError):
        await ex.run(delivery_id=d.delivery_id, installation_id=1, batches=[("commands.reply", [reply])],
                     retrying=d.attempts > 0)
    assert await deliveries.fail(rt.db, d.seq, error="502", max_attempts=1, retry_at=0) == "dead"
    assert await deliveries.requeue(rt.db, delivery_id="d-help") == 1
    d = await deliveries.get(rt.db, "d-help")
    out = await ex.run(delivery_id=d.delivery_id, installation_id=1, batches=[("commands.reply", [reply])],
                       retrying=d.attempts > 0)  # as the pipeline computes it
    assert out.done and not out.failed
    assert [c.body.split("\n")[0] for c in fake_github.issue(REPO, issue.number).comments] == ["Thanks, @alice!"]
    assert fake_github.violations == []


async def test_a_comment_that_was_never_posted_is_posted_on_the_next_run(rt, fake_github):
    issue = fake_github.add_issue(REPO, title="A bug", user="alice")
    reply = A.Comment(repo=REPO, number=issue.number, body="Thanks!")
    _, wrap = lossy_on("post", COMMENTS, applied=False)
    ex = executor(rt, wrap)
    assert await attempts(ex, "d1", reply) == ["TransientGitHubError", "ok"]
    assert len(fake_github.issue(REPO, issue.number).comments) == 1
    assert fake_github.violations == []


async def test_labels_whose_answer_was_lost_are_still_the_bots_own(rt, fake_github):
    """GitHub put the label on and the answer was lost: the retry finds it there. It is the
    bot's label all the same (it was not there before the first attempt), so the ledger holds
    it and the bot may take it off later."""
    from bot.store import state

    issue = fake_github.add_issue(REPO, title="A bug", user="alice", labels=["bug"])
    add = A.AddLabels(repo=REPO, number=issue.number, labels=("bug", "needs-triage"))
    _, wrap = lossy_on("post", LABELS)
    ex = executor(rt, wrap)
    assert await attempts(ex, "d1", add) == ["TransientGitHubError", "ok"]
    assert sorted(fake_github.issue(REPO, issue.number).labels) == ["bug", "needs-triage"]
    assert await state.bot_labels(rt.db, REPO, issue.number) == {"needs-triage"}  # "bug" was alice's
    out = await ex.run(delivery_id="d2", installation_id=1, batches=[
        ("classify", [A.RemoveLabel(repo=REPO, number=issue.number, label="needs-triage"),
                      A.RemoveLabel(repo=REPO, number=issue.number, label="bug")])])
    assert out.done == [A.RemoveLabel(repo=REPO, number=issue.number, label="needs-triage").describe(),
                        A.RemoveLabel(repo=REPO, number=issue.number, label="bug").describe()]
    assert fake_github.issue(REPO, issue.number).labels == ["bug"]
    assert fake_github.violations == []
