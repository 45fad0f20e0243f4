"""Acceptance (issue 2): bad input gets a clear answer and loses nothing.

Signed deliveries whose payloads have missing fields, nulls, wrong types, huge or odd unicode
text are answered 202 or 400 (never a 500), do not stop the worker, and end done or dead;
a failing delivery is retried the number of times the repository's rules say, then ``dead``
and listed by ``python -m bot deliveries --status dead``.
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import subprocess
import sys

import aiohttp
import pytest

from bot.features.base import Feature
from bot.store import deliveries
from tests.fixtures.webhooks import load_example

from .botprocess import ROOT
from .harness import SECRET, retarget

REPO = "octo/repo"


async def post(bot, payload, *, event: str, delivery: str) -> tuple[int, dict]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
               "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
    async with aiohttp.ClientSession() as s:
        async with s.post(bot.webhook_url, data=body, headers=headers) as r:
            return r.status, await r.json(content_type=None)


def example(fake, event: str, action: str) -> dict:
    return retarget(load_example(event, action), REPO, fake)


def _set(path: str, value):
    def patch(p: dict) -> dict:
        p = copy.deepcopy(p)
        *keys, last = path.split(".")
        node = p
        for k in keys:
            node = node[k]
        node[last] = value
        return p
    return patch


HUGE = "Ünïcödé 🚀 ‮ " * 200_000  # ~3 MB of multi-byte text with a right-to-left override
MALFORMED = [
    ("issues", "opened", lambda p: {"action": "opened"}),
    ("issues", "opened", _set("issue", None)),
    ("issues", "opened", _set("issue.title", None)),
    ("issues", "opened", _set("issue.body", HUGE)),
    ("issues", "opened", _set("issue.user", None)),
    ("issues", "opened", _set("issue.labels", None)),
    ("issues", "opened", _set("issue.number", "not-a-number")),
    ("issues", "opened", _set("repository", "octo/repo")),
    ("issues", "opened", _set("installation", [1])),
    ("issues", "opened", _set("sender", None)),
    ("issue_comment", "created", _set("comment.body", None)),
    ("issue_comment", "created", _set("comment.body", "/assign @octocat\n" + HUGE)),
    ("issue_comment", "created", _set("comment.user", None)),
    ("issue_comment", "created", _set("issue.pull_request", "yes")),
    ("pull_request", "opened", _set("pull_request.title", None)),
    ("pull_request", "opened", _set("pull_request.body", None)),
    ("pull_request", "opened", _set("pull_request.head", None)),
    ("pull_request", "opened", _set("pull_request.user", None)),
    ("pull_request", "opened", _set("pull_request.number", None)),
    ("pull_request", "synchronize", _set("pull_request.head.sha", None)),
    ("pull_request_review", "submitted", _set("review.body", None)),
    ("pull_request_review", "submitted", _set("review.user", None)),
    ("workflow_run", "completed", _set("workflow_run", None)),
    ("workflow_run", "completed", _set("workflow_run.head_sha", None)),
    ("workflow_job", "completed", _set("workflow_job.name", None)),
    ("check_run", "rerequested", _set("check_run", None)),
]


@pytest.mark.parametrize("event,action,mangle", MALFORMED,
                         ids=[f"{e}.{a}-{i}" for i, (e, a, _) in enumerate(MALFORMED)])
async def test_malformed_payload_gets_a_clear_answer_and_the_worker_goes_on(bot, fake_github, event, action,
                                                                               mangle):
    fake_github.add_issue(REPO)
    status, answer = await post(bot, mangle(example(fake_github, event, action)), event=event, delivery="bad")
    assert status in (202, 400), (status, answer)
    if status == 400:
        assert answer["error"] and await deliveries.get(bot.runtime.db, "bad") is None
    else:
        assert await bot.wait_for("bad", timeout=30) in ("done", "dead")
    # The queue is not poisoned: a good delivery afterwards is processed.
    good = await bot.deliver_example("issues", "opened")
    assert await bot.status(good) == "done"


async def test_a_failing_handler_is_retried_as_many_times_as_the_repository_says_then_dead(
        bot, fake_github, tmp_path):
    fake_github.put_file(REPO, ".github/contributor-flow.yml", "core:\n  max_attempts: 2\n")

    async def broken(event, ctx):
        raise ValueError("handler bug")

    bot.runtime.features.append(Feature(name="broken", handlers={"issues.opened": [broken]}))
    did = await bot.deliver_example("issues", "opened")
    assert await bot.status(did) == "dead"
    row = await deliveries.get(bot.runtime.db, did)
    assert row.attempts == 2 and "handler bug" in (row.last_error or "")
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{bot.url}/metrics") as r:
            metrics = await r.text()
    assert 'cf_deliveries_dead_total{event="issues"} 1.0' in metrics
    assert 'cf_deliveries_failed_total{event="issues"} 2.0' in metrics

    # The operator sees it with the CLI, on the same database.
    env = {**os.environ, "DATABASE_URL": bot.settings.database_url}
    out = subprocess.run([sys.executable, "-m", "bot", "deliveries", "--status", "dead", "--json"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    listed = [json.loads(line) for line in out.stdout.splitlines() if line.strip()] \
        if not out.stdout.lstrip().startswith("[") else json.loads(out.stdout)
    assert [d["id"] if "id" in d else d["delivery_id"] for d in listed] == [did]


@pytest.mark.parametrize("event,action", [("installation", "created"), ("installation_repositories", "added"),
                                          ("ping", None)])
async def test_events_without_a_repository_are_processed_not_dead(bot, event, action):
    if event == "ping":
        payload = {"zen": "Design for failure.", "hook_id": 1, "installation": {"id": 1}}
    else:
        payload = load_example(event, action)
        payload["installation"]["id"] = 1
    did = await bot.deliver(event, payload)
    row = await deliveries.get(bot.runtime.db, did)
    assert (row.status, row.attempts, row.last_error) == ("done", 1, None)  # done at the first try
