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


async def renamed_on_github(bot, renamed_to: str) -> None:
    """octo/repo renamed on GitHub, and its repository.renamed delivery processed now."""
    from bot.pipeline import process
    from bot.store import deliveries

    fake = bot.fake
    fake.rename_repo(OLD, renamed_to)
    payload = retarget(load_example("repository", "renamed"), renamed_to, fake)
    payload["changes"]["repository"]["name"]["from"] = "repo"
    payload["repository"] = {**payload["repository"], **fake.serializer.repo(fake.repo(renamed_to))}
    await process(bot.runtime, await deliveries.get(bot.runtime.db, await bot.deliver("repository", payload,
                                                                                        wait=False)))


class RenamedMidway:
    """The installation client, except that once the card's comment is posted (GitHub made it,
    the answer is on its way) ``meanwhile`` runs: the rename processed by another subject's
    delivery while this one is still executing. Calls naming the old repository after that are
    sent to the new name, as GitHub's redirect of a renamed repository does (the fake serves
    the new name only)."""

    def __init__(self, api, meanwhile, old: str, new: str) -> None:
        self._api, self._meanwhile, self._old, self._new = api, meanwhile, old.split("/"), new.split("/")

    def __getattr__(self, name):
        call = getattr(self._api, name)
        if name not in ("getitem", "getiter", "patch", "put", "delete"):
            return call
        return lambda url, url_vars=None, **kw: call(url, self._redirected(url_vars), **kw)

    def _redirected(self, url_vars):
        url_vars = dict(url_vars or {})
        if self._meanwhile is None and [url_vars.get("owner"), url_vars.get("repo")] == self._old:
            url_vars["owner"], url_vars["repo"] = self._new
        return url_vars

    async def post(self, url, url_vars=None, **kw):
        answer = await self._api.post(url, self._redirected(url_vars), **kw)
        if url == COMMENTS_URL and MARKER in (kw.get("data") or {}).get("body", "") and self._meanwhile:
            meanwhile, self._meanwhile = self._meanwhile, None
            await meanwhile()
        return answer


@BOTH_BACKENDS
async def test_a_delivery_running_while_the_rename_moves_the_rows_keeps_its_card_and_labels(
        fake_github, database_url, tmp_path):
    """PR #N's opened delivery was resolved under the old name; the rename is processed while its
    card is being posted, so the card's id is recorded under the old name after the move. After
    its actions the delivery moves what it wrote: the next event (under the new name) edits that
    card, and the label the bot added is still its own to remove."""
    from bot.pipeline import process
    from bot.store import deliveries

    fake = fake_github
    fake.add_repo(OLD)
    fake.add_user("ann")
    fake.add_user(fake.bot_login, type="Bot")
    renamed_to = "octo/renamed"
    async with BotHarness(fake, database_url=database_url, rules_dir=write_rules(tmp_path / "rules"),
                          worker=False) as bot:
        db, runtime = bot.runtime.db, bot.runtime
        pr = fake.add_pull(OLD, user="ann", files=["src/core/engine.py", "docs/guide.md"])
        repo_id = fake.repo(OLD).id
        opened = await bot.deliver("pull_request", pr_payload(fake, OLD, pr.number, "opened"), wait=False)

        async def rename() -> None:
            await renamed_on_github(bot, renamed_to)
            assert await repo_names.current_name(db, repo_id) == renamed_to

        api_for = runtime.executor.api_for

        async def midway(installation_id):
            return RenamedMidway(await api_for(installation_id), rename, OLD, renamed_to)

        runtime.executor.api_for = midway
        await process(runtime, await deliveries.get(db, opened))
        runtime.executor.api_for = api_for

        [card] = [c for c in fake.issue(renamed_to, pr.number).comments if MARKER in c.body]
        assert await state.bot_labels(db, renamed_to, pr.number) == {"area/core", "area/docs"}
        assert await db.fetchval("SELECT COUNT(*) FROM created_objects WHERE repo = ?", (OLD,)) == 0
        assert await db.fetchval("SELECT COUNT(*) FROM bot_labels WHERE repo = ?", (OLD,)) == 0

        fake.issue(renamed_to, pr.number).pull.files = [
            f for f in fake.issue(renamed_to, pr.number).pull.files if f.filename != "docs/guide.md"]
        first_call = len(fake.calls)
        sync = await bot.deliver("pull_request", pr_payload(fake, renamed_to, pr.number, "synchronize"),
                                 wait=False)
        await process(runtime, await deliveries.get(db, sync))
        after = fake.calls[first_call:]
        assert [c for c in fake.issue(renamed_to, pr.number).comments if MARKER in c.body] == [card]
        assert [c.path for c in after if c.template == EDIT_URL and c.method == "PATCH"] == \
            [f"/repos/{renamed_to}/issues/comments/{card.id}"]
        assert [c.path for c in after if c.template == LABEL_URL and c.method == "DELETE"] == \
            [f"/repos/{renamed_to}/issues/{pr.number}/labels/area/docs"]
        assert fake.violations == []


class RenamedMidwayThenDown(RenamedMidway):
    """As RenamedMidway, then GitHub is down for the labels: the attempt fails after the
    rename, having recorded its card under the old name."""

    async def post(self, url, url_vars=None, **kw):
        if self._meanwhile is None and url.endswith("/labels"):
            from bot.github import TransientGitHubError

            raise TransientGitHubError("gave up after 1 attempts: 502", status=502)
        return await super().post(url, url_vars, **kw)


@BOTH_BACKENDS
async def test_a_delivery_failing_after_the_rename_moved_the_rows_still_moves_what_it_wrote(
        fake_github, database_url, tmp_path):
    """The attempt that was running while the rename moved the rows fails afterwards (a
    transient error): what it recorded under the old name (its card) follows the repository
    at once, not only if and when the delivery is tried again."""
    from bot.github import TransientGitHubError
    from bot.pipeline import process
    from bot.store import deliveries

    fake = fake_github
    fake.add_repo(OLD)
    fake.add_user("ann")
    fake.add_user(fake.bot_login, type="Bot")
    renamed_to = "octo/renamed"
    async with BotHarness(fake, database_url=database_url, rules_dir=write_rules(tmp_path / "rules"),
                          worker=False) as bot:
        db, runtime = bot.runtime.db, bot.runtime
        pr = fake.add_pull(OLD, user="ann", files=["src/core/engine.py"])
        opened = await bot.deliver("pull_request", pr_payload(fake, OLD, pr.number, "opened"), wait=False)

        async def rename() -> None:
            await renamed_on_github(bot, renamed_to)

        api_for = runtime.executor.api_for

        async def midway(installation_id):
            return RenamedMidwayThenDown(await api_for(installation_id), rename, OLD, renamed_to)

        runtime.executor.api_for = midway
        with pytest.raises(TransientGitHubError):
            await process(runtime, await deliveries.get(db, opened))
        assert await db.fetchval("SELECT COUNT(*) FROM created_objects WHERE repo = ?", (OLD,)) == 0
        assert await db.fetchval("SELECT COUNT(*) FROM created_objects WHERE repo = ?", (renamed_to,)) >= 1


class LosesTheReply:
    """The installation client, except that the first comment posted reaches GitHub and its
    answer is lost (a 502 after GitHub acted)."""

    def __init__(self, api) -> None:
        self._api, self.lost = api, False

    def __getattr__(self, name):
        return getattr(self._api, name)

    async def post(self, url, url_vars=None, **kw):
        answer = await self._api.post(url, url_vars or {}, **kw)
        if url == COMMENTS_URL and not self.lost:
            from bot.github import TransientGitHubError

            self.lost = True
            raise TransientGitHubError("502 after GitHub acted (answer lost)", status=502)
        return answer


@BOTH_BACKENDS
async def test_a_command_retried_after_a_rename_replies_once(fake_github, database_url):
    """The /help reply of a delivery received under the old name is posted, its answer lost; the
    repository is renamed before the retry, which is decided under the new name: it finds the
    reply the first attempt posted instead of posting another."""
    import dataclasses

    from bot.github import TransientGitHubError
    from bot.pipeline import process
    from bot.store import deliveries

    from .harness import comment_payload

    fake = fake_github
    fake.add_repo(OLD)
    fake.add_user("ann")
    fake.add_user(fake.bot_login, type="Bot")
    renamed_to = "octo/renamed"
    async with BotHarness(fake, database_url=database_url, worker=False) as bot:
        db, runtime = bot.runtime.db, bot.runtime
        issue = fake.add_issue(OLD, user="ann")
        c = fake.add_comment(OLD, issue.number, "/help", "ann")
        sent = await bot.deliver("issue_comment", comment_payload(fake, OLD, issue.number, c, "ann"), wait=False)
        api_for = runtime.executor.api_for

        async def lossy(installation_id):
            return LosesTheReply(await api_for(installation_id))

        runtime.executor.api_for = lossy
        stored = await deliveries.get(db, sent)
        try:
            await process(runtime, stored)
        except TransientGitHubError:
            pass
        else:
            raise AssertionError("the lost answer should have made the delivery transient")
        runtime.executor.api_for = api_for
        replies = [x for x in fake.issue(OLD, issue.number).comments if x.user == fake.bot_login]
        assert len(replies) == 1

        await renamed_on_github(bot, renamed_to)

        await process(runtime, dataclasses.replace(stored, attempts=1))
        replies = [x for x in fake.issue(renamed_to, issue.number).comments if x.user == fake.bot_login]
        assert len(replies) == 1
        assert fake.violations == []
