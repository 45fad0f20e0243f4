"""CLA end to end: the real bot over real HTTP against the fake GitHub, which validates every
request (check runs included) against GitHub's OpenAPI description."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.features.cla import store
from bot.settings import BUNDLED_RULES
from tests.conftest import BOTH_BACKENDS
from tests.fixtures.webhooks import load_example

from .harness import BotHarness, retarget

REPO = "octo/repo"
PHRASE = "I have read the CLA Document and I hereby sign the CLA"
MARKER = "<!-- contributor-flow:cla -->"


@pytest.fixture
def rules_dir(tmp_path) -> str:
    """Only core.yml and cla.yml, so rule files of features being built elsewhere do not
    matter; dependabot's events are processed (a bot PR still needs its cla check)."""
    out = tmp_path / "rules"
    out.mkdir()
    shutil.copy(Path(BUNDLED_RULES) / "cla.yml", out / "cla.yml")
    core = yaml.safe_load((Path(BUNDLED_RULES) / "core.yml").read_text())
    core["allowed_bots"] = ["dependabot[bot]"]
    (out / "core.yml").write_text(yaml.safe_dump(core))
    return str(out)


@pytest.fixture
async def bot(fake_github, database_url, rules_dir):
    fake_github.add_repo(REPO)
    fake_github.add_user("bob", emails=["bob@corp.example"])
    for login in ("alice", "carol"):
        fake_github.add_user(login)
    fake_github.add_user("dependabot[bot]", type="Bot", emails=["dependabot@github.example"])
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


def pr_event(fake, number: int, action: str = "opened", sender: str | None = None) -> dict:
    issue = fake.issue(REPO, number)
    payload = retarget(load_example("pull_request", action), REPO, fake)
    payload["pull_request"] = fake.serializer.pull(issue)
    payload["number"] = number
    payload["sender"] = fake.serializer.user(sender or issue.user)
    return payload


async def comment(bot, number: int, body: str, user: str) -> None:
    await bot.comment(REPO, number, body, user)


def runs(fake, head_sha: str):
    return [r for r in fake.state.check_runs.values() if r.head_sha == head_sha and r.name == "cla"]


def labels(fake, number: int) -> set[str]:
    return set(fake.issue(REPO, number).labels)


def bot_comments(fake, number: int):
    return [c for c in fake.issue(REPO, number).comments if MARKER in c.body]


@BOTH_BACKENDS
async def test_co_author_flow_signatures_after_the_pr_recheck_without_a_push(bot):
    fake = bot.fake
    # bob has a commit on a default branch (a merged pull request): commit search, which
    # searches default branches only, links the trailer's email.
    fake.add_pull("octo/elsewhere", user="bob", merged=True,
                  commits=[{"message": "Bob's own work", "author": "bob"}])
    pr = fake.add_pull(REPO, user="alice", commits=[
        {"message": "Pair work\n\nCo-authored-by: Bob <bob@corp.example>", "author": "alice"}])
    head = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr.number))

    [run] = runs(fake, head)
    assert (run.status, run.conclusion) == ("completed", "action_required")
    assert "`alice`" in run.output["summary"] and "`bob`" in run.output["summary"]
    assert labels(fake, pr.number) == {"cla: no"}
    [card] = bot_comments(fake, pr.number)
    assert "@alice" in card.body and "@bob" in card.body and PHRASE in card.body

    await comment(bot, pr.number, PHRASE.upper() + "!", "alice")
    [run] = runs(fake, head)
    assert run.conclusion == "action_required" and "`alice`" not in run.output["summary"].split("### Covered")[0]
    signing = fake.issue(REPO, pr.number).comments[-1]
    assert [r.content for r in signing.reactions] == ["+1"]

    # bob signs on another PR of the repository: this one is re-checked anyway
    other = fake.add_pull(REPO, user="carol", head_ref="other", commits=[{"message": "x", "author": "carol"}])
    await comment(bot, other.number, PHRASE, "bob")
    [run] = runs(fake, head)
    assert run.conclusion == "success" and run.output["title"] == "Everyone has signed the CLA"
    assert labels(fake, pr.number) == {"cla: yes"}
    [card] = bot_comments(fake, pr.number)          # one comment, edited in place
    assert "CLA check passed" in card.body
    created = [c for c in fake.calls_to("POST", "/repos/{owner}/{repo}/check-runs") if c.json["head_sha"] == head]
    assert len(created) == 1                        # created once, then updated
    assert fake.calls_to("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
    assert fake.calls_to("GET", "/search/commits")

    rows = await store.all_signatures(bot.runtime.db)
    assert {(r["login"], r["version"]) for r in rows} == {("alice", "1"), ("bob", "1")}
    assert all(r["comment_url"].startswith(f"https://github.com/{REPO}/issues/") for r in rows)


async def test_unlinked_email_and_allowlisted_bot(bot):
    fake = bot.fake
    pr = fake.add_pull(REPO, user="alice", commits=[
        {"message": "From my laptop", "author": "me@laptop.local"}])
    await bot.deliver("pull_request", pr_event(fake, pr.number))
    [run] = runs(fake, pr.pull.head_sha)
    assert run.conclusion == "failure"
    sha = pr.pull.commits[0].sha[:7]
    for text in (run.output["summary"], bot_comments(fake, pr.number)[0].body):
        assert f"`{sha}`" in text and "`me@laptop.local`" in text
        assert "add the email to your GitHub account" in text and "amend the commit" in text

    bump = fake.add_pull(REPO, user="dependabot[bot]", head_ref="deps",
                         commits=[{"message": "Bump x", "author": "dependabot[bot]"}])
    await bot.deliver("pull_request", pr_event(fake, bump.number))
    [run] = runs(fake, bump.pull.head_sha)
    assert run.conclusion == "success" and labels(fake, bump.number) == {"cla: yes"}
    assert not bot_comments(fake, bump.number)


async def test_version_bump_in_the_repo_override_asks_again(bot):
    fake = bot.fake
    await store.sign(bot.runtime.db, agreement="octo", user_id=fake.state.users["alice"].id,
                     login="alice", version="1", signed_at=1.0)
    fake.put_file(REPO, ".github/contributor-flow.yml", "cla:\n  version: 2\n")
    pr = fake.add_pull(REPO, user="alice", commits=[{"message": "x", "author": "alice"}])
    await bot.deliver("pull_request", pr_event(fake, pr.number))
    [run] = runs(fake, pr.pull.head_sha)
    assert run.conclusion == "action_required"
    assert "signed version 1; the CLA is now version 2" in run.output["summary"]
    await comment(bot, pr.number, PHRASE, "alice")
    assert runs(fake, pr.pull.head_sha)[0].conclusion == "success"


async def test_dco_pass_and_fail(bot):
    fake = bot.fake
    fake.put_file(REPO, ".github/contributor-flow.yml", "cla:\n  mode: dco\n")
    good = fake.add_pull(REPO, user="alice", head_ref="good", commits=[
        {"message": "Fix\n\nSigned-off-by: Alice <alice@example.com>", "author": "alice"}])
    bad = fake.add_pull(REPO, user="alice", head_ref="bad", commits=[
        {"message": "Fix\n\nSigned-off-by: Alice <alice@example.com>", "author": "alice"},
        {"message": "Oops", "author": "alice"}])
    await bot.deliver("pull_request", pr_event(fake, good.number))
    await bot.deliver("pull_request", pr_event(fake, bad.number))
    assert runs(fake, good.pull.head_sha)[0].conclusion == "success"
    [run] = runs(fake, bad.pull.head_sha)
    assert run.conclusion == "failure" and run.output["title"] == "1 commit without a matching Signed-off-by"
    assert f"`{bad.pull.commits[1].sha[:7]}`" in run.output["summary"]


async def test_300_commit_pr_is_walked_past_the_250_listing(bot):
    fake = bot.fake
    await store.sign(bot.runtime.db, agreement="octo", user_id=fake.state.users["alice"].id,
                     login="alice", version="1", signed_at=1.0)
    commits = [{"message": f"step {i}", "author": "alice"} for i in range(299)]
    commits.append({"message": "the last one", "author": "bob@corp.example"})
    pr = fake.add_pull(REPO, user="alice", commits=commits)
    await bot.deliver("pull_request", pr_event(fake, pr.number), timeout=30)
    [run] = runs(fake, pr.pull.head_sha)
    assert run.conclusion == "action_required"
    assert "`bob`" in run.output["summary"] and "300 commits checked" in run.output["summary"]
    assert len(fake.calls_to("GET", "/repos/{owner}/{repo}/compare/{basehead}")) == 3  # 100 a page
    await comment(bot, pr.number, PHRASE, "bob")
    assert runs(fake, pr.pull.head_sha)[0].conclusion == "success"


async def test_fake_commit_search_links_emails_like_github(fake_github):
    import aiohttp

    fake_github.add_user("bob", emails=["bob@corp.example"])
    # Commit search looks at default branches only: the pull request is merged.
    fake_github.add_pull("o/r", user="bob", merged=True, commits=[
        {"message": "x", "author": "bob"}, {"message": "y", "author": "x@nowhere.example"}])
    token = fake_github.installation_token()
    async with aiohttp.ClientSession(headers={"Authorization": f"token {token}"}) as s:
        async with s.get(f"{fake_github.url}/search/commits",
                         params={"q": "author-email:BOB@corp.example", "per_page": "1"}) as r:
            data = await r.json()
        assert data["total_count"] == 1 and data["items"][0]["author"]["login"] == "bob"
        async with s.get(f"{fake_github.url}/search/commits", params={"q": "author-email:x@nowhere.example"}) as r:
            data = await r.json()
        assert data["items"][0]["author"] is None


async def test_commands_recheck_and_record_through_the_commands_feature(bot):
    fake = bot.fake
    fake.set_permission(REPO, "carol", "maintain")
    pr = fake.add_pull(REPO, user="alice", commits=[{"message": "x", "author": "alice"}])
    await bot.deliver("pull_request", pr_event(fake, pr.number))
    assert runs(fake, pr.pull.head_sha)[0].conclusion == "action_required"

    # a signature recorded straight in the store (e.g. imported) is seen by /cla recheck
    await store.sign(bot.runtime.db, agreement="octo", user_id=fake.state.users["alice"].id,
                     login="alice", version="1", signed_at=1.0)
    await comment(bot, pr.number, "/cla recheck", "alice")
    assert runs(fake, pr.pull.head_sha)[0].conclusion == "success"

    second = fake.add_pull(REPO, user="bob", head_ref="b", commits=[{"message": "y", "author": "bob"}])
    await bot.deliver("pull_request", pr_event(fake, second.number))
    await comment(bot, second.number, "/cla record @bob", "alice")       # not a maintainer
    assert runs(fake, second.pull.head_sha)[0].conclusion == "action_required"
    refusal = fake.issue(REPO, second.number).comments[-1]
    assert refusal.user == fake.bot_login and "only maintainers" in refusal.body
    await comment(bot, second.number, "/cla record @bob", "carol")
    assert runs(fake, second.pull.head_sha)[0].conclusion == "success"
    rows = {r["login"]: r for r in await store.all_signatures(bot.runtime.db)}
    assert rows["bob"]["recorded_by"] == "carol"


@BOTH_BACKENDS
async def test_re_run_rechecks_every_pull_request_github_lists_on_the_check_run(bot):
    """"Re-run" on the CLA check: the handler takes the pull requests GitHub lists on the check
    run (those based in this repository, compared by repository id), not the one PR on record
    for its head. Here one branch is proposed to main and to a release branch, so two PRs share
    the head and the check run; a signature recorded outside the bot (imported from an earlier
    CLA service) must turn both green."""
    fake = bot.fake
    main_pr = fake.add_pull(REPO, user="alice", head_ref="fix",
                            commits=[{"message": "Fix", "author": "alice"}])
    backport = fake.add_pull(REPO, user="alice", head_ref="fix", base_ref="release",
                             head_sha=main_pr.pull.head_sha, commits=main_pr.pull.commits)
    head = main_pr.pull.head_sha
    for pr in (main_pr, backport):
        await bot.deliver("pull_request", pr_event(fake, pr.number))
    [run] = runs(fake, head)
    assert run.conclusion == "action_required"
    assert labels(fake, main_pr.number) == labels(fake, backport.number) == {"cla: no"}

    await store.sign(bot.runtime.db, agreement="octo", user_id=fake.state.users["alice"].id,
                     login="alice", version="1", signed_at=1.0, recorded_by="import")
    rerun = retarget(load_example("check_run", "rerequested"), REPO, fake)
    rerun["check_run"] = fake.serializer.check_run(run)         # as GitHub sends it
    rerun["sender"] = fake.serializer.user("carol")
    assert rerun["repository"]["id"] == fake.repo(REPO).id
    listed = rerun["check_run"]["pull_requests"]
    assert sorted(p["number"] for p in listed) == [main_pr.number, backport.number]
    assert {p["base"]["repo"]["id"] for p in listed} == {fake.repo(REPO).id}
    await bot.deliver("check_run", rerun)

    [run] = runs(fake, head)
    assert run.conclusion == "success"
    assert labels(fake, main_pr.number) == labels(fake, backport.number) == {"cla: yes"}
    assert fake.violations == []


async def test_cli_export(bot, tmp_path):
    import asyncio
    import csv
    import io
    import json
    import os
    import sys

    db = bot.runtime.db
    await store.sign(db, agreement="octo", user_id=7, login="alice", version="1", signed_at=1_764_151_200.0,
                     comment_url="https://github.com/octo/repo/pull/1#issuecomment-9", repo=REPO)
    env = {**os.environ, "DATABASE_URL": bot.settings.database_url, "BOT_RULES_DIR": bot.settings.rules_dir}
    outputs = {}
    for fmt in ("json", "csv"):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "cla", "export", "--format", fmt, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        outputs[fmt] = out.decode()
    [row] = json.loads(outputs["json"])
    assert row["login"] == "alice" and row["user_id"] == 7 and row["signed_at"] == "2025-11-26T10:00:00Z"
    assert row["comment_url"].endswith("#issuecomment-9")
    assert list(csv.DictReader(io.StringIO(outputs["csv"])))[0]["version"] == "1"


# --- GitHub's noreply addresses ------------------------------------------------------------
# `ID+login@users.noreply.github.com` names an account by its id (GitHub links commits by the
# id, so the login part may be an old name); `login@users.noreply.github.com` (accounts from
# before July 2017) by the login it names today. The check names the account GitHub has now.

NOREPLY = "users.noreply.github.com"


def summary_of(fake, head: str) -> str:
    [run] = runs(fake, head)
    return run.output["summary"]


def waiting_part(summary: str) -> str:
    """The part of a summary that lists who must still sign (before the covered list)."""
    return summary.split("### Covered")[0]


@pytest.mark.parametrize("role", ["co-author", "author"])
async def test_an_id_noreply_address_is_looked_up_and_its_account_signs(bot, role):
    fake = bot.fake
    dana = fake.add_user("dana", emails=["dana@private.example"])
    address = f"{dana.id}+dana@{NOREPLY}"
    await store.sign(bot.runtime.db, agreement="octo", user_id=fake.state.users["alice"].id,
                     login="alice", version="1", signed_at=1.0)
    commit = ({"message": f"Pair work\n\nCo-authored-by: Dana <{address}>", "author": "alice"}
              if role == "co-author" else {"message": "Dana's work", "author": address})
    pr = fake.add_pull(REPO, user="alice", commits=[commit])
    head = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr.number))

    [run] = runs(fake, head)
    assert run.conclusion == "action_required"       # signing is all that is left: no push
    assert "`dana`" in waiting_part(run.output["summary"]) and "not linked" not in run.output["summary"]
    assert "@dana" in bot_comments(fake, pr.number)[0].body
    lookups = [c.path for c in fake.calls_to("GET", "/user/{account_id}", ok_only=True)]
    # A co-author's address is looked up by its id; a commit author's is GitHub's own link.
    assert lookups == ([f"/user/{dana.id}"] if role == "co-author" else [])

    await comment(bot, pr.number, PHRASE, "dana")
    [run] = runs(fake, head)
    assert run.conclusion == "success" and labels(fake, pr.number) == {"cla: yes"}
    rows = await store.all_signatures(bot.runtime.db)
    assert ("dana", dana.id) in {(r["login"], r["user_id"]) for r in rows}


@pytest.mark.parametrize("role", ["co-author", "author"])
async def test_an_old_style_noreply_address_names_the_account_by_its_login(bot, role):
    fake = bot.fake
    # Written in the account's own spelling: GitHub's logins are case-insensitive.
    fake.add_user("Erin", emails=["erin@private.example"])
    address = f"Erin@{NOREPLY}"
    commit = ({"message": f"Pair work\n\nCo-authored-by: Erin <{address}>", "author": "alice"}
              if role == "co-author" else {"message": "Erin's work", "author": address})
    await store.sign(bot.runtime.db, agreement="octo", user_id=fake.state.users["alice"].id,
                     login="alice", version="1", signed_at=1.0)
    pr = fake.add_pull(REPO, user="alice", commits=[commit])
    head = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr.number))

    [run] = runs(fake, head)
    assert run.conclusion == "action_required"
    assert "`Erin`" in waiting_part(run.output["summary"]) and "not linked" not in run.output["summary"]
    await comment(bot, pr.number, PHRASE, "Erin")
    assert runs(fake, head)[0].conclusion == "success"


@pytest.mark.parametrize("role", ["co-author", "author"])
async def test_a_renamed_accounts_noreply_address_counts_for_the_id_not_the_old_login(bot, role):
    """The address still carries the old login, which someone else has taken since: GitHub
    keys on the id, so the renamed account (frank-new) must sign, and the new holder of the
    old name (frank) signing changes nothing."""
    fake = bot.fake
    renamed = fake.add_user("frank-new", emails=["frank@private.example"])
    fake.add_user("frank", emails=["someone-else@example.com"])
    address = f"{renamed.id}+frank@{NOREPLY}"
    await store.sign(bot.runtime.db, agreement="octo", user_id=fake.state.users["alice"].id,
                     login="alice", version="1", signed_at=1.0)
    commit = ({"message": f"Pair work\n\nCo-authored-by: Frank <{address}>", "author": "alice"}
              if role == "co-author" else {"message": "Frank's work", "author": address})
    pr = fake.add_pull(REPO, user="alice", commits=[commit])
    head = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr.number))

    waiting = waiting_part(summary_of(fake, head))
    assert "`frank-new`" in waiting and "`frank`" not in waiting
    assert not fake.calls_to("GET", "/users/{username}")   # the login part is never looked up

    await comment(bot, pr.number, PHRASE, "frank")          # the name's new holder
    [run] = runs(fake, head)
    assert run.conclusion == "action_required" and "`frank-new`" in waiting_part(run.output["summary"])
    await comment(bot, pr.number, PHRASE, "frank-new")
    assert runs(fake, head)[0].conclusion == "success"


@pytest.mark.parametrize("role", ["co-author", "author"])
async def test_a_noreply_address_of_no_account_is_unlinked_and_says_how_to_fix_it(bot, role):
    fake = bot.fake
    fake.add_user("grace")  # the login part names someone real: it must not count
    address = f"987654321+grace@{NOREPLY}"
    await store.sign(bot.runtime.db, agreement="octo", user_id=fake.state.users["alice"].id,
                     login="alice", version="1", signed_at=1.0)
    commit = ({"message": f"Pair work\n\nCo-authored-by: Grace <{address}>", "author": "alice"}
              if role == "co-author" else {"message": "Whose work?", "author": address})
    pr = fake.add_pull(REPO, user="alice", commits=[commit])
    head = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr.number))

    [run] = runs(fake, head)
    assert run.conclusion == "failure"                 # the commit must change: nobody can sign
    assert run.output["title"] == "1 commit email not linked to a GitHub account"
    sha = pr.pull.commits[0].sha[:7]
    for text in (run.output["summary"], bot_comments(fake, pr.number)[0].body):
        assert f"`{sha}`" in text and f"`{address}`" in text and f"({role})" in text
        assert "`grace`" not in text and "@grace" not in text
        # A noreply address cannot be added to an account: the way out is the right one.
        assert "noreply address shown in your GitHub email settings" in text
    if role == "co-author":
        assert [c.status for c in fake.calls_to("GET", "/user/{account_id}")] == [404]
    await comment(bot, pr.number, PHRASE, "grace")
    assert runs(fake, head)[0].conclusion == "failure"


@pytest.mark.parametrize("form", ["id", "login"])
async def test_a_noreply_address_naming_an_organisation_is_unlinked_not_asked_to_sign(bot, form):
    """GitHub links no commit to an organisation, and an organisation cannot comment to sign:
    its noreply address is no one's."""
    fake = bot.fake
    org = fake.state.users["octo"]
    address = f"{org.id}+octo@{NOREPLY}" if form == "id" else f"octo@{NOREPLY}"
    await store.sign(bot.runtime.db, agreement="octo", user_id=fake.state.users["alice"].id,
                     login="alice", version="1", signed_at=1.0)
    pr = fake.add_pull(REPO, user="alice", commits=[
        {"message": f"Pair work\n\nCo-authored-by: Octo <{address}>", "author": "alice"}])
    await bot.deliver("pull_request", pr_event(fake, pr.number))
    [run] = runs(fake, pr.pull.head_sha)
    assert run.conclusion == "failure" and f"`{address}`" in run.output["summary"]
    assert "@octo" not in bot_comments(fake, pr.number)[0].body
