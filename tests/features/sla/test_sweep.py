"""The sweep: one warning, one breach, nothing more on later runs; reconciliation
of the bot's own labels; mentions of the triage rotation or the team."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.core import sla
from bot.core.actions import AddLabels, Guard, Record, UpsertComment
from bot.features.sla import store
from bot.features.sla.policy import kind_labels, policies_for, rotation_members
from tests.helpers import RecordingReader, bundled_rules

from .conftest import REPO, T0, apply, comment_event, deliver, hours, iso, issue_event, sweep

# The sweep's calls are sent only while the clock is still owed an answer.
OWED = Guard("sla", "still_owed", {"repo": REPO, "number": 7, "policy": "bugs"})


def comments(actions):
    return [a for a in actions if isinstance(a, UpsertComment)]


async def test_two_sweeps_one_warning_then_one_breach(db):
    rules = bundled_rules({"sla": {"team": "org/triagers"}})
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    assert await sweep(db, hours(47), rules) == []
    first = await sweep(db, hours(49), rules)
    [warning] = comments(first)
    assert warning.marker == "contributor-flow:sla-warning:bugs" and warning.number == 7
    assert "@org/triagers" in warning.body and "2026-03-05 10:00 UTC" in warning.body
    assert await sweep(db, hours(50), rules) == []
    breach = await sweep(db, hours(73), rules)
    assert AddLabels(REPO, number=7, labels=("sla/breached",), guard=OWED) in breach
    [escalation] = comments(breach)
    assert escalation.marker == "contributor-flow:sla-breach:bugs" and "@org/triagers" in escalation.body
    assert await sweep(db, hours(90), rules) == []
    [c] = await store.clocks(db, REPO)
    assert c.warned_at == hours(49).timestamp() and c.breached_at == hours(73).timestamp()
    kinds = [e["kind"] for e in await store.events(db, REPO, 7)]
    assert kinds == ["started", "warned", "breached"]


async def test_straight_to_breach_makes_no_separate_warning(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    actions = await sweep(db, hours(100))
    assert [a.marker for a in comments(actions)] == ["contributor-flow:sla-breach:bugs"]
    assert await sweep(db, hours(101)) == []


async def test_answered_paused_and_closed_items_are_left_alone(db):
    await deliver(db, issue_event("opened", number=1, labels=["bug"]), now=hours(0))
    await deliver(db, comment_event(number=1, user="maint", at=hours(2)), now=hours(2))
    await deliver(db, issue_event("opened", number=2, labels=["bug", "needs-info"]), now=hours(0))
    await deliver(db, issue_event("opened", number=3, labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("closed", number=3, labels=["bug"], at=hours(1)), now=hours(1))
    assert await sweep(db, hours(100)) == []


@pytest.mark.parametrize("routing, kinds, expected", [
    (None, ["bug"], []),
    ({"routes": {"bug": {"rotation": "bugs"}}, "rotations": {"bugs": {"people": ["alice", "bob", "carol"],
                                                                      "away": ["Bob"]}}},
     ["bug"], ["alice", "carol"]),
    ({"routes": {"bug": {"rotation": "bugs"}}, "rotations": {"bugs": {"team": "org/bug-squad", "people": ["x"]}}},
     ["bug"], ["org/bug-squad"]),
    ({"routes": {}, "rotations": {"triage": {"people": ["dave"]}}}, ["bug"], ["dave"]),
    ({"routes": {"bug": {"rotation": "gone"}}, "rotations": {"triage": {"people": ["dave"]}}}, ["bug"], []),
    ({"rotations": "not a mapping"}, [], []),
])
def test_rotation_members(routing, kinds, expected):
    assert rotation_members(routing, kinds) == expected


async def test_warning_mentions_the_rotation_and_escalation_goes_to_escalate_to(db):
    rules = bundled_rules({"sla": {"escalate_to": "org/leads", "team": "org/fallback"},
                           "routing": {"rotations": {"triage": {"people": ["alice", "bob"]}}}})
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    [warning] = comments(await sweep(db, hours(49), rules))
    assert "@alice @bob:" in warning.body and "fallback" not in warning.body
    [escalation] = comments(await sweep(db, hours(80), rules))
    assert "@org/leads" in escalation.body and "@alice" not in escalation.body


async def test_policy_team_wins_over_the_rotation(db):
    rules = bundled_rules({"sla": {"policies": [{"name": "bugs", "kinds": ["bug"], "team": "org/owners"}]},
                           "routing": {"rotations": {"triage": {"people": ["alice"]}}}})
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0), rules=rules)
    [warning] = comments(await sweep(db, hours(49), rules))
    assert "@org/owners" in warning.body and "@alice" not in warning.body


def test_kinds_follow_the_classifier_labels():
    rules = bundled_rules({"classify": {"kinds": {"bug": {"label": "type/defect", "aliases": ["crash"]}}},
                           "sla": {"kind_labels": {"bug": ["broken"]}}})
    [policy] = policies_for(rules)
    assert policy.labels == {"type/defect", "crash", "broken"}
    assert kind_labels("docs", {}) == ["docs", "kind/docs"]


async def test_kind_label_added_by_the_bot_starts_the_clock_from_the_ledger(db):
    # The classifier labels during the opening delivery; its labeled webhook is the bot's own
    # and never reaches the features.
    await deliver(db, issue_event("opened"), now=hours(0))
    await db.execute("INSERT INTO bot_labels (repo, number, label, feature, added_at) VALUES (?, ?, ?, ?, ?)",
                     (REPO, 7, "bug", "classify", hours(0.01).timestamp()))
    first = await sweep(db, hours(1))
    assert any(isinstance(a, Record) and a.op == "start_clock" for a in first)
    [c] = await store.clocks(db, REPO)
    assert c.clock.started == T0
    assert await sweep(db, hours(2)) == []
    assert [a.marker for a in comments(await sweep(db, hours(49)))] == ["contributor-flow:sla-warning:bugs"]


async def test_bot_added_needs_info_pauses(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await db.execute("INSERT INTO bot_labels (repo, number, label, feature, added_at) VALUES (?, ?, ?, ?, ?)",
                     (REPO, 7, "needs-info", "commands", hours(1).timestamp()))
    await sweep(db, hours(1.5))
    [c] = await store.clocks(db, REPO)
    assert c.clock.pauses and await sweep(db, hours(100)) == []


async def test_disabled_feature_sweeps_nothing(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    assert await sweep(db, hours(100), bundled_rules({"sla": {"enabled": False}})) == []


async def test_bot_label_removed_by_a_person_starts_nothing(db):
    await deliver(db, issue_event("opened"), now=hours(0))
    await db.execute("INSERT INTO bot_labels (repo, number, label, feature, added_at) VALUES (?, ?, ?, ?, ?)",
                     (REPO, 7, "bug", "classify", hours(0.01).timestamp()))
    await deliver(db, issue_event("unlabeled", labels=[], label="Bug", at=hours(0.5), sender="triage"),
                  now=hours(0.5))
    assert await sweep(db, hours(1)) == [] and await store.clocks(db, REPO) == []


async def test_business_calendar_from_the_rules(db):
    # Opened Friday 2026-03-06 16:00 Paris time; 8 working hours (09-17) are due Monday 16:00.
    rules = bundled_rules({"sla": {
        "calendars": {"office": {"timezone": "Europe/Paris"}},
        "policies": [{"name": "bugs", "kinds": ["bug"], "target": "8h", "warn_after": "6h",
                      "calendar": "office"}]}})
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=timezone.utc)  # 16:00 in Paris (CET)
    name, payload = issue_event("opened", labels=["bug"])
    payload["issue"]["created_at"] = friday.strftime("%Y-%m-%dT%H:%M:%SZ")
    await deliver(db, (name, payload), now=friday, rules=rules)
    [c] = await store.clocks(db, REPO)
    monday = datetime(2026, 3, 9, tzinfo=timezone.utc)
    assert sla.due_at(c.clock, friday) == monday.replace(hour=15)  # 16:00 Paris
    assert await sweep(db, monday.replace(hour=12), rules) == []   # 13:00 Paris: 5 h counted
    assert comments(await sweep(db, monday.replace(hour=14), rules))[0].marker.endswith("warning:bugs")
    assert comments(await sweep(db, monday.replace(hour=15, minute=1), rules))[0].marker.endswith("breach:bugs")


def test_unusable_calendar_falls_back_to_elapsed_hours():
    from bot.features.sla.policy import policies_from
    rules = bundled_rules({"sla": {"calendars": {"bad": {"timezone": "Mars/Olympus"}},
                                   "policies": [{"name": "bugs", "calendar": "bad"},
                                                {"name": "other", "calendar": "missing"}]}})
    assert [p.calendar for p in policies_from(rules.section("sla"))] == [{}, {}]


async def test_fast_answer_before_the_sweep_saw_the_kind_label_still_counts(db):
    await deliver(db, issue_event("opened"), now=hours(0))
    await db.execute("INSERT INTO bot_labels (repo, number, label, feature, added_at) VALUES (?, ?, ?, ?, ?)",
                     (REPO, 7, "bug", "classify", hours(0.01).timestamp()))
    await deliver(db, comment_event(user="maint", at=hours(0.05), labels=()), now=hours(0.05))
    assert await sweep(db, hours(0.2)) != []
    [c] = await store.clocks(db, REPO)
    assert (c.clock.started, c.clock.answered) == (T0, hours(0.05))
    assert sla.state(c.clock, hours(1)) == sla.MET
    assert await sweep(db, hours(100)) == []


async def test_kind_label_added_after_the_answer_starts_nothing(db):
    await deliver(db, issue_event("opened"), now=hours(0))
    await deliver(db, comment_event(user="maint", at=hours(1), labels=()), now=hours(1))
    await db.execute("INSERT INTO bot_labels (repo, number, label, feature, added_at) VALUES (?, ?, ?, ?, ?)",
                     (REPO, 7, "bug", "classify", hours(2).timestamp()))
    assert await sweep(db, hours(3)) == [] and await store.clocks(db, REPO) == []


async def test_opening_processed_late_still_counts_from_the_opening(db):
    # The bot was down for 5 hours: the opening (and the classifier's label) ran late.
    await deliver(db, issue_event("opened"), now=hours(5))
    await db.execute("INSERT INTO bot_labels (repo, number, label, feature, added_at) VALUES (?, ?, ?, ?, ?)",
                     (REPO, 7, "bug", "classify", hours(5.01).timestamp()))
    await sweep(db, hours(5.2))
    [c] = await store.clocks(db, REPO)
    assert c.clock.started == T0


async def test_kind_label_added_by_the_bot_later_counts_from_then(db):
    await deliver(db, issue_event("opened"), now=hours(0))
    await db.execute("INSERT INTO bot_labels (repo, number, label, feature, added_at) VALUES (?, ?, ?, ?, ?)",
                     (REPO, 7, "bug", "commands", hours(6).timestamp()))
    await sweep(db, hours(6.1))
    [c] = await store.clocks(db, REPO)
    assert c.clock.started == hours(6)


ISSUE = "/repos/{owner}/{repo}/issues/{issue_number}"


async def test_an_item_closed_on_github_without_a_webhook_is_closed_not_escalated(db):
    # The close never reached the SLA (a bot's, a lost delivery): the sweep asks GitHub
    # before it calls anyone, and records the close at GitHub's instant.
    from bot.features.sla.report import sla_figures

    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    reader = RecordingReader({ISSUE: {"number": 7, "state": "closed", "closed_at": iso(hours(10)),
                                      "labels": [{"name": "bug"}]}})
    actions = await sweep(db, hours(73), gh=reader)
    assert not comments(actions) and not [a for a in actions if isinstance(a, AddLabels)]
    [c] = await store.clocks(db, REPO)
    assert c.closed and c.breached_at is None and sla.counted(c.clock, hours(73)) == 10 * 3600
    figures = await sla_figures(db, REPO, hours(-24), hours(100), hours(73))
    assert figures["all"]["open_past_due"] == 0
    assert await sweep(db, hours(80), gh=reader) == [] and len(reader.calls) == 1


async def test_an_item_gone_from_github_is_closed_not_escalated(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    actions = await sweep(db, hours(49), gh=RecordingReader())  # 404: deleted (or moved: 301)
    assert not comments(actions)
    [c] = await store.clocks(db, REPO)
    assert c.closed and c.warned_at is None


async def test_an_item_github_cannot_tell_about_waits_for_the_next_run(db):
    from bot.github import TransientGitHubError

    def down(_vars):
        raise TransientGitHubError("502 bad gateway", status=502)

    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    assert await sweep(db, hours(73), gh=RecordingReader({ISSUE: down})) == []
    [c] = await store.clocks(db, REPO)
    assert not c.closed and c.breached_at is None
    open_item = RecordingReader({ISSUE: {"number": 7, "state": "open", "labels": [{"name": "bug"}]}})
    assert AddLabels(REPO, number=7, labels=("sla/breached",), guard=OWED) in await sweep(db, hours(74), gh=open_item)


async def test_an_item_moved_on_github_is_closed_not_escalated_though_the_read_follows_the_move(db):
    """GitHub answers 301 for a transferred issue and the HTTP client follows it: the read
    returns the issue in its new repository (another number, open there). That item is
    gone from this repository: nobody here is called to it, and it is not left open past due."""
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    moved = RecordingReader({ISSUE: {
        "number": 31, "state": "open", "closed_at": None, "labels": [{"name": "bug"}],
        "repository_url": "https://api.github.com/repos/Codertocat/Elsewhere",
        "html_url": "https://github.com/Codertocat/Elsewhere/issues/31"}})
    actions = await sweep(db, hours(49), gh=moved)
    assert not comments(actions)
    assert await sweep(db, hours(80), gh=moved) == []
    [c] = await store.clocks(db, REPO)
    assert c.closed and c.warned_at is None and c.breached_at is None


async def test_an_item_read_in_its_own_repository_is_still_enforced(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    here = RecordingReader({ISSUE: {
        "number": 7, "state": "open", "labels": [{"name": "bug"}],
        "repository_url": "https://api.github.com/repos/codertocat/hello-world"}})  # case differs
    [warning] = comments(await sweep(db, hours(49), gh=here))
    assert warning.number == 7


async def test_a_policy_taken_out_of_the_rules_is_no_longer_enforced(db):
    """A repository that drops a policy (too noisy for new PRs, say) owes nothing under it
    any more: its running clocks call nobody; the policies still in the rules go on."""
    both = bundled_rules({"sla": {"policies": [
        {"name": "bugs", "kinds": ["bug"]},
        {"name": "new-prs", "item_types": ["pull_request"]}]}})
    await deliver(db, issue_event("opened", number=8, pr=True), now=hours(0), rules=both)
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0), rules=both)
    assert {c.policy for c in await store.clocks(db, REPO)} == {"bugs", "new-prs"}
    bugs_only = bundled_rules({"sla": {"policies": [{"name": "bugs", "kinds": ["bug"]}]}})
    warned = await sweep(db, hours(49), bugs_only)
    assert [(a.number, a.marker) for a in comments(warned)] == [(7, "contributor-flow:sla-warning:bugs")]
    breached = await sweep(db, hours(73), bugs_only)
    assert [a.number for a in breached if isinstance(a, AddLabels)] == [7]
    # Put back, the policy is enforced again from its running clock.
    assert 8 in [a.number for a in comments(await sweep(db, hours(74), both))]


COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments{?since,per_page}"
OPEN = {ISSUE: {"number": 7, "state": "open", "labels": [{"name": "bug"}]}}


def _comment(user, at, body="Thanks, looking into it."):
    from .conftest import USERS
    return {"user": dict(USERS[user]), "created_at": iso(at), "body": body}


async def test_an_answer_whose_delivery_was_lost_stops_the_clock_instead_of_a_warning(db):
    # The triager answered at hour 20; that comment's webhook never reached the bot.
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    reader = RecordingReader(OPEN, lists={COMMENTS: [_comment("reporter", hours(10)), _comment("triage", hours(20))]})
    actions = await sweep(db, hours(49), gh=reader)
    assert not comments(actions)
    [c] = await store.clocks(db, REPO)
    assert c.warned_at is None and c.clock.answered == hours(20)
    reads = [call for call in reader.calls if call[0] == COMMENTS]
    assert len(reads) == 1 and reads[0][1]["issue_number"] == 7
    assert await sweep(db, hours(80), gh=reader) == []


@pytest.mark.parametrize("found", [
    [_comment("reporter", hours(20))],                     # the author
    [_comment("ci[bot]", hours(20))],                      # a bot, responder role or not
    [_comment("triage", hours(20), body="/label bug")],    # commands only
    [_comment("visitor", hours(20))],                      # not a responder
])
async def test_comments_that_are_no_answer_leave_the_item_warned(db, found):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    reader = RecordingReader(OPEN, lists={COMMENTS: found})
    [warning] = comments(await sweep(db, hours(49), gh=reader))
    assert warning.number == 7
    assert len([call for call in reader.calls if call[0] == COMMENTS]) == 1


async def test_comments_that_cannot_be_read_leave_the_decision_as_before(db):
    from bot.github import TransientGitHubError

    class Down(RecordingReader):
        async def getiter(self, url, url_vars=None, **kw):
            self.calls.append((url, dict(url_vars or {})))
            raise TransientGitHubError("502 bad gateway", status=502)
            yield  # pragma: no cover

    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    reader = Down(OPEN)
    [warning] = comments(await sweep(db, hours(49), gh=reader))
    assert warning.number == 7 and [c for c in reader.calls if c[0] == COMMENTS]
