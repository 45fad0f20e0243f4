"""Signed payloads whose fields the pipeline relies on have types GitHub never sends.

Over real HTTP with real example deliveries, one field altered: intake answers 400 naming
the field, and stores nothing (nothing acknowledged is then lost). A row stored before intake
checked (an older version's) ends at its first attempt, dead, instead of being retried until
it dies."""
from __future__ import annotations

import json

import aiohttp
import pytest

from bot.store import deliveries
from tests.fixtures.webhooks import load_example

from .harness import retarget
from .test_intake_e2e import sign


def altered(fake, event: str, action: str, change) -> dict:
    payload = retarget(load_example(event, action), "octo/repo", fake)
    change(payload)
    return payload


def setter(*path, value):
    def change(payload):
        node = payload
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


ODD = [
    ("issues", "opened", setter("repository", "id", value="abc"), "repository.id"),
    ("issues", "opened", setter("repository", "id", value=1.5), "repository.id"),
    ("issues", "opened", setter("installation", "id", value="1"), "installation.id"),
    ("issues", "opened", setter("installation", "id", value={"id": 1}), "installation.id"),
    ("issues", "opened", setter("installation", "id", value=True), "installation.id"),
    ("issues", "opened", setter("sender", value=[{"login": "alice"}]), "sender"),
    ("issues", "opened", setter("sender", "login", value=42), "sender.login"),
    ("issues", "opened", setter("sender", value="alice"), "sender"),
    ("issues", "opened", setter("issue", "number", value="1"), "issue.number"),
    ("issues", "opened", setter("issue", value="#1"), "issue"),
    ("issues", "opened", setter("action", value=["opened"]), "action"),
    ("issues", "opened", setter("repository", "owner", value="octo"), "repository.owner"),
    ("issue_comment", "created", setter("issue", "pull_request", value="yes"), "issue.pull_request"),
    ("pull_request", "opened", setter("pull_request", "number", value=[1]), "pull_request.number"),
    ("issues", "opened", setter("repository", "private", value="no"), "repository.private"),
]


async def post(bot, event: str, payload: dict, delivery: str) -> tuple[int, dict]:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event,
               "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": sign(body)}
    async with aiohttp.ClientSession() as s:
        async with s.post(bot.webhook_url, data=body, headers=headers) as r:
            return r.status, await r.json()


@pytest.mark.parametrize("event, action, change, field", ODD,
                         ids=[f"{e}-{f}-{i}" for i, (e, _, _, f) in enumerate(ODD)])
async def test_a_signed_payload_with_a_field_of_the_wrong_type_is_400_naming_it(
        bot, event, action, change, field):
    status, answer = await post(bot, event, altered(bot.fake, event, action, change), "odd")
    assert status == 400, answer
    assert field in answer["error"]
    assert await deliveries.get(bot.runtime.db, "odd") is None


@pytest.mark.parametrize("event, action", [("issues", "opened"), ("issue_comment", "created")])
async def test_the_same_payloads_unaltered_are_taken_and_processed(bot, event, action):
    status, _ = await post(bot, event, altered(bot.fake, event, action, lambda p: None), "fine")
    assert status == 202
    assert await bot.wait_for("fine") == "done"


async def test_a_stored_row_of_the_wrong_shape_ends_at_its_first_attempt(bot):
    # Stored by a version whose intake did not check (or any other way in): no retry mends it.
    payload = altered(bot.fake, "issues", "opened", setter("sender", value=["alice"]))
    await deliveries.insert(bot.runtime.db, delivery_id="old", event="issues", action="opened",
                            repo="octo/repo", subject="octo/repo#1", installation_id=1,
                            body=json.dumps(payload))
    assert await bot.wait_for("old") == "dead"
    stored = await deliveries.get(bot.runtime.db, "old")
    assert stored.attempts == 1 and "sender" in stored.last_error
