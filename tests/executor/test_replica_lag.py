"""A 404 moments after GitHub sent the event: its read replicas may not have the item yet.

A webhook can arrive before the issue or pull request it announces is readable everywhere
(GitHub writes to a primary and reads from replicas), so the first reads of a just-opened item
may answer 404 for a moment. The executor used to record such an action as failed for good:
the labels of a new issue, or the card of a new pull request, were then never made, since the
delivery's retries skip what failed for good; and a card made by the delivery just before was
made a second time. On a delivery's first attempt, moments after it was received, such an
action is now performed once more a moment later; otherwise (a retry, a periodic job, a
delivery processed long after it came) a 404 still means the item is gone.
"""
from __future__ import annotations

import time
from typing import Any

import pytest

from bot.core import actions as A
from bot.executor import Executor
from bot.github import PermanentGitHubError
from bot.pipeline import process
from bot.store.deliveries import StoredDelivery

REPO = "octo/repo"


@pytest.fixture(autouse=True)
def no_wait(monkeypatch):
    import bot.executor

    monkeypatch.setattr(bot.executor, "REPLICA_WAIT", 0.0)


class Lagging:
    """The real installation client, except that the first read of a URL containing ``part``
    (``left``, shared by the clients of one test) answers 404, as a replica that has not
    caught up does."""

    def __init__(self, api: Any, part: str, left: list[int]) -> None:
        self._api, self._part, self.left = api, part, left

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    def _lag(self, url: str) -> None:
        if self.left[0] and self._part in url:
            self.left[0] -= 1
            raise PermanentGitHubError("Not Found", status=404, endpoint=url)

    async def getitem(self, url: str, url_vars: Any = None, **kw: Any) -> Any:
        self._lag(url)
        return await self._api.getitem(url, url_vars, **kw)

    async def getiter(self, url: str, url_vars: Any = None, **kw: Any):
        self._lag(url)
        async for item in self._api.getiter(url, url_vars, **kw):
            yield item


def lagging(rt, part: str) -> Executor:
    ex: Executor = rt.executor
    left = [1]

    async def api_for(installation_id: int) -> Any:
        return Lagging(await rt.github.installation(installation_id), part, left)

    ex.api_for = api_for
    return ex


async def test_labels_of_a_just_opened_issue_are_added_once_the_replica_has_it(rt, fake_github):
    issue = fake_github.add_issue(REPO, title="A bug", user="alice")
    add = A.AddLabels(repo=REPO, number=issue.number, labels=("needs-triage",))
    ex = lagging(rt, "/labels")
    out = await ex.run(delivery_id="d1", installation_id=1, batches=[("classify", [add])], fresh=True)
    assert out.done == [add.describe()] and not out.failed
    assert fake_github.issue(REPO, issue.number).labels == ["needs-triage"]
    assert fake_github.violations == []


async def test_a_404_later_still_means_gone_and_the_batch_goes_on(rt, fake_github):
    issue = fake_github.add_issue(REPO, title="A bug", user="alice")
    gone = A.AddLabels(repo=REPO, number=issue.number, labels=("needs-triage",))
    note = A.Comment(repo=REPO, number=issue.number, body="thanks")
    ex = lagging(rt, "/labels")
    out = await ex.run(delivery_id="job:sweep:1", installation_id=1, batches=[("sla", [gone, note])])
    assert [what for what, _ in out.failed] == [gone.describe()] and out.done == [note.describe()]


def _delivery(issue_number: int, *, attempts: int, received_at: float) -> StoredDelivery:
    import json

    payload = {"action": "opened", "installation": {"id": 1},
               "repository": {"full_name": REPO, "id": 99, "private": False, "default_branch": "main",
                              "owner": {"login": "octo"}, "name": "repo"},
               "sender": {"login": "alice", "type": "User", "id": 5},
               "issue": {"number": issue_number, "title": "A bug", "body": "It breaks.",
                         "user": {"login": "alice", "type": "User", "id": 5}, "labels": [],
                         "state": "open", "author_association": "NONE",
                         "created_at": "2026-11-28T12:00:00Z", "updated_at": "2026-11-28T12:00:00Z"}}
    return StoredDelivery(seq=1, delivery_id="d-open", event="issues", action="opened", repo=REPO,
                          subject=f"{REPO}#{issue_number}", installation_id=1, status="processing",
                          attempts=attempts, received_at=received_at, body=json.dumps(payload))


async def test_a_delivery_just_received_does_not_fail_its_actions_on_a_lagging_replica(rt, fake_github):
    issue = fake_github.add_issue(REPO, title="A bug", body="It breaks.", user="alice")
    lagging(rt, "/issues/{issue_number}/labels")  # classify labels it needs-triage
    await process(rt, _delivery(issue.number, attempts=0, received_at=time.time()))
    assert fake_github.issue(REPO, issue.number).labels == ["needs-triage"]
    assert fake_github.violations == []


async def test_a_delivery_processed_long_after_it_came_takes_a_404_as_gone(rt, fake_github):
    issue = fake_github.add_issue(REPO, title="A bug", body="It breaks.", user="alice")
    lagging(rt, "/issues/{issue_number}/labels")
    await process(rt, _delivery(issue.number, attempts=0, received_at=time.time() - 3600))
    assert fake_github.issue(REPO, issue.number).labels == []  # failed for good, as before


class CardNotYetReplicated:
    """The replica a second delivery reads from does not have the card the first one made yet:
    the card by its id answers 404 and the issue's comments are listed without it, once."""

    def __init__(self, api: Any, left: list[int]) -> None:
        self._api, self.left = api, left

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    async def getitem(self, url: str, url_vars: Any = None, **kw: Any) -> Any:
        if self.left[0] and url.endswith("/issues/comments/{comment_id}"):
            self.left[0] -= 1
            raise PermanentGitHubError("Not Found", status=404, endpoint=url)
        return await self._api.getitem(url, url_vars, **kw)

    async def getiter(self, url: str, url_vars: Any = None, **kw: Any):
        if self.left[0] and url.endswith("/comments"):
            self.left[0] -= 1
            return
        async for item in self._api.getiter(url, url_vars, **kw):
            yield item


async def test_a_card_made_a_moment_ago_is_not_made_twice(rt, fake_github):
    issue = fake_github.add_issue(REPO, title="A bug", user="alice")
    ex: Executor = rt.executor

    def card(body: str) -> A.UpsertComment:
        return A.UpsertComment(repo=REPO, number=issue.number, marker="pr-context", body=body)

    await ex.run(delivery_id="d1", installation_id=1, batches=[("pr_context", [card("one")])], fresh=True)
    left = [2]  # the card by its id, then the listing

    async def api_for(installation_id: int) -> Any:
        return CardNotYetReplicated(await rt.github.installation(installation_id), left)

    ex.api_for = api_for
    out = await ex.run(delivery_id="d2", installation_id=1, batches=[("pr_context", [card("two")])],
                       fresh=True)
    assert not out.failed
    cards = [c for c in fake_github.issue(REPO, issue.number).comments if "pr-context" in c.body]
    assert len(cards) == 1 and cards[0].body.endswith("two")
    assert fake_github.violations == []
