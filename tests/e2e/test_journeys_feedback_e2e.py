"""Journeys where GitHub answers back: the bot's own label changes come back to it as webhooks,
a maintainer takes a kind label off by hand, and an issue moves to another repository halfway
through. The real bot over real HTTP against the fake GitHub, with GitHub's example payloads,
on the fixtures of ``test_contributor_journey_e2e``.

GitHub sends an App the webhooks of what the App itself did: every label the bot puts on or
takes off comes back as ``labeled``/``unlabeled`` sent by ``contributor-flow[bot]`` (type Bot).
:class:`Echo` sends exactly those, in the order the fake logged them, after each step."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from bot.core import sla
from bot.features.classify import store as classify_store
from bot.features.route import store as route_store
from bot.features.sla import SWEEP
from bot.features.sla import store as sla_store
from bot.features.sla.report import sla_figures
from bot.scheduler import run_job
from bot.store import state
from tests.conftest import BOTH_BACKENDS
from tests.fakegithub.events import record as log_event
from tests.fixtures.webhooks import load_example

from .harness import retarget
from .test_contributor_journey_e2e import (  # noqa: F401  (bot and rules_dir are fixtures)
    PHRASE, REPO, assert_no_user_pings, assert_one_comment_per_post, bot, bot_comments, check_completed,
    cla_runs, iso, labels, marked, pr_event, removed_labels, rules_dir, status_on)

OTHER = "octo/other"
SLA_MARK = "contributor-flow:sla-"


# -- GitHub's webhooks for what the bot did ---------------------------------------------------

def is_write(call) -> bool:
    """A call that changes something on GitHub (tokens and read-only GraphQL aside)."""
    if call.template == "/graphql":
        return str((call.json or {}).get("query", "")).lstrip().startswith("mutation")
    return call.method in ("POST", "PATCH", "PUT", "DELETE") and not call.path.startswith("/app/")


def bot_writes(fake) -> int:
    return sum(1 for c in fake.calls if is_write(c))


def labels_after(issue, index: int) -> list[str]:
    """The item's labels just after its ``index``-th logged event: today's, with the label
    events logged since undone (every change is logged: the bot's by the fake, people's by
    :func:`by_hand`)."""
    names = list(issue.labels)
    for event in reversed(issue.events[index + 1:]):
        name = (event.get("label") or {}).get("name")
        if event["event"] == "labeled":
            names = [n for n in names if n.lower() != name.lower()]
        elif event["event"] == "unlabeled" and name.lower() not in (n.lower() for n in names):
            names.append(name)
    return names


class Echo:
    """Sends the bot the ``labeled``/``unlabeled`` webhooks GitHub sends for the label changes
    the bot made (the fake logs them as issue events whose actor is the App's bot user), oldest
    first, and again for whatever those made the bot do, until nothing is left.

    Each echo must leave GitHub alone (not one more write), and nothing may be decided on it but
    the store's bookkeeping (``Record`` actions: the SLA notes when a label left an item)."""

    ROUNDS = 4

    def __init__(self, harness) -> None:
        self.bot = harness
        self.fake = harness.fake
        self.done: dict[int, int] = {}        # issue id -> events already looked at
        self.sent: list[tuple[str, str, int, str]] = []  # (action, repo, number, label)

    def _pending(self) -> list[tuple[str, dict[str, Any]]]:
        fake, out = self.fake, []
        for repo in fake.state.repos.values():
            for issue in repo.issues.values():
                start = self.done.get(issue.id, 0)
                self.done[issue.id] = len(issue.events)
                for index in range(start, len(issue.events)):
                    event = issue.events[index]
                    if event["event"] in ("labeled", "unlabeled") and event["actor"]["login"] == fake.bot_login:
                        out.append(self._payload(issue, index))
        return out

    def _payload(self, issue, index: int) -> tuple[str, dict[str, Any]]:
        fake, event = self.fake, issue.events[index]
        action, name = event["event"], event["label"]["name"]
        labels = fake.state.repos[issue.repo].labels
        if issue.pull is not None:
            payload = retarget(load_example("pull_request", action), issue.repo, fake)
            payload["pull_request"] = fake.serializer.pull(issue)
            payload["number"] = issue.number
            item, kind = payload["pull_request"], "pull_request"
        else:
            payload = retarget(load_example("issues", action), issue.repo, fake)
            payload["issue"] = fake.serializer.issue(issue)
            item, kind = payload["issue"], "issues"
        # As GitHub sends it: the item as that change left it, dated by it.
        item["labels"] = [fake.serializer.label(labels[n.lower()]) for n in labels_after(issue, index)
                          if n.lower() in labels]
        item["updated_at"] = event["created_at"]
        known = labels.get(name.lower())
        payload["label"] = fake.serializer.label(known) if known else {"name": name, "color": event["label"]["color"]}
        payload["sender"] = fake.serializer.user(fake.bot_login)
        assert payload["sender"]["type"] == "Bot"
        self.sent.append((action, issue.repo, issue.number, name))
        return kind, payload

    async def __call__(self) -> int:
        """Send every pending echo; returns how many were sent."""
        writes = bot_writes(self.fake)
        count = 0
        for _ in range(self.ROUNDS):
            batch = self._pending()
            if not batch:
                break
            for event, payload in batch:
                delivery_id = await self.bot.deliver(event, payload)
                assert await self.bot.status(delivery_id) == "done"
                kinds = {r["kind"] for r in await self.bot.runtime.db.fetchall(
                    "SELECT kind FROM executed_actions WHERE delivery_id = ?", (delivery_id,))}
                assert kinds <= {"Record"}, (payload["action"], payload["label"]["name"], kinds)
                notes = await self.bot.runtime.db.fetchall(
                    "SELECT summary FROM decisions WHERE delivery_id = ?", (delivery_id,))
                assert notes == [], notes
            count += len(batch)
        else:
            raise AssertionError(f"the bot keeps answering its own label events: {self.sent[-10:]}")
        assert bot_writes(self.fake) == writes, "the bot acted on its own label events"
        return count


async def ledger(bot, number: int, repo: str = REPO) -> tuple[set[str], dict[str, str]]:
    """The labels the bot holds as its own on the item, and those released (name -> by whom)."""
    db = bot.runtime.db
    return await state.bot_labels(db, repo, number), await state.released_bot_labels(db, repo, number)


async def by_hand(bot, number: int, name: str, sender: str, *, add: bool, repo: str = REPO) -> None:
    """A person adds or takes off a label: GitHub changes it (and the item's ``updated_at``),
    logs it, then tells the bot."""
    fake = bot.fake
    issue = fake.issue(repo, number)
    if add:
        issue.labels.append(fake.add_label(repo, name).name)
    else:
        issue.labels = [n for n in issue.labels if n.lower() != name.lower()]
    issue.updated_at = iso(datetime.now(timezone.utc))
    label = fake.state.repos[repo].labels[name.lower()]
    action = "labeled" if add else "unlabeled"
    log_event(fake, issue, action, actor=sender, label={"name": label.name, "color": label.color})
    if issue.pull is not None:
        payload = retarget(load_example("pull_request", action), repo, bot.fake)
        payload["pull_request"] = fake.serializer.pull(issue)
        payload["number"] = number
    else:
        payload = retarget(load_example("issues", action), repo, bot.fake)
        payload["issue"] = fake.serializer.issue(issue)
    payload["label"] = fake.serializer.label(label)
    payload["sender"] = fake.serializer.user(sender)
    await bot.deliver("pull_request" if issue.pull is not None else "issues", payload)


async def edit_body(bot, number: int, body: str, sender: str, repo: str = REPO) -> None:
    fake = bot.fake
    issue = fake.issue(repo, number)
    before, issue.body = issue.body, body
    issue.updated_at = iso(datetime.now(timezone.utc))
    payload = retarget(load_example("issues", "edited"), repo, bot.fake)
    payload["issue"] = fake.serializer.issue(issue)
    payload["changes"] = {"body": {"from": before}}
    payload["sender"] = fake.serializer.user(sender)
    await bot.deliver("issues", payload)


async def open_issue(bot, title: str, body: str, user: str, at: datetime, repo: str = REPO):
    fake = bot.fake
    issue = fake.add_issue(repo, title=title, user=user, body=body)
    issue.created_at = issue.updated_at = iso(at)
    payload = retarget(load_example("issues", "opened"), repo, bot.fake)
    payload["issue"] = fake.serializer.issue(issue)
    payload["sender"] = fake.serializer.user(user)
    await bot.deliver("issues", payload)
    return issue


async def sweep(bot, key: str, at: datetime) -> None:
    await run_job(bot.runtime, SWEEP, key=key, clock=lambda: at)


def sla_comments(fake, number: int, repo: str = REPO) -> list:
    return [c for c in fake.issue(repo, number).comments if c.user == fake.bot_login and SLA_MARK in c.body]


async def human_examples(bot, repo: str = REPO) -> list[tuple[int, str, str]]:
    return [(e["number"], e["kind"], e["labelled_by"]) for e in await classify_store.examples(bot.runtime.db, repo)]


# -- 1. the bot's own label events ------------------------------------------------------------

@BOTH_BACKENDS
async def test_the_bots_own_label_events_on_an_issue_are_not_anyones_word(bot):
    """Every label the classifier, routing, the RFC commands and the SLA put on or take off
    comes back as a webhook from the bot itself: nothing is routed again, no kind is taken as
    a person's, the bot's labels stay its own, no comment, no ping, and the writes settle. The
    SLA alone listens (a label gone is a policy left) and still sees the item come back."""
    fake = bot.fake
    db = bot.runtime.db
    echo = Echo(bot)
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    issue = await open_issue(bot, "[Bug] Editor crashes on save (@octo/everyone)",
                             "### Steps to reproduce\n1. Open a file\n2. Save\n\ncc @someone-else", "newbie", t0)
    assert labels(fake, issue.number) == {"bug", "triage"}
    assert await echo() == 2                                           # bug, triage: from the bot
    assert labels(fake, issue.number) == {"bug", "triage"}
    assert fake.issue(REPO, issue.number).assignees == ["alice"]
    assert status_on(fake, 5, issue) == "Triage"
    decided = await classify_store.item(db, REPO, issue.number)
    assert (decided["kind"], decided["source"]) == ("bug", "bot")
    assert await human_examples(bot) == []                             # the bot's label taught nothing
    assert await ledger(bot, issue.number) == ({"bug", "triage"}, {})
    assert [r["kind"] for r in await route_store.routings(db, REPO, issue.number)] == ["bug"]
    assert len(fake.graphql_calls("addProjectV2ItemById")) == 1

    other = await open_issue(bot, "[Bug] Undo loses the selection", "### Steps to reproduce\n1. Undo", "pat", t0)
    assert await echo() == 2
    await sweep(bot, "echo:1", t0 + timedelta(minutes=10))
    [clock] = await sla_store.clocks(db, REPO, number=issue.number)
    assert clock.clock.started == t0

    # The author calls it a feature; a maintainer, before GitHub's webhooks of that arrive,
    # says it is a bug after all. Then the eight webhooks come, the stale ones first.
    await bot.comment(REPO, issue.number, "/kind feature", "newbie")
    assert labels(fake, issue.number) == {"feature", "rfc/draft"}
    await bot.comment(REPO, issue.number, "/kind bug", "maint")
    assert labels(fake, issue.number) == {"bug", "triage"}
    assert await echo() == 8
    assert labels(fake, issue.number) == {"bug", "triage"}
    assert await ledger(bot, issue.number) == ({"bug", "triage"}, {})   # its own, to remove later
    assert await human_examples(bot) == [(issue.number, "bug", "maint")]
    assert [r["kind"] for r in await route_store.routings(db, REPO, issue.number)] == ["bug"]
    assert status_on(fake, 5, issue) == "Triage" and status_on(fake, 6, issue) is None
    assert fake.issue(REPO, issue.number).assignees == ["alice"]
    # The next sweep (every 10 minutes) reads the bot's bug label, back, from its ledger.
    await sweep(bot, "echo:1b", t0 + timedelta(minutes=20))
    [clock] = await sla_store.clocks(db, REPO, number=issue.number)
    assert not sla.is_paused(clock.clock, t0 + timedelta(minutes=20))

    # A bug again, owed an answer all along but for the seconds it was a feature: both
    # reports are warned, then breached; `sla/breached` comes back too.
    await sweep(bot, "echo:2", t0 + timedelta(hours=49))
    assert [len(sla_comments(fake, n)) for n in (issue.number, other.number)] == [1, 1]
    await sweep(bot, "echo:3", t0 + timedelta(hours=73))
    assert "sla/breached" in labels(fake, other.number) and "sla/breached" in labels(fake, issue.number)
    assert await echo() == 2
    assert [len(sla_comments(fake, n)) for n in (issue.number, other.number)] == [2, 2]
    [breached] = await sla_store.clocks(db, REPO, number=other.number)
    assert breached.breached_at is not None and breached.clock.answered is None  # its own label answers no one

    # The maintainer changes their mind: a feature, in review. The bot's own removals of bug,
    # triage and rfc/draft neither route it back nor move the RFC back to draft.
    await bot.comment(REPO, issue.number, "/kind feature", "maint")
    assert await echo() == 4
    await bot.comment(REPO, issue.number, "/rfc review", "maint")
    assert await echo() == 2
    assert labels(fake, issue.number) == {"feature", "rfc/review", "sla/breached"}
    assert await ledger(bot, issue.number) == ({"feature", "rfc/review", "sla/breached"}, {})
    assert await human_examples(bot) == [(issue.number, "feature", "maint")]
    assert (await route_store.rfc(db, REPO, issue.number))["state"] == "review"
    assert status_on(fake, 5, issue) is None and status_on(fake, 6, issue) == "In review"

    # Against that: a person's removal is theirs, and from then on the label is not the bot's.
    await by_hand(bot, other.number, "triage", "tria", add=False)
    assert await ledger(bot, other.number) == ({"bug", "sla/breached"}, {"triage": "tria"})

    # Nothing more is owed, nobody is called again, and nothing is left to echo.
    posts = len(fake.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"))
    await sweep(bot, "echo:4", t0 + timedelta(hours=200))
    assert len(fake.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")) == posts
    assert await echo() == 0

    assert sorted(removed_labels(fake, issue.number)) == ["bug", "bug", "feature", "rfc/draft", "rfc/draft",
                                                          "triage", "triage"]
    assert removed_labels(fake, other.number) == []
    for number in (issue.number, other.number):
        assert_no_user_pings(fake, number)
        assert_one_comment_per_post(fake, number)
    assert fake.violations == []


@BOTH_BACKENDS
async def test_the_bots_own_label_events_on_a_pull_request_change_nothing(bot):
    """``cla: no``, the area label, then ``cla: yes`` for ``cla: no`` once everyone signed: each
    comes back from the bot itself, and the check, the card, the CLA comment, the review
    requests and the bot's hold on its labels stay as they were."""
    fake = bot.fake
    echo = Echo(bot)
    pr = fake.add_pull(REPO, user="newbie", title="Fix the crash on save", body="Fixes the crash.",
                       files=["src/core/editor.py"],
                       commits=[{"message": "Fix the crash on save", "author": "newbie@home.example"}])
    await bot.deliver("pull_request", pr_event(fake, "opened", pr.number, "newbie"))
    assert labels(fake, pr.number) == {"cla: no", "area/core"}
    assert await echo() == 2
    await check_completed(bot, pr.number)
    [run] = cla_runs(fake, pr.pull.head_sha)
    assert run.conclusion == "action_required"
    assert await ledger(bot, pr.number) == ({"cla: no", "area/core"}, {})
    assert sorted(fake.issue(REPO, pr.number).pull.requested_reviewers) == ["alice", "bob"]

    await bot.comment(REPO, pr.number, PHRASE, "newbie")
    assert labels(fake, pr.number) == {"cla: yes", "area/core"}
    assert await echo() == 2                                          # cla: yes on, cla: no off
    await check_completed(bot, pr.number)
    assert [r.conclusion for r in cla_runs(fake, pr.pull.head_sha)] == ["success"]
    assert labels(fake, pr.number) == {"cla: yes", "area/core"}
    assert await ledger(bot, pr.number) == ({"cla: yes", "area/core"}, {})
    [card] = marked(fake, pr.number, "<!-- contributor-flow:context-card -->")
    assert "CLA: ✅ everyone is covered" in card.body

    # Against that: the maintainer's removal of the area label is theirs.
    await by_hand(bot, pr.number, "area/core", "maint", add=False)
    assert await ledger(bot, pr.number) == ({"cla: yes"}, {"area/core": "maint"})
    assert await echo() == 0
    assert removed_labels(fake, pr.number) == ["cla: no"]
    assert_no_user_pings(fake, pr.number)
    assert_one_comment_per_post(fake, pr.number)
    assert fake.violations == []


# -- 2. a kind label a maintainer takes off ---------------------------------------------------

@BOTH_BACKENDS
async def test_a_kind_label_a_maintainer_takes_off_stays_off_and_the_routing_stays(bot):
    """The classifier said bug and routed it; a maintainer takes ``bug`` off. The bot never puts
    it back (an edit that still reads like a bug included), asks nobody, and leaves the routing
    as it is (triage label, assignee, board item) until the issue is given a kind; the bugs
    clock stops counting. The kind a maintainer then gives undoes the bug routing as usual."""
    fake = bot.fake
    db = bot.runtime.db
    echo = Echo(bot)
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    steps = "### Steps to reproduce\n1. Open a file\n2. Save"
    issue = await open_issue(bot, "[Bug] Editor crashes on save", steps, "newbie", t0)
    assert labels(fake, issue.number) == {"bug", "triage"}
    await echo()
    await sweep(bot, "off:1", t0 + timedelta(minutes=10))
    [clock] = await sla_store.clocks(db, REPO, number=issue.number)
    assert clock.clock.started == t0

    await by_hand(bot, issue.number, "bug", "maint", add=False)
    assert labels(fake, issue.number) == {"triage"}
    assert fake.issue(REPO, issue.number).assignees == ["alice"]
    assert status_on(fake, 5, issue) == "Triage"
    assert await ledger(bot, issue.number) == ({"triage"}, {"bug": "maint"})
    decided = await classify_store.item(db, REPO, issue.number)
    assert (decided["kind"], decided["source"]) == (None, "removed")
    assert await classify_store.removed_labels(db, REPO, issue.number) == {"bug"}
    assert await human_examples(bot) == []                    # taking a kind off teaches no kind
    assert bot_comments(fake, issue.number) == []
    assert await echo() == 0

    # The author adds detail that reads even more like a bug: still not put back, nobody asked.
    await edit_body(bot, issue.number, steps + "\n3. Crash\n\n### Expected behaviour\nNo crash", "newbie")
    await bot.comment(REPO, issue.number, "It also crashes with autosave.", "newbie")
    assert labels(fake, issue.number) == {"triage"}
    assert bot_comments(fake, issue.number) == []
    assert await echo() == 0

    # Out of the bugs policy since the label went: nobody is warned or called.
    for key, at in (("off:2", t0 + timedelta(hours=49)), ("off:3", t0 + timedelta(hours=80))):
        await sweep(bot, key, at)
    assert sla_comments(fake, issue.number) == [] and "sla/breached" not in labels(fake, issue.number)
    [clock] = await sla_store.clocks(db, REPO, number=issue.number)
    assert sla.state(clock.clock, t0 + timedelta(hours=80)) == sla.PAUSED
    assert sla.counted(clock.clock, t0 + timedelta(hours=80)) < 600

    # A maintainer says what it is: the bug routing goes (the bot's triage label, the triage
    # board), the feature's comes; the assignee stays, and bug stays off.
    await bot.comment(REPO, issue.number, "/kind feature", "maint")
    assert labels(fake, issue.number) == {"feature", "rfc/draft"}
    assert status_on(fake, 5, issue) is None and status_on(fake, 6, issue) == "Draft"
    assert fake.issue(REPO, issue.number).assignees == ["alice"]
    assert await echo() == 3
    assert labels(fake, issue.number) == {"feature", "rfc/draft"}

    assert sorted(removed_labels(fake, issue.number)) == ["triage"]   # bug went by a person's hand
    assert_no_user_pings(fake, issue.number)
    assert_one_comment_per_post(fake, issue.number)
    assert fake.violations == []


# -- 3. an issue moved to another repository halfway ------------------------------------------

def transfer(fake, old, new_repo: str, at: datetime):
    """GitHub moves the issue at ``at``: a new issue in ``new_repo`` (created then) with the
    author, title, body, assignees and comments, and those of its labels the new repository
    has; the old address no longer answers in the old repository."""
    target = fake.repo(new_repo)
    moved = fake.add_issue(new_repo, title=old.title, body=old.body, user=old.user,
                           labels=[n for n in old.labels if n.lower() in target.labels],
                           assignees=list(old.assignees))
    moved.comments = list(old.comments)
    moved.created_at = moved.updated_at = old.updated_at = iso(at)
    del fake.repo(old.repo).issues[old.number]
    return moved


def transfer_payloads(fake, old, moved, sender: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``issues.transferred`` to the old repository, ``issues.opened`` with
    ``changes.old_issue``/``old_repository`` to the new one."""
    transferred = retarget(load_example("issues", "transferred"), old.repo, fake)
    transferred["issue"] = fake.serializer.issue(old)
    transferred["changes"] = {"new_issue": fake.serializer.issue(moved),
                              "new_repository": fake.serializer.repo(fake.repo(moved.repo))}
    transferred["sender"] = fake.serializer.user(sender)
    opened = retarget(load_example("issues", "opened"), moved.repo, fake)
    opened["issue"] = fake.serializer.issue(moved)
    opened["changes"] = {"old_issue": fake.serializer.issue(old),
                         "old_repository": fake.serializer.repo(fake.repo(old.repo))}
    opened["sender"] = fake.serializer.user(sender)
    return transferred, opened


def comment_posts(fake, repo: str, number: int) -> int:
    return len([c for c in fake.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
                if c.path == f"/repos/{repo}/issues/{number}/comments" and c.status < 300])


@BOTH_BACKENDS
async def test_an_issue_moved_to_another_repository_halfway_is_owed_its_answer_there(bot):
    """An unclear report, kind given by its author, routed to the one triager (who may hold one
    open issue), its SLA clock running; a maintainer moves it to another repository. The old
    repository's record stops (no warning, no breach, not open past due, not counted against
    the triager's cap); the new one is handled under its own rules without asking the author
    again, keeping its assignee (no second turn) and the clock's original start."""
    import asyncio

    fake = bot.fake
    db = bot.runtime.db
    fake.put_file(REPO, ".github/contributor-flow.yml",
                  "routing:\n  rotations:\n    triage:\n      people: [alice]\n      max_open: 1\n")
    fake.add_repo(OTHER, files={".github/contributor-flow.yml": (
        "routing:\n  routes:\n    bug:\n      labels: [needs-repro]\n      board: {number: 0}\n")})
    fake.add_label(OTHER, "bug")            # GitHub keeps the labels the new repository has too
    for login in ("alice", "bob", "carol", "maint"):
        fake.set_permission(OTHER, login, "write")
    echo = Echo(bot)
    t0 = datetime.now(timezone.utc).replace(microsecond=0)

    issue = await open_issue(bot, "Saving sometimes loses my work", "It happened twice today.", "newbie", t0)
    assert labels(fake, issue.number) == {"needs-triage"}
    [ask] = bot_comments(fake, issue.number)
    await bot.comment(REPO, issue.number, "/kind bug", "newbie")
    assert labels(fake, issue.number) == {"bug", "triage"}
    assert fake.issue(REPO, issue.number).assignees == ["alice"]
    assert status_on(fake, 5, issue) == "Triage"
    await echo()
    await sweep(bot, "move:1", t0 + timedelta(minutes=10))
    await bot.comment(REPO, issue.number, "It also happens with autosave.", "newbie",
                      created_at=iso(t0 + timedelta(hours=1)))

    # alice holds her one open issue: the next bug waits for someone free.
    waiting = await open_issue(bot, "[Bug] Undo loses the selection", "### Steps to reproduce\n1. Undo", "pat", t0)
    assert labels(fake, waiting.number) == {"bug", "triage"}
    assert fake.issue(REPO, waiting.number).assignees == []
    notes = [n["summary"] for n in await state.decisions_for(db, REPO, waiting.number)]
    assert any("nobody free in rotation 'triage' (skipped alice (at 1 open))" in n for n in notes), notes
    await echo()

    # Two hours in, a maintainer moves it to octo/other; GitHub tells both repositories at once.
    moved = transfer(fake, issue, OTHER, t0 + timedelta(hours=2))
    assert set(moved.labels) == {"bug"} and moved.assignees == ["alice"]
    transferred, opened = transfer_payloads(fake, issue, moved, "maint")
    await asyncio.gather(bot.deliver("issues", transferred), bot.deliver("issues", opened))

    # The old repository: its record is closed, the clock stops counting.
    [old_clock] = await sla_store.clocks(db, REPO, number=issue.number)
    assert old_clock.closed and sla.state(old_clock.clock, t0 + timedelta(hours=80)) == sla.PAUSED
    # The new one: the author's kind stands (not asked again), routed by octo/other's rules,
    # alice keeps it (no turn of octo/other's rotation), the clock keeps its start.
    assert set(fake.issue(OTHER, moved.number).labels) == {"bug", "needs-repro"}
    kind = await classify_store.item(db, OTHER, moved.number)
    assert (kind["kind"], kind["source"]) == ("bug", "human")
    assert comment_posts(fake, OTHER, moved.number) == 0
    assert fake.issue(OTHER, moved.number).assignees == ["alice"]
    assert fake.calls_to("POST", f"/repos/{OTHER}/issues/{moved.number}/assignees") == []
    assert (await route_store.turn(db, OTHER, "triage", moved.number))[2] is None
    assert [r["kind"] for r in await route_store.routings(db, OTHER, moved.number)] == ["bug"]
    assert status_on(fake, 5, moved) is None
    [new_clock] = await sla_store.clocks(db, OTHER, number=moved.number)
    assert new_clock.clock.started == t0 and not new_clock.closed
    assert await echo() == 1                                            # needs-repro
    assert ask.body in [c.body for c in fake.issue(OTHER, moved.number).comments]  # came along

    # The moved issue no longer counts against alice here: the next bug is hers.
    third = await open_issue(bot, "[Bug] Redo crashes", "### Steps to reproduce\n1. Redo", "pat", t0)
    assert fake.issue(REPO, third.number).assignees == ["alice"]
    assert fake.issue(REPO, waiting.number).assignees == []            # routed once, not again
    await echo()

    # Owed its answer in octo/other, from the original start; nothing more in octo/repo.
    old_posts = comment_posts(fake, REPO, issue.number)
    await sweep(bot, "move:2", t0 + timedelta(hours=49))
    [warning] = sla_comments(fake, moved.number, OTHER)
    assert warning.body.split("\n")[1].startswith("@alice @bob @carol: ")  # octo/other's rotation
    await sweep(bot, "move:3", t0 + timedelta(hours=80))
    assert "sla/breached" in set(fake.issue(OTHER, moved.number).labels)
    assert comment_posts(fake, REPO, issue.number) == old_posts
    assert await echo() == 3                                    # sla/breached on the moved one, waiting, third
    now = t0 + timedelta(hours=81)
    day = timedelta(days=1)
    here = await sla_figures(db, REPO, t0 - day, t0 + day, now)
    there = await sla_figures(db, OTHER, t0 - day, t0 + day, now)
    assert here["policies"]["bugs"]["open_past_due"] == 2              # waiting and third, not the moved one
    assert there["policies"]["bugs"]["open_past_due"] == 1
    [old_clock] = await sla_store.clocks(db, REPO, number=issue.number)
    assert old_clock.warned_at is None and old_clock.breached_at is None
    assert sla.counted(old_clock.clock, now) <= 2 * 3600                # nothing after the move

    assert fake.violations == []
