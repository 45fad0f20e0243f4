"""Funnel end to end: real example payloads delivered over HTTP record milestones; the
weekly report is posted once through the fake's GraphQL (documents validated against
GitHub's schema) even with two replicas' schedulers and later periods; the CLI prints
and posts the report."""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from bot.features.funnel.weekly import iso_week, previous_week, week_bounds
from bot.scheduler import Scheduler
from bot.settings import BUNDLED_RULES
from tests.conftest import BOTH_BACKENDS
from tests.fixtures.webhooks import load_example

from .harness import BotHarness, retarget

REPO = "octo/repo"
ROOT = Path(__file__).resolve().parents[2]


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def rules_dir(tmp_path) -> str:
    """Bundled rules with the report due at Monday 00:00 UTC: last week's report is due
    whatever day the test runs."""
    out = tmp_path / "rules"
    shutil.copytree(BUNDLED_RULES, out)
    funnel = yaml.safe_load((out / "funnel.yml").read_text())
    funnel["report"].update(weekday="mon", time="00:00")
    (out / "funnel.yml").write_text(yaml.safe_dump(funnel))
    return str(out)


@pytest.fixture
async def bot(fake_github, database_url, rules_dir):
    fake_github.add_repo(REPO)
    fake_github.add_discussion_category(REPO, "Reports")
    for login in ("newbie", "helper", "maint"):
        fake_github.add_user(login)
    fake_github.add_user("renovate[bot]", type="Bot")
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


def _payload(bot, event: str, action: str, **fields) -> dict:
    payload = retarget(load_example(event, action), REPO, bot.fake)
    payload["repository"]["id"] = bot.fake.repo(REPO).id
    payload.update(fields)
    return payload


async def record_history(bot, start: datetime) -> None:
    """Last week: newbie opens an issue, helper answers, newbie opens a PR that is merged;
    a bot opens a PR too."""
    fake, ser = bot.fake, bot.fake.serializer
    issue = fake.add_issue(REPO, title="Crash on start", user="newbie")
    issue.created_at = iso(start + timedelta(days=1))
    await bot.deliver("issues", _payload(bot, "issues", "opened", issue=ser.issue(issue),
                                         sender=ser.user("newbie")))
    c = fake.add_comment(REPO, issue.number, "Can you share the log?", "helper")
    c.created_at = iso(start + timedelta(days=1, hours=2))
    await bot.deliver("issue_comment", _payload(bot, "issue_comment", "created", issue=ser.issue(issue),
                                                comment=ser.comment(fake.repo(REPO), c, issue.number),
                                                sender=ser.user("helper")))
    pr = fake.add_pull(REPO, title="Fix the crash", user="newbie")
    pr.created_at = iso(start + timedelta(days=2))
    await bot.deliver("pull_request", _payload(bot, "pull_request", "opened", number=pr.number,
                                               pull_request=ser.pull(pr), sender=ser.user("newbie")))
    merged = ser.pull(pr)
    merged.update(merged=True, merged_at=iso(start + timedelta(days=3)), state="closed")
    await bot.deliver("pull_request", _payload(bot, "pull_request", "closed", number=pr.number,
                                               pull_request=merged, sender=ser.user("maint")))
    bot_pr = fake.add_pull(REPO, title="Bump deps", user="renovate[bot]", head_ref="deps")
    bot_pr.created_at = iso(start + timedelta(days=2))
    await bot.deliver("pull_request", _payload(bot, "pull_request", "opened", number=bot_pr.number,
                                               pull_request=ser.pull(bot_pr),
                                               sender=ser.user("renovate[bot]")))
    rfc = fake.add_issue(REPO, title="RFC: plugin API", user="maint", labels=["rfc/review"])
    assert rfc.number


async def test_weekly_report_posted_once_by_two_replicas(bot):
    week = previous_week(datetime.now(timezone.utc))
    start, _ = week_bounds(week)
    await record_history(bot, start)

    replicas = [Scheduler(bot.runtime, holder="replica-a"), Scheduler(bot.runtime, holder="replica-b")]
    now = datetime.now(timezone.utc).timestamp()
    ran = await asyncio.gather(*(s.run_due(now=now) for s in replicas))
    assert sum("funnel-weekly-report" in r for r in ran) == 1
    # Later periods (another quarter hour, another replica) find the week done.
    await replicas[1].run_due(now=now + 16 * 60)
    await replicas[0].run_due(now=now + 32 * 60)

    calls = bot.fake.graphql_calls("createDiscussion")
    assert len(calls) == 1 and calls[0].status == 200
    [discussion] = bot.fake.repo(REPO).discussions
    assert discussion.title == f"Contributor funnel: {week} ({REPO})"
    body = discussion.body
    assert "| First contact | 2 | 100% | 100% | n/a |" in body        # newbie and helper
    assert "| First merge | 1 | 50% | 100% | 24.0 h |" in body
    assert "Welcome to [newbie](https://github.com/newbie), [helper](https://github.com/helper)!" in body
    assert "renovate" not in body
    assert "RFC: plugin API" in body
    assert "## First-response SLA" in body
    assert "```mermaid" in body
    # An operator running the command afterwards does not post it a second time.
    from bot.features.funnel.weekly import post_weekly
    assert "already posted" in await post_weekly(bot.runtime, REPO, week, dry_run=False)
    assert len(bot.fake.graphql_calls("createDiscussion")) == 1
    assert bot.fake.violations == []


async def test_a_missing_category_holds_the_report_until_it_exists(bot):
    """The category is looked for (read-only) before anything is posted or stored: while it is
    missing the week stays open, so the report goes out once a maintainer creates it, and the
    next report never compares against figures nobody saw."""
    from bot.store import state

    categories = bot.fake.repo(REPO).discussion_categories
    kept = list(categories)
    categories.clear()
    await state.remember_installation(bot.runtime.db, REPO, 1)
    scheduler = Scheduler(bot.runtime, holder="only")
    now = datetime.now(timezone.utc).timestamp()
    week = previous_week(datetime.now(timezone.utc))
    await scheduler.run_due(now=now)
    assert bot.fake.graphql_calls("createDiscussion") == []
    assert await bot.runtime.db.fetchval("SELECT COUNT(*) FROM funnel_reports WHERE week = ?", (week,)) == 0

    categories.extend(kept)                        # a maintainer creates it
    await scheduler.run_due(now=now + 15 * 60)
    assert len(bot.fake.graphql_calls("createDiscussion")) == 1
    assert await bot.runtime.db.fetchval("SELECT COUNT(*) FROM funnel_reports WHERE week = ?", (week,)) == 1
    await scheduler.run_due(now=now + 30 * 60)
    assert len(bot.fake.graphql_calls("createDiscussion")) == 1
    assert bot.fake.violations == []


async def test_report_weekly_cli_prints_then_posts_once(bot, rules_dir):
    fake = bot.fake
    week = previous_week(datetime.now(timezone.utc))
    await record_history(bot, week_bounds(week)[0])
    env = {**os.environ, "GITHUB_APP_ID": str(fake.app_id), "GITHUB_PRIVATE_KEY": fake.private_key_pem,
           "GITHUB_API_URL": fake.url, "DATABASE_URL": bot.settings.database_url,
           "BOT_RULES_DIR": rules_dir, "BOT_MUTATION_INTERVAL": "0", "LOG_LEVEL": "WARNING"}

    async def cli(*args: str, status: int = 0) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "report", "weekly", "--repo", REPO, *args, env=env,
            cwd=str(ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == status, err.decode()
        return out.decode() if status == 0 else err.decode()

    printed = await cli("--week", week, "--dry-run")
    assert f"# Contributor funnel: {week} ({REPO})\n" in printed and "[newbie]" in printed
    assert fake.graphql_calls("createDiscussion") == []
    assert "posted" in await cli("--week", week)
    assert "already posted" in await cli("--week", week)
    # The same week written another way is the same report.
    year, number = week.split("-W")
    assert "already posted" in await cli("--week", f"{year}-w{int(number)}")
    # The week in progress: printed marked partial, refused when asked to post.
    current = iso_week(datetime.now(timezone.utc))
    assert f"# Contributor funnel: {current} ({REPO}) (partial: the week ends " in await cli(
        "--week", current, "--dry-run")
    assert f"{current} has not ended" in await cli("--week", current, status=1)
    assert len(fake.graphql_calls("createDiscussion")) == 1
    assert len(fake.repo(REPO).discussions) == 1


async def test_report_weekly_run_across_a_rename_records_its_week_under_the_new_name(bot):
    """The command read the repository as octo/repo; the rename (another delivery) moved its
    rows before the command recorded the week under that name. As after the scheduled job, the
    record follows the repository: the job finds the week done under the new name."""
    from bot.features.funnel.weekly import post_weekly
    from bot.store import repo_names, state
    from tests.store.test_repo_renames import event

    await state.remember_installation(bot.runtime.db, REPO, 1)
    await record_history(bot, week_bounds("2026-W03")[0])
    run = bot.runtime.executor.run

    async def renamed_meanwhile(**kw):
        await repo_names.resolve(bot.runtime.db, bot.runtime.name_columns,
                                 event("octo/renamed", repo_id=bot.fake.repo(REPO).id,
                                       updated_at="2099-01-01T00:00:00Z"), received_at=time.time())
        return await run(**kw)

    bot.runtime.executor.run = renamed_meanwhile
    assert "posted" in await post_weekly(bot.runtime, REPO, "2026-W03", dry_run=False)
    assert await bot.runtime.db.fetchall("SELECT repo, week FROM funnel_reports") == [
        {"repo": "octo/renamed", "week": "2026-W03"}]


@BOTH_BACKENDS
async def test_a_week_is_posted_once_however_it_and_the_repository_are_written(bot):
    from bot.features.funnel.weekly import post_weekly
    from bot.store import state

    await state.remember_installation(bot.runtime.db, REPO, 1)
    await record_history(bot, week_bounds("2026-W03")[0])
    assert "posted" in await post_weekly(bot.runtime, REPO, "2026-W3", dry_run=False)
    for week in ("2026-W03", "2026-w3"):
        assert "already posted" in await post_weekly(bot.runtime, REPO, week, dry_run=False)
    assert "already posted" in await post_weekly(bot.runtime, "Octo/Repo", "2026-W03", dry_run=False)
    assert [d.title for d in bot.fake.repo(REPO).discussions] == [f"Contributor funnel: 2026-W03 ({REPO})"]
    assert await bot.runtime.db.fetchall("SELECT repo, week FROM funnel_reports") == [
        {"repo": REPO, "week": "2026-W03"}]
    # Posted, then stopped before its figures were stored: they are stored, nothing is posted again,
    # and they are those the Discussion shows, though a newcomer of that week was heard of since.
    await bot.runtime.db.execute("DELETE FROM funnel_reports")
    shown = int(re.search(r"\| First contact \| (\d+) \|", bot.fake.repo(REPO).discussions[0].body)[1])
    fake, ser = bot.fake, bot.fake.serializer
    bot.fake.add_user("latecomer")
    late = fake.add_issue(REPO, title="Seen late", user="latecomer")
    late.created_at = iso(week_bounds("2026-W03")[0] + timedelta(days=4))
    await bot.deliver("issues", _payload(bot, "issues", "opened", issue=ser.issue(late),
                                         sender=ser.user("latecomer")))
    assert "figures are now stored" in await post_weekly(bot.runtime, REPO, "2026-W03", dry_run=False)
    figures = json.loads(await bot.runtime.db.fetchval("SELECT figures FROM funnel_reports"))
    assert figures["week"][0] == {"name": "first_contact", "contributors": shown}
    assert f"| First contact | {shown + 1} |" in await post_weekly(bot.runtime, REPO, "2026-W03", dry_run=True)
    assert len(bot.fake.repo(REPO).discussions) == 1
    # Keys sort as weeks: 2026-W10's report compares against 2026-W03's.
    assert "Change against the report of 2026-W03." in await post_weekly(
        bot.runtime, REPO, "2026-W10", dry_run=True)
    assert bot.fake.violations == []


@BOTH_BACKENDS
async def test_a_week_in_progress_is_printed_as_partial_and_never_posted(bot):
    from bot.features.funnel.weekly import post_weekly

    week = iso_week(datetime.now(timezone.utc))
    with pytest.raises(SystemExit, match=f"{week} has not ended"):
        await post_weekly(bot.runtime, REPO, week, dry_run=False)
    printed = await post_weekly(bot.runtime, REPO, week, dry_run=True)
    assert printed.startswith(f"# Contributor funnel: {week} ({REPO}) (partial: the week ends ")
    assert bot.fake.graphql_calls("createDiscussion") == []
    assert await bot.runtime.db.fetchval("SELECT COUNT(*) FROM funnel_reports") == 0


# --- backfill ---------------------------------------------------------------------------

class VirtualTime:
    """Clocks for the GitHub client and the backfill: sleeping moves time on, and a sleep
    past the rate-limit reset gives the fake a fresh hour."""

    def __init__(self, fake) -> None:
        self.fake = fake
        self.offset = 0.0
        self.sleeps: list[float] = []

    def wall(self) -> float:
        import time
        return time.time() + self.offset

    def mono(self) -> float:
        import time
        return time.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.offset += seconds
        if self.wall() >= self.fake.rate_reset:
            self.fake.rate_used.clear()
            self.fake.rate_reset = int(self.wall()) + 3600


async def _backfill(fake, db, vt: VirtualTime, sleep=None, **kw):
    import aiohttp

    from bot.features.funnel.backfill import Backfill
    from bot.github import GitHub
    from tests.helpers import bundled_rules

    async with aiohttp.ClientSession() as session:
        gh = GitHub(session, api_url=fake.url, app_id=str(fake.app_id), private_key=fake.private_key_pem,
                    clock=vt.mono, wall_clock=vt.wall, sleep=vt.sleep, mutation_interval=0.0)
        api = await gh.installation(1)
        job = Backfill(db, api, REPO, fake.repo(REPO).id, datetime(2020, 1, 1, tzinfo=timezone.utc),
                       bundled_rules().section("funnel"), sleep=sleep or vt.sleep, clock=vt.wall, **kw)
        return await job.run()


def _history(fake) -> None:
    for login in ("newbie", "helper", "maint", "old-timer"):
        fake.add_user(login)
    fake.set_permission(REPO, "maint", "write")
    for n in range(130):   # two pages of issues
        fake.add_issue(REPO, title=f"issue {n}", user="old-timer" if n % 2 else "helper")
    first = fake.add_issue(REPO, title="Crash", user="newbie")
    fake.add_comment(REPO, first.number, "Log please", "helper")
    pr = fake.add_pull(REPO, title="Fix", user="newbie", merged=True)
    fake.add_review(REPO, pr.number, "maint", state="APPROVED")


@pytest.fixture
async def migrated_db(database_url):
    from bot.runtime import load_features, migration_namespaces
    from bot.store.db import connect
    from bot.store.migrate import migrate

    db = await connect(database_url)
    await migrate(db, migration_namespaces(load_features()))
    yield db
    await db.close()


async def test_backfill_reads_every_page_and_waits_out_the_rate_limit(fake_github, migrated_db):
    fake = fake_github
    fake.add_repo(REPO)
    _history(fake)
    fake.rate_limit = 6          # spent half-way through the issues
    vt = VirtualTime(fake)
    counts = await _backfill(fake, migrated_db, vt, reserve=0)
    assert counts["issues"] == 132 and counts["comments"] == 1 and counts["reviews"] == 1
    assert counts["approvers"] == 1                            # maint, from the collaborators
    assert vt.sleeps and vt.sleeps[0] > 60                     # it stopped and waited for the reset
    pages = [c.query.get("page") for c in fake.calls
             if c.path == f"/repos/{REPO}/issues" and c.status == 200]
    assert pages == ["1", "2"]                                # no page read twice after the wait

    from bot.features.funnel import store
    people = {c.login: c for c in await store.contributors(migrated_db, REPO)}
    newbie = people["newbie"].stages
    assert newbie[0] is not None and newbie[1] is not None and newbie[2] is not None
    from bot.features.funnel.backfill import UNDATED
    assert people["maint"].raw[3] == UNDATED   # a collaborator: undated, an approver before any window
    assert fake.violations == []


async def test_backfill_resumes_after_an_interruption_and_paces(fake_github, migrated_db):
    fake = fake_github
    fake.add_repo(REPO)
    _history(fake)
    vt = VirtualTime(fake)

    class Interrupted(Exception):
        pass

    async def stop_after_first_page(seconds: float) -> None:
        raise Interrupted

    # With 209 requests left and 210 kept in reserve, the backfill waits for the reset after
    # its first page of issues; the wait is cut short (Ctrl-C, a deploy).
    fake.rate_limit = 210
    with pytest.raises(Interrupted):
        await _backfill(fake, migrated_db, VirtualTime(fake), sleep=stop_after_first_page, reserve=210)
    saved = await migrated_db.fetchone("SELECT cursor, done FROM funnel_backfill WHERE stream = 'issues'")
    assert saved == {"cursor": "2", "done": 0}

    fake.rate_limit = 5000
    fake.calls.clear()
    counts = await _backfill(fake, migrated_db, vt)
    pages = [c.query.get("page") for c in fake.calls if c.path == f"/repos/{REPO}/issues"]
    assert pages == ["2"]                                     # resumed where it stopped
    assert counts["issues"] == 32 and counts["comments"] == 1
    assert await migrated_db.fetchval("SELECT COUNT(*) FROM funnel_acts WHERE kind IN (1, 5)") == 132
    again = await _backfill(fake, migrated_db, vt)            # everything done: nothing read
    assert again == {}


async def test_backfill_command_finds_the_installation(fake_github, database_url, tmp_path):
    fake = fake_github
    fake.add_repo(REPO, files={"pkg/api/OWNERS": "approvers:\n  - old-timer\n", "README.md": "hi"})
    _history(fake)
    env = {**os.environ, "GITHUB_APP_ID": str(fake.app_id), "GITHUB_PRIVATE_KEY": fake.private_key_pem,
           "GITHUB_API_URL": fake.url, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}

    async def cli(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, env=env, cwd=str(ROOT),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        return out.decode()

    out = await cli("backfill", "--repo", REPO, "--since", "2020-01-01")
    # maint from the collaborators, old-timer from pkg/api/OWNERS found in the tree.
    assert "132 issues, 1 comments, 0 review comments, 1 reviews, 2 approvers" in out
    tree_reads = [c for c in fake.calls if "/git/trees/" in c.path]
    assert tree_reads and tree_reads[0].query.get("recursive") == "1"
    owners_reads = [c.path for c in fake.calls if "/contents/" in c.path]
    assert f"/repos/{REPO}/contents/pkg/api/OWNERS" in owners_reads
    assert "0 issues, 0 comments" in await cli("backfill", "--repo", REPO, "--since", "2020-01-01")
    assert "132 issues" in await cli("backfill", "--repo", REPO, "--since", "2020-01-01", "--restart")
    funnel = json.loads(await cli("funnel", "--repo", REPO, "--since", "2020-01-01", "--format", "json"))
    # helper and newbie are new since 2020; maint and old-timer had rights before the window.
    assert [s["contributors"] for s in funnel["stages"]] == [2, 1, 1, 0]
    # Typed in another case: the same figures, under the name as GitHub spells it.
    typed = json.loads(await cli("funnel", "--repo", "OCTO/Repo", "--since", "2020-01-01", "--format", "json"))
    assert typed["stages"] == funnel["stages"] and typed["scope"] == REPO
    assert fake.violations == []


@pytest.mark.parametrize("installed", [True, False])
async def test_backfill_keeps_the_repository_under_githubs_spelling_however_it_is_typed(
        fake_github, database_url, installed):
    """``backfill --repo OCTO/Repo``: GitHub finds the repository in any case; the bot keeps
    its rows (installation, progress) under one name, GitHub's, not a second repository's
    that periodic jobs would then act on twice."""
    from bot.features.funnel.backfill import run_backfill
    from bot.runtime import open_runtime
    from bot.store import state
    from tests.helpers import app_settings

    fake_github.add_repo(REPO)
    _history(fake_github)

    async def no_wait(seconds: float) -> None:
        return None

    async with open_runtime(app_settings(fake_github, database_url)) as runtime:
        if installed:
            await state.remember_installation(runtime.db, REPO, 1)
        summary = await run_backfill(runtime, "OCTO/Repo", datetime(2020, 1, 1, tzinfo=timezone.utc),
                                     sleep=no_wait)
        assert "132 issues" in summary
        assert [r["repo"] for r in await state.installations(runtime.db)] == [REPO]
        assert {r["repo"] for r in await runtime.db.fetchall("SELECT repo FROM funnel_backfill")} == {REPO}


async def test_backfill_reads_what_github_lists_since_the_start_in_any_case(fake_github, migrated_db):
    """The review comments GitHub lists from --since on (not older ones); approvers named in
    OWNERS in another case than their login's; collaborators through a team and the org's
    owners, whom GitHub lists with `affiliation=all`."""
    from tests.fakegithub.state import ReviewComment

    fake = fake_github
    fake.add_repo(REPO, files={"OWNERS": "approvers:\n  - old-timer\n"})
    users = {login: fake.add_user(login).id for login in ("Old-Timer", "helper")}
    fake.add_team("octo", "core", members=["teamed"]).repos[REPO] = "push"
    fake.add_org_member("octo", "boss", role="admin")
    users.update(teamed=fake.state.users["teamed"].id, boss=fake.state.users["boss"].id)
    pr = fake.add_pull(REPO, title="Fix", user="newbie", merged=True)
    for body, at in (("old nit", "2019-06-01T00:00:00Z"), ("new nit", "2021-06-01T00:00:00Z")):
        cid = fake.state.next_id()
        pr.pull.review_comments.append(ReviewComment(
            id=cid, node_id=f"PRRC_{cid}", user="helper", body=body, path="a.py",
            commit_id=pr.pull.head_sha, line=1, side="RIGHT", in_reply_to_id=None, created_at=at))
    counts = await _backfill(fake, migrated_db, VirtualTime(fake), default_branch="main")
    assert counts["review_comments"] == 1                    # 2019 is before --since 2020-01-01
    grants = {(r["user_id"], r["source"]) for r in await migrated_db.fetchall(
        "SELECT user_id, source FROM funnel_grants")}
    assert grants == {(users["Old-Timer"], "owners"), (users["teamed"], "permission"),
                      (users["boss"], "permission")}
    assert fake.violations == []


async def test_member_and_membership_deliveries_record_approver_grants(bot):
    member = _payload(bot, "member", "added")
    member["member"] = bot.fake.serializer.user("helper")
    member["changes"] = {"permission": {"to": "write"}}
    await bot.deliver("member", member)
    # organisation-wide: no repository
    membership = retarget(load_example("membership", "added"), REPO, bot.fake)
    membership["member"] = bot.fake.serializer.user("newbie")
    delivery = await bot.deliver("membership", membership)
    assert await bot.status(delivery) == "done"
    db = bot.runtime.db
    grants = await db.fetchall("SELECT user_id, source FROM funnel_grants")
    assert [g["source"] for g in grants] == ["permission"]
    teams = await db.fetchall("SELECT org, team FROM funnel_team_grants")
    assert teams == [{"org": membership["organization"]["login"].lower(),
                      "team": membership["team"]["slug"].lower()}]


# --- org mode: a report in a public repository counts only public repositories ------------------

SECRET = "octo/secret"


@pytest.fixture
async def org_bot(fake_github, database_url, rules_dir):
    """The bot with ``org_mode: true``: REPO public, SECRET private in the same organisation."""
    path = Path(rules_dir) / "funnel.yml"
    funnel = yaml.safe_load(path.read_text())
    funnel["org_mode"] = True
    path.write_text(yaml.safe_dump(funnel))
    fake_github.add_repo(REPO)
    fake_github.add_repo(SECRET, private=True)
    fake_github.add_discussion_category(REPO, "Reports")
    fake_github.add_discussion_category(SECRET, "Reports")
    for login in ("newbie", "insider"):
        fake_github.add_user(login)
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


async def _opened(bot, repo: str, user: str, when: datetime, *, private: bool | None = None,
                  snapshot: datetime | None = None) -> None:
    """``private``, ``snapshot``: the repository as the payload has it (default: as the fake has
    it now), ``snapshot`` its ``updated_at``."""
    fake, ser = bot.fake, bot.fake.serializer
    issue = fake.add_issue(repo, title="Question", user=user)
    issue.created_at = iso(when)
    payload = retarget(load_example("issues", "opened"), repo, fake)
    payload["repository"]["private"] = fake.repo(repo).private if private is None else private
    if snapshot is not None:
        payload["repository"]["updated_at"] = iso(snapshot)
    payload.update(issue=ser.issue(issue), sender=ser.user(user))
    await bot.deliver("issues", payload)


@BOTH_BACKENDS
async def test_an_org_report_posted_in_a_public_repository_leaves_private_siblings_out(org_bot):
    """The job posts the public repository's report without the private sibling's newcomer,
    its name or its figures, and stores what it posted (the private one's own report counts
    both); the command prints the same. Once the
    repository is made private, its report counts the whole organisation again."""
    from bot.features.funnel.weekly import post_weekly

    bot = org_bot
    week = previous_week(datetime.now(timezone.utc))
    start, _ = week_bounds(week)
    await _opened(bot, REPO, "newbie", start + timedelta(days=1))
    await _opened(bot, SECRET, "insider", start + timedelta(days=2))

    await Scheduler(bot.runtime, holder="only").run_due(now=datetime.now(timezone.utc).timestamp())
    [discussion] = bot.fake.repo(REPO).discussions
    assert "| First contact | 1 | 100% | 100% | n/a |" in discussion.body
    assert "[newbie](https://github.com/newbie)!" in discussion.body
    assert "insider" not in discussion.body and "secret" not in discussion.body
    # The private repository's own report, read by its readers only, counts both.
    [inside] = bot.fake.repo(SECRET).discussions
    assert "| First contact | 2 | 100% | 100% | n/a |" in inside.body and "public repositories" not in inside.body
    stored = json.loads(await bot.runtime.db.fetchval("SELECT figures FROM funnel_reports WHERE week = ?", (week,)))
    assert stored["week"][0]["contributors"] == 1 and stored["public_only"] is True
    printed = await post_weekly(bot.runtime, REPO, week, dry_run=True)
    assert "| First contact | 1 |" in printed and "insider" not in printed

    bot.fake.repo(REPO).private = True
    payload = retarget(load_example("repository", "privatized"), REPO, bot.fake)
    payload["repository"]["private"] = True
    await bot.deliver("repository", payload)
    printed = await post_weekly(bot.runtime, REPO, week, dry_run=True)
    assert "| First contact | 2 |" in printed and "[insider](https://github.com/insider)" in printed
    assert "No change shown" not in printed and bot.fake.violations == []


@BOTH_BACKENDS
async def test_a_stale_delivery_received_last_does_not_put_a_private_repository_in_a_public_report(org_bot):
    """A delivery sent while SECRET was still public, recovered days later (received after the
    one that said private): its payload's snapshot is older, so SECRET stays private and out
    of the public repository's report."""
    from bot.features.funnel.weekly import post_weekly
    from bot.store import state

    bot = org_bot
    week = previous_week(datetime.now(timezone.utc))
    start, _ = week_bounds(week)
    made_private = start + timedelta(days=3)
    await _opened(bot, REPO, "newbie", start + timedelta(days=1))
    await _opened(bot, SECRET, "insider", start + timedelta(days=4), private=True, snapshot=made_private)
    bot.fake.add_user("early")
    await _opened(bot, SECRET, "early", start + timedelta(days=2), private=False,
                  snapshot=made_private - timedelta(days=2))
    assert {r["repo"]: r["is_private"] for r in await state.installations(bot.runtime.db)}[SECRET] == 1
    printed = await post_weekly(bot.runtime, REPO, week, dry_run=True)
    assert "| First contact | 1 |" in printed
    assert "insider" not in printed and "early" not in printed
    # A delivery with a newer snapshot saying public is believed: SECRET counts from then on.
    await _opened(bot, SECRET, "insider", start + timedelta(days=5), private=False,
                  snapshot=made_private + timedelta(days=1))
    printed = await post_weekly(bot.runtime, REPO, week, dry_run=True)
    assert "| First contact | 3 |" in printed and "[early](https://github.com/early)" in printed
