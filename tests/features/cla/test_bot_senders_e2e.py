"""The bot's own closes and reopens (``/close``, ``/reopen``) reach the CLA check, end to end:
real payloads through the real pipeline to the fake GitHub."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.features.cla import store
from bot.settings import BUNDLED_RULES
from tests.e2e.harness import BotHarness, retarget
from tests.fixtures.webhooks import load_example

REPO = "octo/repo"
BOT = "contributor-flow[bot]"
PHRASE = "I have read the CLA Document and I hereby sign the CLA"


@pytest.fixture
def rules_dir(tmp_path) -> str:
    out = tmp_path / "rules"
    out.mkdir()
    for name in ("core.yml", "cla.yml"):
        shutil.copy(Path(BUNDLED_RULES) / name, out / name)
    return str(out)


@pytest.fixture
async def bot(fake_github, database_url, rules_dir):
    fake_github.add_repo(REPO)
    fake_github.add_user("bob", emails=["bob@corp.example"])
    fake_github.add_user("alice")
    fake_github.add_user("carol")
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


def pr_event(fake, number: int, action: str, sender: str) -> dict:
    payload = retarget(load_example("pull_request", "opened"), REPO, fake)
    payload.update(action=action, number=number, pull_request=fake.serializer.pull(fake.issue(REPO, number)),
                   sender=fake.serializer.user(sender))
    return payload


def cla_run(fake, head_sha: str):
    [run] = [r for r in fake.state.check_runs.values() if r.head_sha == head_sha and r.name == "cla"]
    return run


async def test_a_pr_closed_by_the_bot_stops_waiting(bot):
    fake = bot.fake
    pr = fake.add_pull(REPO, user="alice", commits=[{"message": "Work", "author": "alice"}])
    await bot.deliver("pull_request", pr_event(fake, pr.number, "opened", "alice"))
    alice = fake.state.users["alice"].id
    assert await store.waiting_for(bot.runtime.db, REPO, alice) == [pr.number]
    fake.issue(REPO, pr.number).state = "closed"
    await bot.deliver("pull_request", pr_event(fake, pr.number, "closed", BOT))  # a /close
    assert await store.waiting_for(bot.runtime.db, REPO, alice) == []
    assert not (await store.status_of(bot.runtime.db, REPO, pr.number))["is_open"]


async def test_a_pr_reopened_by_the_bot_is_rechecked_when_its_co_author_signs(bot):
    fake = bot.fake
    # bob has a commit on a default branch (a merged pull request): commit search, which
    # searches default branches only, links the trailer's email.
    fake.add_pull("octo/elsewhere", user="bob", merged=True,
                  commits=[{"message": "Bob's own work", "author": "bob"}])
    pr = fake.add_pull(REPO, user="alice", commits=[
        {"message": "Pair work\n\nCo-authored-by: Bob <bob@corp.example>", "author": "alice"}])
    await store.sign(bot.runtime.db, agreement="octo", user_id=fake.state.users["alice"].id,
                     login="alice", version="1", signed_at=1.0)
    await bot.deliver("pull_request", pr_event(fake, pr.number, "opened", "alice"))
    assert cla_run(fake, pr.pull.head_sha).conclusion == "action_required"  # bob has not signed
    assert await store.waiting_for(bot.runtime.db, REPO, fake.state.users["bob"].id) == [pr.number]

    # a maintainer closes it; the bot reopens it (alice's /reopen)
    issue = fake.issue(REPO, pr.number)
    issue.state = "closed"
    await bot.deliver("pull_request", pr_event(fake, pr.number, "closed", "carol"))
    assert await store.waiting_for(bot.runtime.db, REPO, fake.state.users["bob"].id) == []
    issue.state = "open"
    await bot.deliver("pull_request", pr_event(fake, pr.number, "reopened", BOT))
    assert await store.waiting_for(bot.runtime.db, REPO, fake.state.users["bob"].id) == [pr.number]

    # bob signs on another pull request: the reopened one is waiting for him again
    other = fake.add_pull(REPO, user="carol", head_ref="other", commits=[{"message": "x", "author": "carol"}])
    await bot.comment(REPO, other.number, PHRASE, "bob")
    assert cla_run(fake, pr.pull.head_sha).conclusion == "success"
