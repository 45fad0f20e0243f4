"""PR context card end to end: the real bot over real HTTP against the fake GitHub, which
validates every request against GitHub's OpenAPI description, with real pull_request payloads."""
from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest
import yaml

from bot.features import all_features
from bot.rules.registry import sections_of
from bot.settings import BUNDLED_RULES
from tests.conftest import BOTH_BACKENDS
from tests.fakegithub.routes import HANDLERS
from tests.fixtures.webhooks import load_example

from .harness import BotHarness, retarget

REPO = "octo/repo"
MARKER = "<!-- contributor-flow:context-card -->"
COMMENTS_URL = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
EDIT_URL = "/repos/{owner}/{repo}/issues/comments/{comment_id}"
ISSUE_URL = "/repos/{owner}/{repo}/issues/{issue_number}"

COMPONENTS = {
    "components": [
        {"name": "core", "paths": ["src/core/"], "owners": ["alice", "bob"], "guide": "#core",
         "checklist": ["Core stays pure."]},
        {"name": "cli", "paths": ["src/cli/"], "owners": ["carol"], "depends_on": ["core"]},
        {"name": "docs", "paths": ["docs/"], "owners": ["dora"]},
    ],
    "checklist": ["Tests prove the change."],
    "guide": {"url": "https://example.test/{repo}/CONTRIBUTING.md", "decision_tree": "#tree"},
    "first_timers": {"welcome": ["Sign the CLA.", "Run the tests."]},
    "response_time": "2d",
}


def write_rules(directory: Path, **components) -> str:
    """Bundled core plus this feature's section; every other feature switched off so the
    requests counted here are the card's own."""
    directory.mkdir(exist_ok=True)
    (directory / "core.yml").write_text((Path(BUNDLED_RULES) / "core.yml").read_text())
    (directory / "components.yml").write_text(yaml.safe_dump({**COMPONENTS, **components}))
    for section in sections_of(all_features()):
        if section.name not in ("core", "components"):
            (directory / f"{section.name}.yml").write_text("enabled: false\n")
    return str(directory)


@pytest.fixture
async def bot(fake_github, database_url, tmp_path):
    fake_github.add_repo(REPO, files={".github/CODEOWNERS": "src/core/ @erin\n"})
    for login in ("alice", "bob", "carol", "dora", "erin", "ann", "zoe"):
        fake_github.add_user(login)
        fake_github.set_permission(REPO, login, "write" if login not in ("ann", "zoe") else "read")
    fake_github.add_user(fake_github.bot_login, type="Bot")
    async with BotHarness(fake_github, database_url=database_url,
                          rules_dir=write_rules(tmp_path / "rules")) as harness:
        yield harness


async def send(bot, number: int, action: str, *, sender: str | None = None, wait: bool = True) -> str:
    """A real example payload for ``action``, carrying the PR as the fake now has it, sent
    by the PR's author unless ``sender`` is given."""
    fake = bot.fake
    issue = fake.issue(REPO, number)
    payload = retarget(load_example("pull_request", action), REPO, bot.fake)
    payload["pull_request"] = fake.serializer.pull(issue)
    payload["repository"] = {**payload["repository"], **fake.serializer.repo(fake.repo(REPO))}
    payload["number"] = number
    payload["sender"] = fake.serializer.user(sender or issue.user)
    return await bot.deliver("pull_request", payload, wait=wait)


async def send_check(bot, number: int, name: str = "patch-signature", *, wait: bool = True) -> str:
    """A check of the PR's head completed (``refresh_on_checks`` has it), sent by its app."""
    fake = bot.fake
    pull = fake.issue(REPO, number).pull
    run = fake.add_check_run(REPO, name, pull.head_sha, status="completed", conclusion="success")
    payload = retarget(load_example("check_run", "created"), REPO, fake)
    payload["action"] = "completed"
    payload["repository"] = {**payload["repository"], **fake.serializer.repo(fake.repo(REPO))}
    payload["check_run"] = {**fake.serializer.check_run(run), "pull_requests": [
        {"number": number, "head": {"sha": pull.head_sha}, "base": {"ref": "main"}}]}
    payload["sender"] = fake.serializer.user(fake.bot_login)
    return await bot.deliver("check_run", payload, wait=wait)


def cards(fake, number: int):
    return [c for c in fake.issue(REPO, number).comments if MARKER in c.body]


def edits(fake):
    return fake.calls_to("PATCH", EDIT_URL)


@BOTH_BACKENDS
async def test_card_found_past_a_hundred_comments_and_synchronize_twice_edits_at_most_once(bot):
    fake = bot.fake
    pr = fake.add_pull(REPO, user="ann", files=["src/core/engine.py", "docs/guide.md"])
    for i in range(120):  # earlier discussion fills four pages of 30 (GitHub's default page)
        fake.add_comment(REPO, pr.number, f"comment {i}", "zoe" if i % 2 else fake.bot_login)

    await send(bot, pr.number, "opened")
    assert len(cards(fake, pr.number)) == 1
    card = cards(fake, pr.number)[0].body
    assert "**Components touched**" in card and "**Also affected**" in card
    assert "[erin](https://github.com/erin)" in card            # merged from CODEOWNERS
    assert "Welcome ann" in card                                 # no earlier merged PR
    assert sorted(fake.issue(REPO, pr.number).labels) == ["area/core", "area/docs"]
    assert fake.issue(REPO, pr.number).pull.requested_reviewers == ["alice", "bob"]
    listed = [c for c in fake.calls_to("GET", COMMENTS_URL) if c.status == 200]
    per_page = int(listed[0].query.get("per_page", 30))
    assert len(listed) == -(-120 // per_page)   # every page was searched before posting

    fake.issue(REPO, pr.number).pull.files.append(type(pr.pull.files[0])(filename="src/cli/main.py"))
    posts_before = len(fake.calls_to("POST", COMMENTS_URL))
    await send(bot, pr.number, "synchronize")
    await send(bot, pr.number, "synchronize")
    assert len(cards(fake, pr.number)) == 1
    assert len(fake.calls_to("POST", COMMENTS_URL)) == posts_before   # never a second card
    assert len(edits(fake)) == 1                                       # the new file, once
    assert "| **cli** | [carol](https://github.com/carol) | 1 |" in cards(fake, pr.number)[0].body
    # reviewers were capped at two on opening; the push does not add a third
    assert fake.issue(REPO, pr.number).pull.requested_reviewers == ["alice", "bob"]


async def test_stale_card_on_a_later_page_is_edited_in_place(bot):
    fake = bot.fake
    pr = fake.add_pull(REPO, user="ann", files=["docs/guide.md"])
    quoting = fake.add_comment(REPO, pr.number, f"> {MARKER}\n> quoted card", "zoe")
    for i in range(105):
        fake.add_comment(REPO, pr.number, f"comment {i}", "zoe")
    stale = fake.add_comment(REPO, pr.number, f"{MARKER}\nold card", fake.bot_login)
    await send(bot, pr.number, "synchronize")
    assert [c.id for c in cards(fake, pr.number)] == [quoting.id, stale.id]
    assert "docs" in stale.body and "old card" not in stale.body
    assert quoting.body.endswith("quoted card")     # a user's comment quoting the marker is not the card
    assert not fake.calls_to("POST", COMMENTS_URL)
    assert [c.path for c in edits(fake)] == [f"/repos/{REPO}/issues/comments/{stale.id}"]


async def test_busy_owners_are_skipped(fake_github, database_url, tmp_path):
    fake = fake_github
    fake.add_repo(REPO, files={"CODEOWNERS": "src/core/ @erin\n"})
    for login in ("alice", "bob", "erin", "ann"):
        fake.add_user(login)
        fake.set_permission(REPO, login, "write")
    fake.add_pull(REPO, user="bob", requested_reviewers=["alice"], files=["x"])
    rules = write_rules(tmp_path / "rules", reviewers={"max_per_pr": 3, "max_open_reviews": 1})
    async with BotHarness(fake, database_url=database_url, rules_dir=rules) as bot:
        pr = fake.add_pull(REPO, user="ann", files=["src/core/a.py"])
        await send(bot, pr.number, "opened")
        # alice already has one open review request (the limit); erin comes from CODEOWNERS
        assert fake.issue(REPO, pr.number).pull.requested_reviewers == ["bob", "erin"]
        queries = [c.query["q"] for c in fake.calls_to("GET", "/search/issues")]
        assert "is:pr is:open review-requested:alice org:octo" in queries


@pytest.mark.parametrize("closer,merged", [("bot itself", False), ("stale[bot]", False),
                                           ("mergify[bot]", True)])
async def test_a_close_by_a_bot_ends_review_requests_and_a_bot_merge_counts(bot, closer, merged):
    # /close is the bot's own, stale bots close and merge bots merge: facts whoever made them.
    fake = bot.fake
    closer = fake.bot_login if closer == "bot itself" else closer
    fake.add_user(closer, type="Bot")
    pr = fake.add_pull(REPO, user="ann", files=["src/core/engine.py"])
    await send(bot, pr.number, "opened")
    requests = "SELECT login, active FROM pr_context_review_requests"
    assert {(r["login"], r["active"]) for r in await bot.runtime.db.fetchall(requests)} == \
        {("alice", 1), ("bob", 1)}
    pull = fake.issue(REPO, pr.number)
    pull.state = "closed"
    pull.pull.merged = merged
    pull.pull.merged_at = "2026-01-02T03:04:05Z" if merged else None
    await send(bot, pr.number, "closed", sender=closer)
    assert {(r["login"], r["active"]) for r in await bot.runtime.db.fetchall(requests)} == \
        {("alice", 0), ("bob", 0)}
    merges = await bot.runtime.db.fetchall("SELECT login FROM pr_context_merged")
    assert [r["login"] for r in merges] == (["ann"] if merged else [])


async def test_drafts_wait_and_ready_for_review_brings_the_card(bot):
    fake = bot.fake
    pr = fake.add_pull(REPO, user="ann", draft=True, files=["src/core/a.py"])
    await send(bot, pr.number, "opened")
    assert cards(fake, pr.number) == []
    fake.issue(REPO, pr.number).pull.draft = False
    await send(bot, pr.number, "ready_for_review")
    assert len(cards(fake, pr.number)) == 1
    assert fake.issue(REPO, pr.number).pull.requested_reviewers == ["alice", "bob"]


async def test_returning_contributor_gets_no_welcome(bot):
    fake = bot.fake
    fake.add_pull(REPO, user="ann", merged=True, files=["docs/old.md"])
    pr = fake.add_pull(REPO, user="ann", files=["docs/new.md"])
    await send(bot, pr.number, "opened")
    assert "Welcome" not in cards(fake, pr.number)[0].body
    assert fake.issue(REPO, pr.number).pull.requested_reviewers == ["dora"]


async def test_body_section_mode_leaves_the_authors_text(fake_github, database_url, tmp_path):
    fake = fake_github
    fake.add_repo(REPO)
    fake.add_user("ann")
    rules = write_rules(tmp_path / "rules", card="body",
                        reviewers={"enabled": False}, labels={"enabled": False})
    async with BotHarness(fake, database_url=database_url, rules_dir=rules) as bot:
        pr = fake.add_pull(REPO, user="ann", body="Fixes the @parser.\n\nDetails here.",
                           files=["src/core/a.py"])
        await send(bot, pr.number, "opened")
        body = fake.issue(REPO, pr.number).body
        assert body.startswith("Fixes the @parser.\n\nDetails here.\n\n<!-- contributor-flow:context-card:start -->")
        assert "- [ ] Core stays pure." in body and body.rstrip().endswith(":end -->")
        assert not fake.issue(REPO, pr.number).comments
        # the author ticks an item and edits their own text; the card keeps the tick
        fake.issue(REPO, pr.number).body = body.replace("- [ ] Core stays pure.", "- [x] Core stays pure.") \
            .replace("Details here.", "More details.")
        await send(bot, pr.number, "synchronize")
        await send(bot, pr.number, "synchronize")
        body = fake.issue(REPO, pr.number).body
        assert body.startswith("Fixes the @parser.\n\nMore details.")
        assert "- [x] Core stays pure." in body and body.count(":start -->") == 1
        assert len(fake.calls_to("PATCH", ISSUE_URL)) == 1   # only the first rendering wrote


async def test_cla_verdict_reaches_the_card_when_its_check_completes(fake_github, database_url, tmp_path):
    """With the real CLA feature on: the card written on opening cannot know the verdict the
    CLA feature records in the same delivery; the CLA check's completion refreshes it."""
    fake = fake_github
    fake.add_repo(REPO)
    fake.add_user("ann")
    rules = Path(write_rules(tmp_path / "rules", reviewers={"enabled": False}))
    (rules / "cla.yml").write_text((Path(BUNDLED_RULES) / "cla.yml").read_text())
    async with BotHarness(fake, database_url=database_url, rules_dir=str(rules)) as bot:
        pr = fake.add_pull(REPO, user="ann", files=["docs/a.md"])
        await send(bot, pr.number, "opened")
        assert "CLA:" not in cards(fake, pr.number)[0].body
        run = next(r for r in fake.state.check_runs.values() if r.name == "cla")
        payload = retarget(load_example("check_run", "created"), REPO, fake)
        payload["repository"] = {**payload["repository"], **fake.serializer.repo(fake.repo(REPO))}
        payload["check_run"] = {**fake.serializer.check_run(run), "pull_requests": [
            {"number": pr.number, "head": {"sha": run.head_sha}, "base": {"ref": "main"}}]}
        payload["sender"] = fake.serializer.user(fake.bot_login)
        await bot.deliver("check_run", payload)
        card = cards(fake, pr.number)[0].body
        assert "- CLA: ❌ waiting for `ann` to sign" in card
        assert len(cards(fake, pr.number)) == 1


async def test_one_stale_owner_does_not_block_review_requests(fake_github, database_url, tmp_path):
    """"gone" left the project: GitHub refuses any request naming them (422). The others are
    asked all the same; gone is not recorded as asked and does not hold a slot later."""
    fake = fake_github
    fake.add_repo(REPO, files={".github/CODEOWNERS": "src/core/ @erin\n"})
    for login in ("alice", "bob", "erin", "ann", "gone"):
        fake.add_user(login)
    for login in ("alice", "bob", "erin"):
        fake.set_permission(REPO, login, "write")
    fake.add_user(fake.bot_login, type="Bot")
    comps = [{**COMPONENTS["components"][0], "owners": ["gone", "alice"]},
             {"name": "docs", "paths": ["docs/"], "owners": ["bob"]}]
    rules = write_rules(tmp_path / "rules", components=comps, reviewers={"max_per_pr": 3})
    async with BotHarness(fake, database_url=database_url, rules_dir=rules) as bot:
        pr = fake.add_pull(REPO, user="ann", files=["src/core/a.py"])
        await send(bot, pr.number, "opened")
        assert fake.issue(REPO, pr.number).pull.requested_reviewers == ["alice", "erin"]
        rows = await bot.runtime.db.fetchall("SELECT login FROM pr_context_review_requests ORDER BY login")
        assert [r["login"] for r in rows] == ["alice", "erin"]
        # a push touching docs: the third slot goes to bob, gone is not tried again
        fake.issue(REPO, pr.number).pull.files.append(type(pr.pull.files[0])(filename="docs/x.md"))
        posts = len(fake.calls_to("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"))
        await send(bot, pr.number, "synchronize")
        assert fake.issue(REPO, pr.number).pull.requested_reviewers == ["alice", "erin", "bob"]
        later = fake.calls_to("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")[posts:]
        assert [c.json for c in later] == [{"reviewers": ["bob"]}]


async def test_cla_verdict_reaches_the_card_of_a_fork_pr(fake_github, database_url, tmp_path):
    """A check run on a fork's branch comes with an empty pull_requests list: the card is
    found by the run's head commit, which the card's feature stored when it wrote the card."""
    fake = fake_github
    fake.add_repo(REPO)
    fake.add_repo("ann/repo")
    fake.add_user("ann")
    rules = Path(write_rules(tmp_path / "rules", reviewers={"enabled": False}))
    (rules / "cla.yml").write_text((Path(BUNDLED_RULES) / "cla.yml").read_text())
    async with BotHarness(fake, database_url=database_url, rules_dir=str(rules)) as bot:
        pr = fake.add_pull(REPO, user="ann", files=["docs/a.md"], head_repo="ann/repo")
        await send(bot, pr.number, "opened")
        assert "CLA:" not in cards(fake, pr.number)[0].body
        run = next(r for r in fake.state.check_runs.values() if r.name == "cla")
        payload = retarget(load_example("check_run", "completed"), REPO, fake)
        payload["repository"] = {**payload["repository"], **fake.serializer.repo(fake.repo(REPO))}
        payload["check_run"] = {**fake.serializer.check_run(run), "pull_requests": []}
        payload["sender"] = fake.serializer.user(fake.bot_login)
        await bot.deliver("check_run", payload)
        assert "- CLA: ❌" in cards(fake, pr.number)[0].body
        assert len(cards(fake, pr.number)) == 1
        assert not [c for c in fake.calls_to("GET", "/search/issues") if run.head_sha in c.query["q"]]


@BOTH_BACKENDS
async def test_a_reopen_by_the_bots_own_reopen_command_brings_the_card_up_to_date(fake_github, database_url,
                                                                                    tmp_path):
    """A maintainer's `/close` and `/reopen` are carried out by the bot, so GitHub names the bot
    as the sender of ``closed`` and ``reopened``. The card follows the reopen all the same: the
    push made while the PR was closed shows on it (its component, owner and area label)."""
    fake = fake_github
    fake.add_repo(REPO)
    for login in ("alice", "bob", "dora", "carol", "ann"):
        fake.add_user(login)
        fake.set_permission(REPO, login, "write" if login != "ann" else "read")
    fake.add_user(fake.bot_login, type="Bot")
    rules = Path(write_rules(tmp_path / "rules"))
    (rules / "commands.yml").write_text((Path(BUNDLED_RULES) / "commands.yml").read_text())
    async with BotHarness(fake, database_url=database_url, rules_dir=str(rules)) as bot:
        pr = fake.add_pull(REPO, user="ann", files=["src/core/engine.py"])
        await send(bot, pr.number, "opened")
        assert "docs" not in cards(fake, pr.number)[0].body

        await bot.comment(REPO, pr.number, "/close", "carol")
        assert fake.issue(REPO, pr.number).state == "closed"
        await send(bot, pr.number, "closed", sender=fake.bot_login)
        # While it is closed, the author pushes a change to the docs.
        fake.push_commit(pr, message="Document the engine")
        pr.pull.files.append(type(pr.pull.files[0])(filename="docs/engine.md"))
        await bot.comment(REPO, pr.number, "/reopen", "carol")
        assert fake.issue(REPO, pr.number).state == "open"
        await send(bot, pr.number, "reopened", sender=fake.bot_login)

        [card] = cards(fake, pr.number)
        assert "| **docs** | [dora](https://github.com/dora) | 1 |" in card.body and "docs/engine.md" in card.body
        assert sorted(fake.issue(REPO, pr.number).labels) == ["area/core", "area/docs"]
        head = await bot.runtime.db.fetchval("SELECT head_sha FROM pr_context_heads WHERE number = ?",
                                             (pr.number,))
        assert head == pr.pull.head_sha
        # The review requests the close ended count again: GitHub still lists them.
        assert fake.issue(REPO, pr.number).pull.requested_reviewers == ["alice", "bob"]
        assert await active_requests(bot, pr.number) == {"alice": True, "bob": True}
        assert fake.violations == []


async def active_requests(bot, number: int) -> dict[str, bool]:
    rows = await bot.runtime.db.fetchall(
        "SELECT login, active FROM pr_context_review_requests WHERE repo = ? AND number = ?", (REPO, number))
    return {r["login"]: bool(r["active"]) for r in rows}


async def test_another_bots_reopen_gets_no_card_as_its_opening_got_none(bot):
    """Bots not in ``core.allowed_bots`` get no card, labels or reviewers on opening, nor on
    reopening; their close is still heard (a fact: it ends review requests)."""
    fake = bot.fake
    fake.add_user("dependabot[bot]", type="Bot")
    pr = fake.add_pull(REPO, user="dependabot[bot]", files=["src/core/engine.py"])
    await send(bot, pr.number, "opened")
    assert cards(fake, pr.number) == []
    fake.issue(REPO, pr.number).state = "closed"
    await send(bot, pr.number, "closed")
    fake.issue(REPO, pr.number).state = "open"
    await send(bot, pr.number, "reopened")
    assert cards(fake, pr.number) == [] and fake.issue(REPO, pr.number).labels == []
    assert fake.issue(REPO, pr.number).pull.requested_reviewers == []


async def test_a_check_completing_while_the_card_is_first_written_makes_no_second_card(bot, monkeypatch):
    """A check run's delivery (subject: the repository) runs beside the PR's own (subject: the
    PR). Here it comes while the opening's card is being posted: both found no card, and both
    posted one. Only the PR's events create the card; a check's completion edits it."""
    fake = bot.fake
    key = ("POST", COMMENTS_URL)
    original = HANDLERS[key]
    posting, release = asyncio.Event(), asyncio.Event()

    async def hold_the_first_card(ctx):
        if MARKER in str((ctx.body or {}).get("body")) and not posting.is_set():
            posting.set()
            await release.wait()
        result = original(ctx)
        return await result if inspect.isawaitable(result) else result

    monkeypatch.setitem(HANDLERS, key, hold_the_first_card)
    pr = fake.add_pull(REPO, user="ann", files=["src/core/engine.py"])
    opened = await send(bot, pr.number, "opened", wait=False)
    await asyncio.wait_for(posting.wait(), 15)
    # Its delivery waits for the card being posted (it is decided again once it is there).
    checked = await send_check(bot, pr.number, wait=False)
    await asyncio.sleep(0.5)
    release.set()
    await bot.wait_for(opened)
    assert await bot.wait_for(checked) == "done"
    assert len(cards(fake, pr.number)) == 1
    # Once it is there, a check's completion refreshes it in place.
    await send_check(bot, pr.number)
    assert len(cards(fake, pr.number)) == 1
    assert fake.violations == []


@pytest.mark.parametrize("mode", ["comment", "body"])
async def test_a_check_completing_on_another_bots_pr_gives_it_no_card(fake_github, database_url, tmp_path, mode):
    """dependabot's PR got no card on opening; its CI checks completing give it none either."""
    fake = fake_github
    fake.add_repo(REPO)
    fake.add_user("dependabot[bot]", type="Bot")
    fake.add_user(fake.bot_login, type="Bot")
    rules = write_rules(tmp_path / "rules", card=mode)
    async with BotHarness(fake, database_url=database_url, rules_dir=rules) as bot:
        pr = fake.add_pull(REPO, user="dependabot[bot]", files=["src/core/engine.py"], body="Bumps x.")
        await send(bot, pr.number, "opened")
        await send_check(bot, pr.number)
        assert cards(fake, pr.number) == [] and fake.issue(REPO, pr.number).body == "Bumps x."
        assert fake.violations == []


async def test_another_bots_reopen_of_a_persons_pr_counts_its_requests_again_and_shows_nothing(bot):
    """A stale bot closes a person's PR and reopens it (not in ``core.allowed_bots``): nothing
    visible follows the reopen, but the requests GitHub still lists count as load again,
    as after anyone's reopen (the close that ended them was heard whoever made it)."""
    fake = bot.fake
    fake.add_user("stale[bot]", type="Bot")
    pr = fake.add_pull(REPO, user="ann", files=["src/core/engine.py"])
    await send(bot, pr.number, "opened")
    [card] = cards(fake, pr.number)
    fake.issue(REPO, pr.number).state = "closed"
    await send(bot, pr.number, "closed", sender="stale[bot]")
    assert await active_requests(bot, pr.number) == {"alice": False, "bob": False}
    # While it is closed, a push adds the docs; the bot's reopen would show them.
    pr.pull.files.append(type(pr.pull.files[0])(filename="docs/engine.md"))
    calls = len(fake.calls)
    fake.issue(REPO, pr.number).state = "open"
    await send(bot, pr.number, "reopened", sender="stale[bot]")
    assert await active_requests(bot, pr.number) == {"alice": True, "bob": True}
    assert [c.path for c in fake.calls[calls:] if c.method != "GET" and "access_tokens" not in c.path] == []
    assert cards(fake, pr.number)[0].body == card.body
    assert fake.issue(REPO, pr.number).labels == ["area/core"]
    assert fake.violations == []


async def test_a_persons_reopen_brings_back_only_the_requests_github_still_has(bot):
    fake = bot.fake
    pr = fake.add_pull(REPO, user="ann", files=["src/core/engine.py"])
    await send(bot, pr.number, "opened")
    assert fake.issue(REPO, pr.number).pull.requested_reviewers == ["alice", "bob"]
    fake.issue(REPO, pr.number).state = "closed"
    await send(bot, pr.number, "closed", sender="carol")
    assert await active_requests(bot, pr.number) == {"alice": False, "bob": False}
    # While it is closed, bob's request is withdrawn (its webhook lost, say).
    fake.issue(REPO, pr.number).pull.requested_reviewers.remove("bob")
    fake.issue(REPO, pr.number).state = "open"
    await send(bot, pr.number, "reopened", sender="carol")
    assert await active_requests(bot, pr.number) == {"alice": True, "bob": False}
    assert fake.issue(REPO, pr.number).pull.requested_reviewers == ["alice"]   # bob not asked again
    assert fake.violations == []


async def _card_with_codeowners(fake_github, database_url, tmp_path, text: str) -> str:
    fake = fake_github
    fake.add_repo(REPO, files={".github/CODEOWNERS": text})
    for login in ("alice", "bob", "erin", "ann"):
        fake.add_user(login)
        fake.set_permission(REPO, login, "write")
    async with BotHarness(fake, database_url=database_url, rules_dir=write_rules(tmp_path / "rules")) as bot:
        pr = fake.add_pull(REPO, user="ann", files=["src/core/a.py"])
        await send(bot, pr.number, "opened")
        [card] = cards(fake, pr.number)
        assert fake.violations == []
        return card.body


async def test_a_codeowners_file_over_1_mb_is_read_through_the_blob_api(fake_github, database_url, tmp_path):
    """GitHub's contents API leaves ``content`` empty from 1 MB (up to 100 MB)."""
    text = "# owners of a large monorepo\n" * 50_000 + "src/core/ @erin\n"
    assert 1024 * 1024 < len(text) < 3 * 1024 * 1024
    card = await _card_with_codeowners(fake_github, database_url, tmp_path, text)
    assert "[erin](https://github.com/erin)" in card
    assert fake_github.calls_to("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}")


async def test_a_codeowners_file_over_3_mb_is_ignored_as_github_does(fake_github, database_url, tmp_path, caplog):
    text = "src/core/ @erin\n" + "# owners of a larger monorepo\n" * 110_000
    assert len(text) > 3 * 1024 * 1024
    card = await _card_with_codeowners(fake_github, database_url, tmp_path, text)
    assert "erin" not in card and "**Components touched**" in card
    assert "CODEOWNERS" in card and "3 MB" in card
    assert not fake_github.calls_to("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}")


async def test_a_check_completing_while_the_card_is_first_posted_reaches_the_card(fake_github, database_url,
                                                                                tmp_path, monkeypatch):
    """The CLA check completes while the opening's card is being posted: its delivery finds no
    card to edit yet. The card still comes to show the verdict, without waiting for another event."""
    fake = fake_github
    fake.add_repo(REPO)
    fake.add_user("ann")
    rules = Path(write_rules(tmp_path / "rules", reviewers={"enabled": False}))
    (rules / "cla.yml").write_text((Path(BUNDLED_RULES) / "cla.yml").read_text())
    key = ("POST", COMMENTS_URL)
    original = HANDLERS[key]
    posting, release = asyncio.Event(), asyncio.Event()

    async def hold_the_first_card(ctx):
        if MARKER in str((ctx.body or {}).get("body")) and not posting.is_set():
            posting.set()
            await release.wait()
        result = original(ctx)
        return await result if inspect.isawaitable(result) else result

    monkeypatch.setitem(HANDLERS, key, hold_the_first_card)
    async with BotHarness(fake, database_url=database_url, rules_dir=str(rules)) as bot:
        pr = fake.add_pull(REPO, user="ann", files=["docs/a.md"])
        opened = await send(bot, pr.number, "opened", wait=False)
        await asyncio.wait_for(posting.wait(), 15)
        # The verdict is recorded; the check run reporting it completes now (the CLA feature's
        # own is posted after the card, but GitHub may deliver a check's completion any time).
        run = fake.add_check_run(REPO, "cla", pr.pull.head_sha, status="completed", conclusion="action_required")
        payload = retarget(load_example("check_run", "created"), REPO, fake)
        payload["action"] = "completed"
        payload["repository"] = {**payload["repository"], **fake.serializer.repo(fake.repo(REPO))}
        payload["check_run"] = {**fake.serializer.check_run(run), "pull_requests": [
            {"number": pr.number, "head": {"sha": run.head_sha}, "base": {"ref": "main"}}]}
        payload["sender"] = fake.serializer.user(fake.bot_login)
        checked = await bot.deliver("check_run", payload, wait=False)
        await asyncio.sleep(1.0)  # the check's delivery is decided while the card is held
        release.set()
        await bot.wait_for(opened)
        await bot.settle(timeout=20)
        assert await bot.status(checked) == "done"
        [card] = cards(fake, pr.number)
        assert "- CLA: ❌ waiting for `ann` to sign" in card.body
        assert fake.violations == []
