"""A newcomer's journey through every feature at once, on one repository: the real bot over
real HTTP against the fake GitHub (which checks every REST request against GitHub's OpenAPI
description and every GraphQL document against its schema), with real example payloads.

Each test follows one person from the issue they file to the pull request that fixes it, with
the maintainers, triagers and co-authors around them, and asserts what a maintainer would see
on GitHub: labels, assignees, board statuses, check runs and the bot's comments. Throughout:
every bot comment is one per purpose and edited in place, no label a person put on is taken
off by the bot, and no text a user wrote makes the bot ping anyone."""
from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml

from bot.features.route import boards
from bot.features.sla import SWEEP
from bot.features.sla import store as sla_store
from bot.scheduler import run_job
from bot.settings import BUNDLED_RULES
from tests.conftest import BOTH_BACKENDS
from tests.fixtures.webhooks import load_example

from .harness import BotHarness, retarget

REPO = "octo/repo"
PHRASE = "I have read the CLA Document and I hereby sign the CLA"
CARD = "<!-- contributor-flow:context-card -->"
CLA = "<!-- contributor-flow:cla -->"
# Texts users wrote that look like mentions: the bot may show them, never as a ping.
USER_PINGS = ("@octo/everyone", "@carol-notes", "@someone-else")
COMMENTS_URL = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
CHECK_RUNS_URL = "/repos/{owner}/{repo}/check-runs"


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def rules_dir(tmp_path) -> str:
    """Every bundled rule file, with the repository's people, boards and components filled in."""
    out = tmp_path / "rules"
    out.mkdir()
    for path in Path(BUNDLED_RULES).glob("*.yml"):
        shutil.copy(path, out / path.name)
    routing = yaml.safe_load((out / "routing.yml").read_text())
    routing["routes"]["bug"]["board"]["number"] = 5
    routing["routes"]["feature"]["board"]["number"] = 6
    routing["rotations"]["triage"].update(people=["alice", "bob", "carol"])
    routing["maintainers"] = "octo/maintainers"
    (out / "routing.yml").write_text(yaml.safe_dump(routing))
    components = yaml.safe_load((out / "components.yml").read_text())
    components["components"] = [
        {"name": "core", "paths": ["src/core/"], "owners": ["alice", "bob"], "guide": "#core",
         "checklist": ["Core stays pure."]},
        {"name": "docs", "paths": ["docs/"], "owners": ["carol"]},
    ]
    (out / "components.yml").write_text(yaml.safe_dump(components))
    sla = yaml.safe_load((out / "sla.yml").read_text())
    sla["team"] = "octo/triagers"
    (out / "sla.yml").write_text(yaml.safe_dump(sla))
    return str(out)


@pytest.fixture
async def bot(fake_github, database_url, rules_dir):
    boards.forget()  # board ids are cached per process; each test has its own fake
    fake = fake_github
    fake.add_repo(REPO)
    fake.add_user("newbie", emails=["newbie@home.example"])
    fake.add_user("pat", emails=["pat@corp.example"])
    for login in ("alice", "bob", "carol", "maint", "tria"):
        fake.add_user(login)
    for login in ("alice", "bob", "carol", "maint"):
        fake.set_permission(REPO, login, "write")
    fake.set_permission(REPO, "tria", "triage")
    fake.add_project("octo", 5, "Triage", fields={"Status": ["Triage", "Done"]})
    fake.add_project("octo", 6, "RFC Draft Board",
                     fields={"Status": ["Draft", "In review", "Accepted", "Rejected", "Postponed"]})
    async with BotHarness(fake, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


# -- what GitHub sends ------------------------------------------------------------------------

def issue_event(fake, action: str, number: int, sender: str, **extra: Any) -> dict[str, Any]:
    # GitHub's examples have no issues.closed: it is issues.reopened's shape.
    payload = retarget(load_example("issues", "reopened" if action == "closed" else action), REPO, fake)
    payload["action"] = action
    payload["issue"] = fake.serializer.issue(fake.issue(REPO, number))
    payload["sender"] = fake.serializer.user(sender)
    payload.update(extra)
    return payload


def pr_event(fake, action: str, number: int, sender: str, **extra: Any) -> dict[str, Any]:
    payload = retarget(load_example("pull_request", action), REPO, fake)
    payload["pull_request"] = fake.serializer.pull(fake.issue(REPO, number))
    payload["number"] = number
    payload["sender"] = fake.serializer.user(sender)
    payload.update(extra)
    return payload


async def relabel(bot, number: int, name: str, sender: str, *, add: bool) -> None:
    """A person adds or takes off a label by hand: GitHub changes it, then tells the bot."""
    fake = bot.fake
    issue = fake.issue(REPO, number)
    if add:
        issue.labels.append(fake.add_label(REPO, name).name)
    else:
        issue.labels = [n for n in issue.labels if n.lower() != name.lower()]
    event = "pull_request" if issue.pull is not None else "issues"
    build = pr_event if issue.pull is not None else issue_event
    payload = build(fake, "labeled" if add else "unlabeled", number, sender,
                    label={"name": name, "color": "ededed"})
    await bot.deliver(event, payload)


async def check_completed(bot, number: int) -> None:
    """GitHub's ``check_run.completed`` for the PR's current ``cla`` run (sent by the App)."""
    fake = bot.fake
    pull = fake.issue(REPO, number).pull
    [run] = cla_runs(fake, pull.head_sha)
    payload = retarget(load_example("check_run", "completed"), REPO, fake)
    payload["check_run"] = {**fake.serializer.check_run(run), "pull_requests": [{
        "id": fake.issue(REPO, number).id, "number": number,
        "url": f"{fake.url}/repos/{REPO}/pulls/{number}",
        "head": {"ref": pull.head_ref, "sha": pull.head_sha},
        "base": {"ref": pull.base_ref, "sha": pull.base_sha}}]}
    payload["sender"] = fake.serializer.user(fake.bot_login)
    await bot.deliver("check_run", payload)


# -- what a maintainer sees ------------------------------------------------------------------

def labels(fake, number: int) -> set[str]:
    return set(fake.issue(REPO, number).labels)


def bot_comments(fake, number: int) -> list:
    return [c for c in fake.issue(REPO, number).comments if c.user == fake.bot_login]


def marked(fake, number: int, marker: str) -> list:
    return [c for c in bot_comments(fake, number) if marker in c.body]


def cla_runs(fake, head_sha: str) -> list:
    return [r for r in fake.state.check_runs.values() if r.head_sha == head_sha and r.name == "cla"]


def status_on(fake, number: int, issue) -> str | None:
    project = fake.state.projects[("octo", number)]
    field = project.fields["Status"]
    for item in project.items:
        if item.content_id == issue.node_id:
            option = item.values.get(field.id)
            return next((name for name, oid in field.options.items() if oid == option), None)
    return None


def removed_labels(fake, number: int) -> list[str]:
    """Every label the bot took off the item, in order."""
    prefix = f"/repos/{REPO}/issues/{number}/labels/"
    return [unquote(c.path[len(prefix):]) for c in fake.calls
            if c.method == "DELETE" and c.path.startswith(prefix) and c.status < 300]


def rendered_text(body: str) -> str:
    """What GitHub reads mentions from: not code spans, code blocks or HTML comments."""
    body = re.sub(r"```.*?```", "", body, flags=re.S)
    body = re.sub(r"<!--.*?-->", "", body, flags=re.S)
    return re.sub(r"(`+)[^`].*?\1", "", body, flags=re.S)


def assert_no_user_pings(fake, number: int) -> None:
    for c in bot_comments(fake, number):
        for ping in USER_PINGS:
            assert not re.search(re.escape(ping) + r"\b", rendered_text(c.body)), (ping, c.body)


def assert_one_comment_per_post(fake, number: int) -> None:
    """Each bot comment was posted once and then only ever edited: never a second copy."""
    posted = [c for c in fake.calls_to("POST", COMMENTS_URL)
              if c.path == f"/repos/{REPO}/issues/{number}/comments" and c.status < 300]
    assert len(posted) == len(bot_comments(fake, number))
    for marker in (CARD, CLA):
        assert len(marked(fake, number, marker)) <= 1, marker


# -- the journeys ----------------------------------------------------------------------------

@BOTH_BACKENDS
async def test_a_first_bug_report_is_triaged_answered_and_turned_into_an_rfc(bot):
    fake = bot.fake
    # The label ledger holds real instants, so this journey lives in the present.
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    issue = fake.add_issue(REPO, title="[Bug] Editor crashes on save (@octo/everyone)", user="newbie",
                           body="### Steps to reproduce\n1. Open a file\n2. Save\n\ncc @someone-else")
    issue.created_at = issue.updated_at = iso(t0)
    await bot.deliver("issues", issue_event(fake, "opened", issue.number, "newbie"))

    # Classified, labelled, assigned from the rotation, on the triage board; nothing asked.
    assert labels(fake, issue.number) == {"bug", "triage"}
    assert fake.issue(REPO, issue.number).assignees == ["alice"]
    assert status_on(fake, 5, issue) == "Triage"
    assert bot_comments(fake, issue.number) == []

    # The SLA clock starts at the opening (the bot's own label, read from its ledger).
    await run_job(bot.runtime, SWEEP, key="journey:1", clock=lambda: t0 + timedelta(minutes=10))
    [clock] = await sla_store.clocks(bot.runtime.db, REPO, number=issue.number)
    assert clock.clock.started == t0 and clock.clock.answered is None

    # The author adds detail (the clock runs on); a maintainer answers (it stops).
    await bot.comment(REPO, issue.number, "It also happens with autosave.", "newbie",
                      created_at=iso(t0 + timedelta(hours=1)))
    await bot.comment(REPO, issue.number, "Thanks, I can reproduce it.", "maint",
                      created_at=iso(t0 + timedelta(hours=3)))
    [clock] = await sla_store.clocks(bot.runtime.db, REPO, number=issue.number)
    assert clock.clock.answered == t0 + timedelta(hours=3)

    # A triager takes the bot's `triage` label off and puts it back: it is theirs now.
    await relabel(bot, issue.number, "triage", "tria", add=False)
    await relabel(bot, issue.number, "triage", "tria", add=True)
    await bot.comment(REPO, issue.number, "/remove-label triage", "maint")
    assert "triage" in labels(fake, issue.number)
    assert "I only remove labels I added" in bot_comments(fake, issue.number)[-1].body

    # The maintainer decides it is a feature: unrouted from triage, onto the RFC board.
    await bot.comment(REPO, issue.number, "/kind feature", "maint")
    assert labels(fake, issue.number) == {"feature", "rfc/draft", "triage"}
    assert status_on(fake, 5, issue) is None
    assert status_on(fake, 6, issue) == "Draft"
    assert fake.issue(REPO, issue.number).assignees == ["alice"]      # assignees stay

    await bot.comment(REPO, issue.number, "/rfc review", "maint")
    assert labels(fake, issue.number) == {"feature", "rfc/review", "triage"}
    assert status_on(fake, 6, issue) == "In review"

    # Nothing more is owed: no warning, even past the deadline.
    await run_job(bot.runtime, SWEEP, key="journey:2", clock=lambda: t0 + timedelta(hours=80))
    assert not [c for c in bot_comments(fake, issue.number) if "sla-" in c.body]
    assert "sla/breached" not in labels(fake, issue.number)

    assert "triage" not in removed_labels(fake, issue.number)
    assert sorted(removed_labels(fake, issue.number)) == ["bug", "rfc/draft"]
    assert_no_user_pings(fake, issue.number)
    assert_one_comment_per_post(fake, issue.number)
    assert fake.violations == []


@BOTH_BACKENDS
async def test_a_first_pull_request_with_a_co_author_from_card_to_reopen(bot):
    fake = bot.fake
    # pat has a commit on a default branch (a merged pull request): commit search, which
    # searches default branches only, links the trailer's email.
    fake.add_pull("octo/elsewhere", user="pat", merged=True,
                  commits=[{"message": "Pat's own work", "author": "pat"}])
    pr = fake.add_pull(
        REPO, user="newbie", title="Fix the crash on save @octo/everyone",
        body="Fixes the crash on save.\n\ncc @someone-else",
        files=["src/core/editor.py", "docs/@carol-notes.md"],
        commits=[{"message": "Fix the crash on save\n\nCo-authored-by: Pat <pat@corp.example>",
                  "author": "newbie@home.example"}])
    first_head = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, "opened", pr.number, "newbie"))

    # CLA: both authors must sign; nothing to push.
    [run] = cla_runs(fake, first_head)
    assert (run.status, run.conclusion) == ("completed", "action_required"), run.output
    assert "`newbie`" in run.output["summary"] and "`pat`" in run.output["summary"]
    assert labels(fake, pr.number) == {"cla: no", "area/core", "area/docs"}
    # The card: owners (linked, not pinged), the first-timer's welcome, reviewers asked.
    [card] = marked(fake, pr.number, CARD)
    assert "[alice](https://github.com/alice)" in card.body and "[bob](https://github.com/bob)" in card.body
    assert "Welcome" in card.body and "first pull request" in card.body
    assert sorted(fake.issue(REPO, pr.number).pull.requested_reviewers) == ["alice", "bob"]
    [cla_comment] = marked(fake, pr.number, CLA)
    assert "@newbie" in cla_comment.body and "@pat" in cla_comment.body and PHRASE in cla_comment.body

    # The check's completion refreshes the card with the CLA line.
    await check_completed(bot, pr.number)
    [card] = marked(fake, pr.number, CARD)
    assert "CLA: ❌ waiting for" in card.body and "`pat`" in card.body

    # A maintainer labels it by hand; the author signs, then the co-author.
    await relabel(bot, pr.number, "needs-review", "maint", add=True)
    await bot.comment(REPO, pr.number, PHRASE, "newbie")
    [run] = cla_runs(fake, first_head)
    assert run.conclusion == "action_required"
    await check_completed(bot, pr.number)
    await bot.comment(REPO, pr.number, PHRASE + ".", "pat")
    [run] = cla_runs(fake, first_head)
    assert run.conclusion == "success"
    await check_completed(bot, pr.number)
    assert labels(fake, pr.number) == {"cla: yes", "area/core", "area/docs", "needs-review"}
    [card] = marked(fake, pr.number, CARD)
    assert "CLA: ✅ everyone is covered" in card.body
    [cla_comment] = marked(fake, pr.number, CLA)
    assert "CLA check passed" in cla_comment.body

    # A maintainer takes `area/docs` off; the author pushes, touching docs again.
    await relabel(bot, pr.number, "area/docs", "maint", add=False)
    posts_before = len(fake.calls_to("POST", COMMENTS_URL))
    commit = fake.make_commit({"message": "Address review", "author": "newbie@home.example"},
                              default_author="newbie", parent=first_head)
    pull = fake.issue(REPO, pr.number).pull
    pull.commits.append(commit)
    fake.repo(REPO).commits[commit.sha] = commit
    pull.head_sha = commit.sha
    pull.files.append(type(pull.files[0])(filename="docs/guide.md"))
    await bot.deliver("pull_request", pr_event(fake, "synchronize", pr.number, "newbie",
                                               before=first_head, after=commit.sha))
    [run] = cla_runs(fake, commit.sha)
    assert run.conclusion == "success"                              # the signatures carry over
    await check_completed(bot, pr.number)
    assert len(fake.calls_to("POST", COMMENTS_URL)) == posts_before  # edited, never a second card
    [card] = marked(fake, pr.number, CARD)
    assert "guide.md" in card.body and "CLA: ✅ everyone is covered" in card.body
    assert labels(fake, pr.number) == {"cla: yes", "area/core", "needs-review"}

    # `/close` and `/reopen` by a maintainer; GitHub reports the bot as the one who did it.
    await bot.comment(REPO, pr.number, "/close", "maint")
    assert fake.issue(REPO, pr.number).state == "closed"
    await bot.deliver("pull_request", pr_event(fake, "closed", pr.number, fake.bot_login))
    await bot.comment(REPO, pr.number, "/reopen", "maint")
    assert fake.issue(REPO, pr.number).state == "open"
    await bot.deliver("pull_request", pr_event(fake, "reopened", pr.number, fake.bot_login))
    assert [r.conclusion for r in cla_runs(fake, commit.sha)] == ["success"]
    assert labels(fake, pr.number) == {"cla: yes", "area/core", "needs-review"}

    assert "needs-review" not in removed_labels(fake, pr.number)
    assert removed_labels(fake, pr.number) == ["cla: no"]
    assert_no_user_pings(fake, pr.number)
    assert_one_comment_per_post(fake, pr.number)
    assert fake.violations == []


async def test_what_a_newcomer_writes_is_never_turned_into_a_ping(bot):
    """An unclear first issue full of mentions, commands the newcomer may not run (with
    mentions for arguments), a typo, /explain, then the SLA's warning and breach: the bot
    answers each once, naming only the people its rules name."""
    fake = bot.fake
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    issue = fake.add_issue(REPO, title="Hello @octo/everyone", user="newbie",
                           body="Just wanted to say something to @someone-else.")
    issue.created_at = issue.updated_at = iso(t0)
    await bot.deliver("issues", issue_event(fake, "opened", issue.number, "newbie"))
    assert labels(fake, issue.number) == {"needs-triage"}
    [ask] = bot_comments(fake, issue.number)
    assert "/kind bug" in ask.body

    await bot.comment(REPO, issue.number, "/label @octo/everyone", "newbie")
    await bot.comment(REPO, issue.number, "/lable @octo/everyone", "newbie")
    await bot.comment(REPO, issue.number, "/assign @someone-else @carol-notes", "newbie")
    await bot.comment(REPO, issue.number, "/priority @octo/everyone", "maint")
    await bot.comment(REPO, issue.number, "/explain", "newbie")
    explained = bot_comments(fake, issue.number)[-1].body
    assert "Your roles here:" in explained
    assert fake.issue(REPO, issue.number).assignees == []

    # Nobody answers: the bot routes nothing, but the unclear issue is still owed an answer?
    # (It has no kind, so no policy covers it.) The author gives the kind.
    await bot.comment(REPO, issue.number, "/kind bug", "newbie")
    assert {"bug", "triage"} <= labels(fake, issue.number) and "needs-triage" not in labels(fake, issue.number)
    await run_job(bot.runtime, SWEEP, key="pings:1", clock=lambda: t0 + timedelta(minutes=10))
    await run_job(bot.runtime, SWEEP, key="pings:2", clock=lambda: t0 + timedelta(hours=49))
    await run_job(bot.runtime, SWEEP, key="pings:3", clock=lambda: t0 + timedelta(hours=73))
    warnings = [c for c in bot_comments(fake, issue.number) if "sla-warning" in c.body]
    breaches = [c for c in bot_comments(fake, issue.number) if "sla-breach" in c.body]
    assert len(warnings) == 1 and len(breaches) == 1
    assert warnings[0].body.split("\n")[1].startswith("@alice @bob @carol: ")  # the rotation
    assert "sla/breached" in labels(fake, issue.number)

    assert_no_user_pings(fake, issue.number)
    assert_one_comment_per_post(fake, issue.number)
    assert fake.violations == []


@BOTH_BACKENDS
async def test_the_authors_kind_in_the_body_of_a_new_issue_wins_over_the_classifier(bot):
    """A bug-shaped issue whose author says in its body what it is: the commands feature reads
    the body of a new issue in the same delivery the classifier decides on. The author's word
    wins: the issue is routed once, as a feature, and never to the bug rotation or board."""
    fake = bot.fake
    issue = fake.add_issue(REPO, title="[Bug] Saving is slow", user="newbie",
                           body="### Steps to reproduce\n1. Save a big file\n\n"
                                "On reflection this is a request for a faster saver.\n/kind feature\n")
    await bot.deliver("issues", issue_event(fake, "opened", issue.number, "newbie"))
    assert labels(fake, issue.number) == {"feature", "rfc/draft"}
    assert status_on(fake, 6, issue) == "Draft"
    assert status_on(fake, 5, issue) is None
    assert fake.issue(REPO, issue.number).assignees == []           # no turn of the bug rotation
    assert [r.content for r in fake.issue(REPO, issue.number).reactions
            if r.user == fake.bot_login] == ["+1"]
    assert bot_comments(fake, issue.number) == []

    # A /kind that does not name a kind leaves the issue to the classifier (and gets its usage).
    other = fake.add_issue(REPO, title="[Bug] Saving fails", user="newbie",
                           body="### Steps to reproduce\n1. Save\n/kind speed\n")
    await bot.deliver("issues", issue_event(fake, "opened", other.number, "newbie"))
    assert labels(fake, other.number) == {"bug", "triage"}
    assert status_on(fake, 5, other) == "Triage"
    [usage] = bot_comments(fake, other.number)
    assert "Unknown kind" in usage.body
    assert fake.violations == []


async def test_kind_back_and_forth_close_and_reopen_keep_the_persons_label_and_the_rfc(bot):
    fake = bot.fake
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    issue = fake.add_issue(REPO, title="[Bug] Undo loses the selection", user="newbie",
                           body="### Steps to reproduce\n1. Select\n2. Undo")
    issue.created_at = issue.updated_at = iso(t0)
    await bot.deliver("issues", issue_event(fake, "opened", issue.number, "newbie"))
    assert labels(fake, issue.number) == {"bug", "triage"}
    await run_job(bot.runtime, SWEEP, key="back:1", clock=lambda: t0 + timedelta(minutes=10))

    await relabel(bot, issue.number, "triage", "tria", add=False)
    await relabel(bot, issue.number, "triage", "tria", add=True)
    await bot.comment(REPO, issue.number, "/kind feature", "maint")
    await bot.comment(REPO, issue.number, "/kind bug", "maint")          # changing back routes it again
    assert {"bug", "triage"} <= labels(fake, issue.number)
    assert not {"feature", "rfc/draft"} & labels(fake, issue.number)
    assert status_on(fake, 5, issue) == "Triage" and status_on(fake, 6, issue) is None
    await bot.comment(REPO, issue.number, "/kind feature", "maint")
    assert labels(fake, issue.number) == {"feature", "rfc/draft", "triage"}
    assert status_on(fake, 5, issue) is None and status_on(fake, 6, issue) == "Draft"
    await bot.comment(REPO, issue.number, "/rfc review", "maint")

    # A maintainer's /close: the bot closes it (GitHub names the bot as the closer).
    await bot.comment(REPO, issue.number, "/close", "maint")
    assert fake.issue(REPO, issue.number).state == "closed"
    await bot.deliver("issues", issue_event(fake, "closed", issue.number, fake.bot_login))
    # The author reopens it by hand: the RFC comes back as it was, nothing is routed twice.
    fake.issue(REPO, issue.number).state = "open"
    fake.issue(REPO, issue.number).closed_at = None
    adds_before = len(fake.graphql_calls("addProjectV2ItemById"))
    await bot.deliver("issues", issue_event(fake, "reopened", issue.number, "newbie"))
    assert labels(fake, issue.number) == {"feature", "rfc/review", "triage"}
    assert status_on(fake, 6, issue) == "In review"
    assert len(fake.graphql_calls("addProjectV2ItemById")) == adds_before

    # The bugs clock: the maintainer's /close was their answer; no warning ever comes.
    await run_job(bot.runtime, SWEEP, key="back:2", clock=lambda: t0 + timedelta(hours=80))
    assert not [c for c in bot_comments(fake, issue.number) if "sla-" in c.body]
    assert "triage" not in removed_labels(fake, issue.number)
    assert_no_user_pings(fake, issue.number)
    assert_one_comment_per_post(fake, issue.number)
    assert fake.violations == []


async def test_after_a_first_merge_the_next_pull_request_gets_no_welcome(bot):
    fake = bot.fake
    first = fake.add_pull(REPO, user="newbie", head_ref="one", files=["docs/a.md"],
                          commits=[{"message": "Docs", "author": "newbie@home.example"}])
    await bot.deliver("pull_request", pr_event(fake, "opened", first.number, "newbie"))
    assert "Welcome" in marked(fake, first.number, CARD)[0].body
    await bot.comment(REPO, first.number, PHRASE, "newbie")
    assert cla_runs(fake, first.pull.head_sha)[0].conclusion == "success"
    # carol merges it on GitHub
    pull = fake.issue(REPO, first.number)
    pull.state, pull.closed_at = "closed", iso(datetime.now(timezone.utc))
    pull.pull.merged, pull.pull.merged_at, pull.pull.merged_by = True, pull.closed_at, "carol"
    await bot.deliver("pull_request", pr_event(fake, "closed", first.number, "carol"))

    second = fake.add_pull(REPO, user="newbie", head_ref="two", files=["src/core/b.py"],
                           commits=[{"message": "Core", "author": "newbie@home.example"}])
    await bot.deliver("pull_request", pr_event(fake, "opened", second.number, "newbie"))
    [card] = marked(fake, second.number, CARD)
    assert "Welcome" not in card.body
    assert cla_runs(fake, second.pull.head_sha)[0].conclusion == "success"  # signed once, for good
    assert labels(fake, second.number) == {"cla: yes", "area/core"}
    assert marked(fake, second.number, CLA) == []                           # nothing ever failed
    assert fake.violations == []


async def test_a_cla_label_a_maintainer_put_back_stays_after_the_signature(bot):
    fake = bot.fake
    pr = fake.add_pull(REPO, user="newbie", files=["docs/a.md"],
                       commits=[{"message": "Docs", "author": "newbie@home.example"}])
    await bot.deliver("pull_request", pr_event(fake, "opened", pr.number, "newbie"))
    assert "cla: no" in labels(fake, pr.number)
    await relabel(bot, pr.number, "cla: no", "maint", add=False)
    await relabel(bot, pr.number, "cla: no", "maint", add=True)
    await bot.comment(REPO, pr.number, PHRASE, "newbie")
    assert cla_runs(fake, pr.pull.head_sha)[0].conclusion == "success"
    assert {"cla: no", "cla: yes"} <= labels(fake, pr.number)          # the maintainer's stays
    assert removed_labels(fake, pr.number) == []
    assert fake.violations == []


async def test_the_authors_own_kind_change_takes_the_issue_out_of_the_bug_clock(bot):
    fake = bot.fake
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    issue = fake.add_issue(REPO, title="[Bug] No dark mode", user="newbie", body="### Steps to reproduce\nLook")
    issue.created_at = issue.updated_at = iso(t0)
    await bot.deliver("issues", issue_event(fake, "opened", issue.number, "newbie"))
    await run_job(bot.runtime, SWEEP, key="own:1", clock=lambda: t0 + timedelta(minutes=10))
    [clock] = await sla_store.clocks(bot.runtime.db, REPO, number=issue.number)
    assert clock.clock.started == t0
    await bot.comment(REPO, issue.number, "/kind feature", "newbie")
    assert labels(fake, issue.number) == {"feature", "rfc/draft"}       # the bot's triage label went too
    assert fake.issue(REPO, issue.number).assignees == ["alice"]
    await run_job(bot.runtime, SWEEP, key="own:2", clock=lambda: t0 + timedelta(hours=49))
    await run_job(bot.runtime, SWEEP, key="own:3", clock=lambda: t0 + timedelta(hours=80))
    assert not [c for c in bot_comments(fake, issue.number) if "sla-" in c.body]
    assert "sla/breached" not in labels(fake, issue.number)
    assert fake.violations == []
