"""A repository renamed and transferred on GitHub keeps what the bot knew of it, end to end: the
real bot over HTTP against the fake GitHub, which serves the repository under its new name only."""
from __future__ import annotations

import copy

import pytest

from bot.store import repo_names, state
from tests.conftest import BOTH_BACKENDS
from tests.fixtures.webhooks import load_example

from .harness import BotHarness, retarget
from .test_pr_context_e2e import write_rules

OLD, NEW = "octo/repo", "neworg/project"
MARKER = "<!-- contributor-flow:context-card -->"
COMMENTS_URL = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
EDIT_URL = "/repos/{owner}/{repo}/issues/comments/{comment_id}"
LABEL_URL = "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"


@pytest.fixture
async def bot(fake_github, database_url, tmp_path):
    fake_github.add_repo(OLD)
    for login in ("alice", "bob", "carol", "dora", "ann"):
        fake_github.add_user(login)
        fake_github.set_permission(OLD, login, "write" if login != "ann" else "read")
    fake_github.add_user(fake_github.bot_login, type="Bot")
    async with BotHarness(fake_github, database_url=database_url,
                          rules_dir=write_rules(tmp_path / "rules")) as harness:
        yield harness


def pr_payload(fake, repo: str, number: int, action: str) -> dict:
    issue = fake.issue(repo, number)
    payload = retarget(load_example("pull_request", action), repo, fake)
    payload["pull_request"] = fake.serializer.pull(issue)
    payload["repository"] = {**payload["repository"], **fake.serializer.repo(fake.repo(repo))}
    payload["number"] = number
    payload["sender"] = fake.serializer.user(issue.user)
    return payload


def cards(fake, number: int):
    return [c for c in fake.issue(NEW, number).comments if MARKER in c.body]


@BOTH_BACKENDS
async def test_after_a_transfer_the_bot_edits_its_card_and_removes_a_label_it_added_before(bot):
    fake, db = bot.fake, bot.runtime.db
    pr = fake.add_pull(OLD, user="ann", files=["src/core/engine.py", "docs/guide.md"])
    await bot.deliver("pull_request", pr_payload(fake, OLD, pr.number, "opened"))
    assert sorted(fake.issue(OLD, pr.number).labels) == ["area/core", "area/docs"]
    assert await state.bot_labels(db, OLD, pr.number) == {"area/core", "area/docs"}
    # Queued under the old name, not yet processed when the repository moves.
    before = pr_payload(fake, OLD, pr.number, "synchronize")
    before["repository"]["updated_at"] = "2020-01-01T00:00:00Z"

    repo_id = fake.repo(OLD).id
    fake.rename_repo(OLD, NEW)   # renamed and transferred to another organisation at once
    assert fake.state.repo(OLD) is None
    first_call = len(fake.calls)
    fake.issue(NEW, pr.number).pull.files = [f for f in fake.issue(NEW, pr.number).pull.files
                                             if f.filename != "docs/guide.md"]
    await bot.deliver("pull_request", pr_payload(fake, NEW, pr.number, "synchronize"))

    # The card is the one posted before, found by its recorded id (no listing of the comments).
    assert len(cards(fake, pr.number)) == 1
    after = fake.calls[first_call:]
    assert not [c for c in after if c.template == COMMENTS_URL]
    assert [c.path for c in after if c.template == EDIT_URL and c.method == "PATCH"] == \
        [f"/repos/{NEW}/issues/comments/{cards(fake, pr.number)[0].id}"]
    # The label the bot added under the old name is still its own, and goes.
    assert [c.path for c in after if c.template == LABEL_URL and c.method == "DELETE"] == \
        [f"/repos/{NEW}/issues/{pr.number}/labels/area/docs"]
    assert fake.issue(NEW, pr.number).labels == ["area/core"]
    assert await state.bot_labels(db, NEW, pr.number) == {"area/core"}
    assert await db.fetchval("SELECT COUNT(*) FROM bot_labels WHERE repo = ?", (OLD,)) == 0
    assert [r["repo"] for r in await state.installations(db)] == [NEW]
    assert await repo_names.current_name(db, repo_id) == NEW

    # The delivery queued before the move, processed now: under the new name, which it does not
    # take back (its repository snapshot is older), and nothing is asked of the old name.
    late = await bot.deliver("pull_request", copy.deepcopy(before))
    assert await bot.status(late) == "done"
    assert await repo_names.current_name(db, repo_id) == NEW
    assert not [c for c in fake.calls[first_call:] if c.path.startswith(f"/repos/{OLD}/")]
    assert len(cards(fake, pr.number)) == 1
    assert await db.fetchval("SELECT COUNT(*) FROM bot_labels WHERE repo = ?", (OLD,)) == 0


async def test_the_repository_renamed_event_moves_the_rows_before_any_other_event(bot):
    fake, db = bot.fake, bot.runtime.db
    repo = fake.repo(OLD)
    await state.record_bot_label(db, OLD, 3, "bug", "classify")  # kept from before the mapping existed
    fake.rename_repo(OLD, "octo/renamed")
    payload = retarget(load_example("repository", "renamed"), "octo/renamed", fake)
    payload["changes"]["repository"]["name"]["from"] = "repo"
    await bot.deliver("repository", payload)
    assert await state.bot_labels(db, "octo/renamed", 3) == {"bug"}
    assert await repo_names.current_name(db, repo.id) == "octo/renamed"
