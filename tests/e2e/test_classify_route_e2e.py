"""Classification and routing end to end: real ``issues.opened`` / ``issue_comment``
example payloads delivered over HTTP to the real app; labels, assignees, comments and
Projects/Discussions GraphQL calls land on the fake GitHub, which checks every REST
request against GitHub's OpenAPI description and every GraphQL document against its
schema (a violation fails the test at teardown)."""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from bot.features.route import AGENDA, boards
from bot.scheduler import run_job
from bot.settings import BUNDLED_RULES
from tests.conftest import BOTH_BACKENDS
from tests.fixtures.webhooks import load_example

from .harness import BotHarness, retarget

REPO = "octo/repo"
CALL = datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc)  # a Wednesday, 16:00 UTC


@pytest.fixture
def rules_dir(tmp_path) -> str:
    out = tmp_path / "rules"
    out.mkdir()
    for name in ("core.yml", "commands.yml", "classify.yml"):
        shutil.copy(Path(BUNDLED_RULES) / name, out / name)
    routing = yaml.safe_load((Path(BUNDLED_RULES) / "routing.yml").read_text())
    routing["routes"]["bug"]["board"]["number"] = 5
    routing["routes"]["feature"]["board"]["number"] = 6
    routing["rotations"]["triage"].update(people=["alice", "bob", "carol"], away=["bob"])
    routing["support_url"] = "https://forum.example.org"
    routing["agenda"]["discussion_category"] = "RFC reviews"
    routing["maintainers"] = "octo/maintainers"
    (out / "routing.yml").write_text(yaml.safe_dump(routing))
    return str(out)


@pytest.fixture
async def bot(fake_github, database_url, rules_dir):
    boards.forget()  # board ids are cached per process; each test has its own fake
    fake = fake_github
    fake.add_repo(REPO)
    fake.add_user("reporter")
    for login in ("alice", "bob", "carol"):  # the triage rotation: GitHub assigns members only
        fake.add_org_member("octo", login)
    fake.set_permission(REPO, "maint", "write")
    fake.add_project("octo", 5, "Triage", fields={"Status": ["Triage", "Done"]})
    fake.add_project("octo", 6, "RFC Draft Board",
                     fields={"Status": ["Draft", "In review", "Accepted", "Rejected", "Postponed"]})
    fake.add_discussion_category(REPO, "RFC reviews")
    async with BotHarness(fake, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


async def open_issue(bot, title: str, body: str = "", user: str = "reporter"):
    fake = bot.fake
    issue = fake.add_issue(REPO, title=title, body=body, user=user)
    issue.created_at = "2026-11-20T10:00:00Z"
    payload = retarget(load_example("issues", "opened"), REPO, bot.fake)
    payload["issue"] = fake.serializer.issue(issue)
    payload["sender"] = fake.serializer.user(user)
    await bot.deliver("issues", payload)
    return issue


async def comment(bot, number: int, body: str, user: str) -> None:
    await bot.comment(REPO, number, body, user)


def status_on(fake, owner: str, number: int, issue) -> str | None:
    project = fake.state.projects[(owner, number)]
    field = project.fields["Status"]
    for item in project.items:
        if item.content_id == issue.node_id:
            option = item.values.get(field.id)
            return next((name for name, oid in field.options.items() if oid == option), None)
    return None


def bot_comments(fake, number: int) -> list:
    return [c for c in fake.issue(REPO, number).comments if c.user == fake.bot_login]


@BOTH_BACKENDS
async def test_bug_is_labelled_assigned_and_put_on_the_triage_board(bot):
    fake = bot.fake
    first = await open_issue(bot, "[Bug] Editor crashes on save", "### Steps to reproduce\n1. Save a file")
    second = await open_issue(bot, "Crash when closing", "### Describe the bug\nIt crashes.\n### Expected behavior\nNo crash")
    assert {"bug", "triage"} <= set(fake.issue(REPO, first.number).labels)
    assert fake.issue(REPO, first.number).assignees == ["alice"]
    assert fake.issue(REPO, second.number).assignees == ["carol"]          # bob is away
    assert status_on(fake, "octo", 5, first) == "Triage"
    assert status_on(fake, "octo", 5, second) == "Triage"
    assert len(fake.graphql_calls("addProjectV2ItemById")) == 2
    assert len(fake.graphql_calls("updateProjectV2ItemFieldValue")) == 2
    assert bot_comments(fake, first.number) == []                          # nothing to ask


async def test_feature_request_moves_through_rfc_states_and_the_agenda_is_posted_once(bot):
    fake = bot.fake
    issue = await open_issue(bot, "feat: dark mode for the editor", "It would be nice to have a dark theme.")
    assert {"feature", "rfc/draft"} <= set(fake.issue(REPO, issue.number).labels)
    assert status_on(fake, "octo", 6, issue) == "Draft"

    await comment(bot, issue.number, "/rfc review", "maint")
    labels = set(fake.issue(REPO, issue.number).labels)
    assert "rfc/review" in labels and "rfc/draft" not in labels
    assert status_on(fake, "octo", 6, issue) == "In review"

    before = CALL - timedelta(hours=3)
    await run_job(bot.runtime, AGENDA, key="test:1", clock=lambda: before)
    await run_job(bot.runtime, AGENDA, key="test:2", clock=lambda: before + timedelta(minutes=15))
    [agenda] = fake.repo(REPO).discussions
    assert agenda.title == "RFC review agenda, 2026-11-25"
    assert f"https://github.com/{REPO}/issues/{issue.number}" in agenda.body
    assert len(fake.graphql_calls("createDiscussion")) == 1


async def test_a_feature_request_a_maintainer_calls_a_bug_leaves_the_rfc_board(bot):
    fake = bot.fake
    issue = await open_issue(bot, "feat: dark mode for the editor", "It would be nice to have a dark theme.")
    await comment(bot, issue.number, "/rfc review", "maint")
    assert status_on(fake, "octo", 6, issue) == "In review"

    await comment(bot, issue.number, "/kind bug", "maint")
    labels = set(fake.issue(REPO, issue.number).labels)
    assert {"bug", "triage"} <= labels and not {"feature", "rfc/review"} & labels
    assert status_on(fake, "octo", 6, issue) is None                      # off the RFC board
    assert status_on(fake, "octo", 5, issue) == "Triage"                  # on the triage board
    assert fake.issue(REPO, issue.number).assignees == ["alice"]
    assert len(fake.graphql_calls("deleteProjectV2Item")) == 1

    # Nothing to wait for at the RFC call any more.
    await run_job(bot.runtime, AGENDA, key="test:1", clock=lambda: CALL - timedelta(hours=3))
    [agenda] = fake.repo(REPO).discussions
    assert "No RFC is waiting for review" in agenda.body
    assert f"/issues/{issue.number})" not in agenda.body


def transfer_payloads(fake, old_repo: str, old, new_repo: str, moved, sender: str = "maint"):
    """What GitHub sends for one transfer: ``issues.transferred`` to the old repository,
    ``issues.opened`` with ``changes.old_issue`` / ``old_repository`` to the new one."""
    transferred = retarget(load_example("issues", "transferred"), old_repo, fake)
    transferred["issue"] = fake.serializer.issue(old)
    transferred["changes"] = {"new_issue": fake.serializer.issue(moved),
                              "new_repository": fake.serializer.repo(fake.state.repos[new_repo])}
    transferred["sender"] = fake.serializer.user(sender)
    opened = retarget(load_example("issues", "opened"), new_repo, fake)
    opened["issue"] = fake.serializer.issue(moved)
    opened["changes"] = {"old_issue": fake.serializer.issue(old),
                         "old_repository": fake.serializer.repo(fake.state.repos[old_repo])}
    opened["sender"] = fake.serializer.user(sender)
    return transferred, opened


async def test_a_transferred_issue_is_routed_once_by_its_new_repositorys_rules(bot):
    import asyncio

    fake = bot.fake
    other = "octo/other"
    fake.add_repo(other, files={".github/contributor-flow.yml": (
        "routing:\n  routes:\n    bug:\n      labels: [needs-repro]\n      rotation: triage\n"
        "      board: {number: 6, status: Draft}\n")})
    old = fake.add_issue(REPO, title="[Bug] crash on save", body="### Steps to reproduce\n1.", user="reporter")
    moved = fake.add_issue(other, title=old.title, body=old.body, user="reporter")
    transferred, opened = transfer_payloads(fake, REPO, old, other, moved)
    await asyncio.gather(bot.deliver("issues", transferred), bot.deliver("issues", opened))
    labels = set(fake.issue(other, moved.number).labels)
    assert {"bug", "needs-repro"} <= labels and "triage" not in labels
    assert status_on(fake, "octo", 6, moved) == "Draft"
    assert status_on(fake, "octo", 5, moved) is None
    # Once, not once per event: one board item, one turn of the rotation.
    assert len(fake.graphql_calls("addProjectV2ItemById")) == 1
    assert fake.issue(other, moved.number).assignees == ["alice"]
    assert len(fake.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/assignees")) == 1
    assert fake.issue(REPO, old.number).labels == []                       # the old home is not touched


async def test_an_rfc_a_maintainer_labels_by_hand_is_on_the_agenda(bot):
    fake = bot.fake
    issue = fake.add_issue(REPO, title="RFC: plugin API", body="A proposal.", user="reporter")
    issue.created_at = "2026-11-20T10:00:00Z"
    issue.labels.append(fake.add_label(REPO, "rfc/review").name)
    payload = retarget(load_example("issues", "labeled"), REPO, bot.fake)
    payload["issue"] = fake.serializer.issue(issue)
    payload["label"] = {"name": "rfc/review", "color": "ededed"}
    payload["sender"] = fake.serializer.user("maint")
    await bot.deliver("issues", payload)
    assert status_on(fake, "octo", 6, issue) == "In review"
    await run_job(bot.runtime, AGENDA, key="test:1", clock=lambda: CALL - timedelta(hours=3))
    [agenda] = fake.repo(REPO).discussions
    assert f"https://github.com/{REPO}/issues/{issue.number}" in agenda.body


async def test_unclear_issue_is_asked_and_the_authors_kind_wins(bot):
    fake = bot.fake
    issue = await open_issue(bot, "Hello", "Just wanted to say something.")
    assert fake.issue(REPO, issue.number).labels == ["needs-triage"]
    [ask] = bot_comments(fake, issue.number)
    assert "/kind bug" in ask.body
    assert fake.graphql_calls("addProjectV2ItemById") == []                # nothing routed yet

    await comment(bot, issue.number, "/kind question", "reporter")
    labels = fake.issue(REPO, issue.number).labels
    assert "question" in labels and "needs-triage" not in labels
    routed = [c for c in bot_comments(fake, issue.number) if "https://forum.example.org" in c.body]
    assert len(routed) == 1


async def reopened(bot, issue, sender: str) -> None:
    """The ``issues.reopened`` GitHub sends, naming ``sender``: the bot itself after a
    ``/reopen`` it carried out."""
    payload = retarget(load_example("issues", "reopened"), REPO, bot.fake)
    payload["issue"] = bot.fake.serializer.issue(bot.fake.issue(REPO, issue.number))
    payload["sender"] = bot.fake.serializer.user(sender)
    await bot.deliver("issues", payload)


@BOTH_BACKENDS
async def test_a_kind_given_while_closed_is_routed_when_the_bot_carries_out_a_reopen(bot):
    """``/reopen`` is carried out by the bot, so GitHub names the bot as the reopener: the
    kind a maintainer gave while the issue was closed is routed all the same."""
    fake = bot.fake
    fake.add_user(fake.bot_login, type="Bot")
    issue = await open_issue(bot, "Hello", "Just wanted to say something.")
    await comment(bot, issue.number, "/close", "maint")
    assert fake.issue(REPO, issue.number).state == "closed"
    await comment(bot, issue.number, "/kind bug", "maint")
    assert "bug" in fake.issue(REPO, issue.number).labels
    assert fake.issue(REPO, issue.number).assignees == []                 # closed: not routed

    await comment(bot, issue.number, "/reopen", "maint")
    assert fake.issue(REPO, issue.number).state == "open"
    await reopened(bot, issue, fake.bot_login)
    assert "triage" in fake.issue(REPO, issue.number).labels
    assert fake.issue(REPO, issue.number).assignees == ["alice"]
    assert status_on(fake, "octo", 5, issue) == "Triage"


async def test_another_bots_reopen_routes_nothing(bot):
    fake = bot.fake
    fake.add_user("stale[bot]", type="Bot")
    issue = await open_issue(bot, "Hello", "Just wanted to say something.")
    await comment(bot, issue.number, "/close", "maint")
    await comment(bot, issue.number, "/kind bug", "maint")
    fake.issue(REPO, issue.number).state = "open"
    await reopened(bot, issue, "stale[bot]")
    assert "triage" not in fake.issue(REPO, issue.number).labels
    assert fake.issue(REPO, issue.number).assignees == []
    assert fake.graphql_calls("addProjectV2ItemById") == []
    # A person's reopen later routes it: the kind was kept, not lost on the bot's reopen.
    await reopened(bot, issue, "maint")
    assert fake.issue(REPO, issue.number).assignees == ["alice"]


async def test_missing_board_is_reported_to_maintainers_once(bot):
    fake = bot.fake
    del fake.state.projects[("octo", 5)]
    first = await open_issue(bot, "[Bug] crash one", "### Steps to reproduce")
    second = await open_issue(bot, "[Bug] crash two", "### Steps to reproduce")
    [report] = [c for c in bot_comments(fake, first.number) if "Routing problem" in c.body]
    assert "@octo/maintainers Routing problem: the project board octo#5 does not exist" in report.body
    assert not [c for c in bot_comments(fake, second.number) if "Routing problem" in c.body]
    assert fake.issue(REPO, second.number).assignees == ["carol"]         # the rest still routed
    assert fake.graphql_calls("addProjectV2ItemById") == []


def crowded_board(fake, owner: str, number: int, title: str, status: list[str], others: int = 130):
    """A board with more fields than one GraphQL page holds (GitHub serves at most 100),
    its Status field the last of them."""
    fields: dict[str, list[str] | None] = {f"Field {i}": None for i in range(others)}
    fields["Status"] = status
    return fake.add_project(owner, number, title, fields=fields)


@BOTH_BACKENDS
async def test_a_status_field_after_the_first_page_of_fields_is_found_and_set(bot):
    fake = bot.fake
    crowded_board(fake, "octo", 5, "Triage", ["Triage", "Done"])
    issue = await open_issue(bot, "[Bug] Editor crashes on save", "### Steps to reproduce\n1. Save a file")
    assert status_on(fake, "octo", 5, issue) == "Triage"                   # item added, status set
    assert not [c for c in bot_comments(fake, issue.number) if "Routing problem" in c.body]
    # The route's check and the executor each read the board's fields in two pages.
    assert len(fake.graphql_calls("repositoryOwner")) == 2
    assert len(fake.graphql_calls("organization")) == 2


WORDS = {"bug": "zorblat quix flange", "feature": "wibble snarf plinth", "question": "gronk mizzle fosh"}


def add_labelled_history(fake, per_kind: int = 12) -> None:
    """Issues people labelled with one kind each (words no rule signal knows), and the
    ones history must leave out."""
    for kind, text in WORDS.items():
        for i in range(per_kind):
            fake.add_issue(REPO, title=f"{text} {i}", body=f"{text} body {i}", labels=[kind], state="closed")
    fake.add_issue(REPO, title="two kinds", labels=["bug", "question"], state="closed")   # ambiguous: skipped
    fake.add_pull(REPO, title=f"{WORDS['feature']} pull", labels=["feature"], state="closed")  # not an issue
    fake.add_issue(REPO, title=f"{WORDS['bug']} open", labels=["bug"])   # open, labelled by a person: counts


async def test_train_from_the_repositorys_labelled_issues(bot, rules_dir, tmp_path):
    import asyncio
    import os
    import sys

    from bot.classify import IssueText, ModelBundle

    fake = bot.fake
    add_labelled_history(fake)
    bots_own = await open_issue(bot, "[Bug] crash on start", "### Steps to reproduce")   # the bot labels it
    assert "bug" in fake.issue(REPO, bots_own.number).labels
    out = tmp_path / "model.npz"
    env = {**os.environ, "GITHUB_APP_ID": str(fake.app_id), "GITHUB_PRIVATE_KEY": fake.private_key_pem,
           "GITHUB_API_URL": fake.url, "DATABASE_URL": bot.settings.database_url,
           "BOT_RULES_DIR": rules_dir, "LOG_LEVEL": "WARNING"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "classify", "train", "--repo", REPO, "--out", str(out), env=env,
        cwd=str(Path(__file__).parents[2]), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    # 36 closed + the open one; not the two-kind issue, the pull request or the bot's own label.
    assert f"{REPO}: 37 labelled issues" in stdout.decode()
    model = ModelBundle.load(out).model_for(REPO)
    assert model.classes == ["bug", "feature", "question"]
    probs = model.probabilities(IssueText.of("zorblat flange", "quix"))
    assert max(probs, key=probs.get) == "bug"


@BOTH_BACKENDS
async def test_the_bot_learns_from_the_labelled_history_by_itself(bot):
    from bot.features.classify import HISTORY, models, store
    from bot.store import state

    models.forget()
    fake = bot.fake
    add_labelled_history(fake)
    # Before the history is read, nothing but rule signals: the issue is unclear.
    unclear = await open_issue(bot, "zorblat quix flange", "flange")
    assert "needs-triage" in fake.issue(REPO, unclear.number).labels

    now = datetime.now(timezone.utc)
    await run_job(bot.runtime, HISTORY, key="test:1", clock=lambda: now)
    rows = await store.history(bot.runtime.db, REPO)
    assert len(rows) == 37 and {r["kind"] for r in rows} == {"bug", "feature", "question"}
    reads = len(fake.calls_to("GET", "/repos/{owner}/{repo}/issues"))

    issue = await open_issue(bot, "zorblat quix flange again", "flange")
    assert {"bug", "triage"} <= set(fake.issue(REPO, issue.number).labels)
    [decision] = await store.decisions(bot.runtime.db, REPO, issue.number)
    assert any(s["source"] == "model" and s["kind"] == "bug" for s in decision["signals"])
    notes = [n["summary"] for n in await state.decisions_for(bot.runtime.db, REPO, issue.number)]
    assert any("[model learnt[37 examples: 37 from history, 0 confirmed]]" in n for n in notes), notes

    # Within history_refresh_days the history is not read again; after it, it is.
    await run_job(bot.runtime, HISTORY, key="test:2", clock=lambda: now + timedelta(days=6))
    assert len(fake.calls_to("GET", "/repos/{owner}/{repo}/issues")) == reads
    await run_job(bot.runtime, HISTORY, key="test:3", clock=lambda: now + timedelta(days=7, hours=1))
    assert len(fake.calls_to("GET", "/repos/{owner}/{repo}/issues")) > reads
    # The issue the bot labelled itself is not part of the history it learns from.
    assert issue.number not in {r["number"] for r in await store.history(bot.runtime.db, REPO)}


@BOTH_BACKENDS
async def test_bugs_arriving_together_get_successive_people(bot):
    import asyncio

    fake = bot.fake
    issues = [fake.add_issue(REPO, title=f"[Bug] crash {i}", body="### Steps to reproduce\n1.", user="reporter")
              for i in range(2)]
    payloads = []
    for issue in issues:
        payload = retarget(load_example("issues", "opened"), REPO, bot.fake)
        payload["issue"] = fake.serializer.issue(issue)
        payload["sender"] = fake.serializer.user("reporter")
        payloads.append(payload)
    await asyncio.gather(*(bot.deliver("issues", p, wait=False) for p in payloads))
    await bot.settle()
    assert sorted(fake.issue(REPO, i.number).assignees[0] for i in issues) == ["alice", "carol"]   # bob is away


async def test_the_bots_label_is_its_own_whatever_the_case_the_repository_spells_it(bot):
    fake = bot.fake
    fake.add_label(REPO, "Bug")                     # GitHub applies this when the bot adds "bug"
    issue = await open_issue(bot, "[Bug] Editor crashes on save", "### Steps to reproduce\n1. Save")
    assert fake.issue(REPO, issue.number).labels == ["Bug", "triage"]
    await comment(bot, issue.number, "/kind feature", "maint")
    labels = fake.issue(REPO, issue.number).labels
    assert "Bug" not in labels and "triage" not in labels and {"feature", "rfc/draft"} <= set(labels)


async def label_event(bot, issue, action: str, name: str, who: str) -> None:
    """A person adds or removes a label: the fake changes, the webhook is delivered."""
    fake = bot.fake
    if action == "labeled":
        issue.labels.append(fake.add_label(REPO, name).name)
    else:
        issue.labels.remove(name)
    payload = retarget(load_example("issues", action), REPO, bot.fake)
    payload["issue"] = fake.serializer.issue(issue)
    payload["label"] = {"name": name, "color": "ededed"}
    payload["sender"] = fake.serializer.user(who)
    await bot.deliver("issues", payload)


async def test_a_label_a_person_took_off_and_put_back_is_theirs(bot):
    fake = bot.fake
    issue = await open_issue(bot, "[Bug] Editor crashes on save", "### Steps to reproduce\n1. Save")
    assert "triage" in fake.issue(REPO, issue.number).labels
    await label_event(bot, issue, "unlabeled", "triage", "maint")
    await label_event(bot, issue, "labeled", "triage", "maint")
    await comment(bot, issue.number, "/kind feature", "maint")
    labels = fake.issue(REPO, issue.number).labels
    assert "triage" in labels and "bug" not in labels           # the person's stays, the bot's goes


async def test_the_author_cannot_undo_an_accepted_rfc(bot):
    fake = bot.fake
    issue = await open_issue(bot, "feat: dark mode for the editor", "It would be nice to have a dark theme.")
    await comment(bot, issue.number, "/rfc accept", "maint")
    assert status_on(fake, "octo", 6, issue) == "Accepted"
    await comment(bot, issue.number, "/kind bug", "reporter")
    labels = set(fake.issue(REPO, issue.number).labels)
    assert {"feature", "rfc/accepted"} <= labels and "bug" not in labels
    assert status_on(fake, "octo", 6, issue) == "Accepted"
    [reply] = [c for c in bot_comments(fake, issue.number) if "/kind bug" in c.body]
    assert "only the **maintainer** role can change its kind" in reply.body


async def test_a_closed_rfc_is_off_the_agenda(bot):
    fake = bot.fake
    issue = await open_issue(bot, "feat: dark mode for the editor", "It would be nice to have a dark theme.")
    await comment(bot, issue.number, "/rfc review", "maint")
    issue.state = "closed"
    payload = retarget(load_example("issues", "opened"), REPO, bot.fake)
    payload["action"] = "closed"
    payload["issue"] = fake.serializer.issue(issue)
    payload["sender"] = fake.serializer.user("reporter")
    await bot.deliver("issues", payload)
    await run_job(bot.runtime, AGENDA, key="test:1", clock=lambda: CALL - timedelta(hours=3))
    [agenda] = fake.repo(REPO).discussions
    assert "No RFC is waiting for review" in agenda.body


async def test_a_missing_category_is_reported_once_and_the_agenda_posted_once_it_exists(bot):
    fake = bot.fake
    fake.repo(REPO).discussion_categories.clear()
    issue = await open_issue(bot, "feat: dark mode for the editor", "It would be nice to have a dark theme.")
    await comment(bot, issue.number, "/rfc review", "maint")
    for minutes in (0, 15):
        await run_job(bot.runtime, AGENDA, key=f"test:{minutes}",
                      clock=lambda: CALL - timedelta(hours=3) + timedelta(minutes=minutes))
    assert fake.repo(REPO).discussions == []
    [report] = [c for c in bot_comments(fake, issue.number) if "Routing problem" in c.body]
    assert report.body.count("@octo/maintainers Routing problem: the Discussion category 'RFC reviews' "
                             "does not exist in octo/repo") == 1
    # Created later the same week: that week's agenda goes out, once.
    fake.add_discussion_category(REPO, "RFC reviews")
    await run_job(bot.runtime, AGENDA, key="test:30", clock=lambda: CALL - timedelta(hours=2))
    [agenda] = fake.repo(REPO).discussions
    assert f"https://github.com/{REPO}/issues/{issue.number}" in agenda.body
    assert await run_job(bot.runtime, AGENDA, key="test:45", clock=lambda: CALL - timedelta(hours=1)) == 0
