"""Routing decisions as actions: rotation, boards (present and missing), questions,
/rfc and the weekly agenda."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from bot.context import JobContext, RepoHandle
from bot.core.actions import (AddLabels, AddToProject, Assign, Close, CreateDiscussion, Note, Record,
                              RemoveFromProject, RemoveLabel, UpsertComment)
from bot.features import classify, label_ledger, route
from bot.features.commands.errors import CommandError, CommandRefused
from bot.features.route import agenda, store
from bot.features.route.rotation import next_assignee
from bot.github import PermanentGitHubError
from bot.store import state
from tests.helpers import RecordingReader, fixed_roles, make_context

from .conftest import REPO, ROLES, apply, comment_payload, command, handle, issue_payload, of, rules

BUG = dict(title="[Bug] crash on save", body="### Steps to reproduce\n1.")
FEATURE_REQUEST = dict(title="feat: dark mode", body="")


@pytest.mark.parametrize("people, last, away, counts, cap, expected, skipped", [
    (["alice", "bob", "carol"], -1, [], {}, 0, "alice", ()),
    (["alice", "bob", "carol"], 0, [], {}, 0, "bob", ()),
    (["alice", "bob", "carol"], 2, [], {}, 0, "alice", ()),                     # wraps around
    (["alice", "bob", "carol"], 0, ["Bob"], {}, 0, "carol", ("bob (away)",)),
    (["alice", "bob", "carol"], 0, [], {"bob": 5}, 5, "carol", ("bob (at 5 open)",)),
    (["alice", "bob"], 0, ["alice"], {"bob": 9}, 3, None, ("bob (at 3 open)", "alice (away)")),
    (["alice", "bob", "carol"], 0, [], {"bob": None}, 3, "carol", ("bob (search refused)",)),
    ([], -1, [], {}, 0, None, ()),
])
def test_round_robin(people, last, away, counts, cap, expected, skipped):
    pick = next_assignee(people, last, away=away, open_counts=counts, max_open=cap)
    assert pick.login == expected and pick.skipped == skipped


def board_reader(*, exists: bool = True, options=("Triage", "Draft", "In review", "Accepted", "Rejected"),
                 counts: dict | None = None):
    calls = []

    def graphql(query, **variables):
        calls.append(variables)
        if not exists:
            raise RuntimeError("Could not resolve to a ProjectV2 with the number 5.")
        return {"repositoryOwner": {"projectV2": {"id": "PVT_1", "title": "Triage", "fields": {"nodes": [
            {"id": "F_title", "name": "Title"},
            {"id": "F_status", "name": "Status", "options": [{"id": f"O{i}", "name": o} for i, o in enumerate(options)]},
        ]}}}}

    def search(url_vars):
        login = url_vars["q"].split("assignee:")[1]
        return {"total_count": (counts or {}).get(login, 0), "items": []}

    reader = RecordingReader(items={"/search/issues{?q,per_page}": search}, graphql=graphql)
    reader.graphql_calls = calls
    return reader


ROUTING = {"routes": {"bug": {"labels": ["triage"], "rotation": "triage",
                              "board": {"number": 5, "status": "Triage"}},
                      "feature": {"rfc": True, "board": {"number": 6, "status": "Draft"}}},
           "rotations": {"triage": {"people": ["alice", "bob", "carol"], "away": ["bob"], "max_open": 3}},
           "maintainers": "octo-org/maintainers"}


async def test_bug_is_labelled_assigned_in_turn_and_put_on_the_board(db):
    r = rules(routing=ROUTING)
    reader = board_reader(counts={"alice": 1})
    first = await handle(db, "issues", issue_payload(number=1, **BUG), rules_=r, reader=reader)
    second = await handle(db, "issues", issue_payload(number=2, **BUG), rules_=r, reader=reader, delivery="d2")
    third = await handle(db, "issues", issue_payload(number=3, **BUG), rules_=r, reader=reader, delivery="d3")
    assert [a.assignees for a in of(first + second + third, Assign)] == [("alice",), ("carol",), ("alice",)]
    [placed] = of(first, AddToProject)
    assert (placed.project_owner, placed.project_number, placed.field, placed.value) == ("Codertocat", 5, "Status", "Triage")
    assert [a.labels for a in of(first, AddLabels)] == [("bug",), ("triage",)]
    notes = [n.text for n in of(first + second, Note) if n.feature == "route"]
    assert notes == ["routed as bug: labels triage; assigned alice from 'triage'; board Codertocat#5 (Triage)",
                     "routed as bug: labels triage; assigned carol from 'triage' (skipped bob (away)); "
                     "board Codertocat#5 (Triage)"]
    # Board ids are looked up once and cached.
    assert len(reader.graphql_calls) == 1


async def test_rotation_respects_the_cap(db):
    r = rules(routing=ROUTING)
    actions = await handle(db, "issues", issue_payload(**BUG), rules_=r,
                           reader=board_reader(counts={"alice": 3, "carol": 7}))
    assert of(actions, Assign) == []
    assert "nobody free in rotation 'triage'" in [n.text for n in of(actions, Note) if n.feature == "route"][0]


async def test_already_assigned_issue_keeps_its_assignee(db):
    actions = await handle(db, "issues", issue_payload(assignees=["bob"], **BUG), rules_=rules(routing=ROUTING),
                           reader=board_reader())
    assert of(actions, Assign) == []


async def test_missing_board_is_reported_once_not_a_crash(db):
    r = rules(routing=ROUTING)
    first = await handle(db, "issues", issue_payload(number=1, **BUG), rules_=r, reader=board_reader(exists=False))
    assert of(first, AddToProject) == []
    [report] = [c for c in of(first, UpsertComment) if c.marker.startswith("route-problem:")]
    assert report.body.startswith("@octo-org/maintainers Routing problem: the project board Codertocat#5")
    assert of(first, Assign)                      # the rest of the routing still happens
    second = await handle(db, "issues", issue_payload(number=2, **BUG), rules_=r, reader=board_reader(exists=False),
                          delivery="d2")
    assert not [c for c in of(second, UpsertComment) if c.marker.startswith("route-problem:")]
    assert any("not put on a board" in n.text for n in of(second, Note))


async def test_missing_status_option_is_reported(db):
    actions = await handle(db, "issues", issue_payload(**BUG), rules_=rules(routing=ROUTING),
                           reader=board_reader(options=("Todo", "Done")))
    [report] = [c for c in of(actions, UpsertComment) if c.marker.startswith("route-problem:")]
    assert "has no option 'Triage'" in report.body


async def test_feature_request_goes_to_the_rfc_draft_board(db):
    actions = await handle(db, "issues", issue_payload(**FEATURE_REQUEST), rules_=rules(routing=ROUTING),
                           reader=board_reader())
    assert [a.labels for a in of(actions, AddLabels)] == [("feature",), ("rfc/draft",)]
    [placed] = of(actions, AddToProject)
    assert (placed.project_number, placed.value) == (6, "Draft")
    assert (await store.rfc(db, REPO, 7))["state"] == "draft"


@pytest.mark.parametrize("support_url, comment", [("", False), ("https://forum.example.org", True)])
async def test_question_comment_needs_a_support_channel(db, support_url, comment):
    actions = await handle(db, "issues", issue_payload(title="How do I configure the proxy?"),
                           rules_=rules(routing={"support_url": support_url}))
    comments = [c for c in of(actions, UpsertComment) if c.marker == "route:question"]
    assert bool(comments) == comment
    if comment:
        assert "https://forum.example.org" in comments[0].body and "@reporter" in comments[0].body


async def test_routing_happens_once_per_kind(db):
    r = rules(routing=ROUTING)
    first = await handle(db, "issues", issue_payload(**BUG), rules_=r, reader=board_reader())
    # The first time, the bug is routed: someone is assigned and it goes on its board...
    assert [a.assignees for a in of(first, Assign)] == [("alice",)]
    assert [(a.project_number, a.value) for a in of(first, AddToProject)] == [(5, "Triage")]
    reopened = issue_payload("reopened", labels=["bug", "triage"], **BUG)
    actions = await handle(db, "issues", reopened, rules_=r, reader=board_reader(), delivery="d2")
    # ...reopened with the same kind, it is not routed again.
    assert not [a for a in actions if isinstance(a, (Assign, AddToProject))]


async def test_routing_disabled(db):
    actions = await handle(db, "issues", issue_payload(**BUG), rules_=rules(routing={"enabled": False}))
    assert [a.labels for a in of(actions, AddLabels)] == [("bug",)]
    assert not [a for a in of(actions, Record) if a.feature == "route"]


# --- a change of kind undoes the earlier routing ---------------------------------------

async def _kind(db, kind, labels, *, routing=ROUTING, delivery="k1"):
    payload = comment_payload(f"/kind {kind}", user="maint", labels=labels, title="feat: dark mode")
    return await command(db, classify.FEATURE, "kind", (kind,), payload, rules_=rules(routing=routing),
                         reader=board_reader(), delivery=delivery)


async def test_feature_turned_bug_leaves_the_rfc_board_and_goes_to_triage(db):
    await handle(db, "issues", issue_payload(**FEATURE_REQUEST), rules_=rules(routing=ROUTING), reader=board_reader())
    actions = await _kind(db, "bug", ["feature", "rfc/draft"])
    assert [a.label for a in of(actions, RemoveLabel)] == ["feature", "rfc/draft"]
    [off] = of(actions, RemoveFromProject)
    assert (off.project_owner, off.project_number) == ("Codertocat", 6)
    [placed] = of(actions, AddToProject)
    assert (placed.project_number, placed.value) == (5, "Triage")
    assert [a.labels for a in of(actions, AddLabels)] == [("bug",), ("triage",)]
    assert of(actions, Assign)
    assert (await store.rfc(db, REPO, 7))["state"] == "withdrawn"   # off the weekly agenda
    assert "no longer feature: label rfc/draft; off board Codertocat#6; RFC withdrawn" in [
        n.text for n in of(actions, Note) if n.feature == "route"]
    # Nothing left to undo the next time a kind is said; and back to feature routes it again.
    again = await _kind(db, "feature", ["bug", "triage"], delivery="k2")
    assert [a.label for a in of(again, RemoveLabel)] == ["bug", "triage"]
    assert [(a.project_number, a.value) for a in of(again, AddToProject)] == [(6, "Draft")]
    assert [a.project_number for a in of(again, RemoveFromProject)] == [5]
    assert (await store.rfc(db, REPO, 7))["state"] == "draft"


async def test_an_edit_does_not_flip_an_rfc_a_maintainer_moved_on(db):
    await handle(db, "issues", issue_payload(**FEATURE_REQUEST), rules_=rules(routing=ROUTING), reader=board_reader())
    edited = issue_payload("edited", labels=["feature", "rfc/draft"], **BUG)
    # While still a draft the bot may change its mind on an edit ...
    flipped = await handle(db, "issues", edited, rules_=rules(routing=ROUTING), reader=board_reader(), delivery="e1")
    assert of(flipped, RemoveFromProject)
    # ... not once a maintainer has taken the RFC into review.
    await handle(db, "issues", issue_payload(number=8, **FEATURE_REQUEST), rules_=rules(routing=ROUTING),
                 reader=board_reader(), delivery="o8")
    payload = comment_payload("/rfc review", number=8, user="maint", labels=["feature", "rfc/draft"])
    await command(db, route.FEATURE, "rfc", ("review",), payload, rules_=rules(routing=ROUTING),
                  reader=board_reader(), delivery="r8")
    edited8 = issue_payload("edited", number=8, labels=["feature", "rfc/review"], **BUG)
    assert await handle(db, "issues", edited8, rules_=rules(routing=ROUTING), reader=board_reader(),
                        delivery="e8") == []


async def test_undoing_leaves_what_a_human_added_and_a_shared_board(db):
    shared = {**ROUTING, "routes": {**ROUTING["routes"],
                                    "feature": {"rfc": True, "board": {"number": 5, "status": "Draft"}}}}
    # rfc/draft was already there (a person's doing): routing did not add it.
    opened = issue_payload(labels=["rfc/draft"], **FEATURE_REQUEST)
    await handle(db, "issues", opened, rules_=rules(routing=shared), reader=board_reader())
    actions = await _kind(db, "bug", ["feature", "rfc/draft"], routing=shared)
    assert [a.label for a in of(actions, RemoveLabel)] == ["feature"]
    assert of(actions, RemoveFromProject) == []               # same board: the new status moves it
    assert [(a.project_number, a.value) for a in of(actions, AddToProject)] == [(5, "Triage")]


async def test_a_routing_recorded_without_its_labels_still_loses_the_bots_labels(db):
    # Routings stored before the labels were recorded: the rules' labels for that kind,
    # removed only where the bot's ledger says the bot added them.
    await handle(db, "issues", issue_payload(**BUG), rules_=rules(routing=ROUTING), reader=board_reader())
    await db.execute("UPDATE route_done SET labels = '', board = ''")
    actions = await _kind(db, "feature", ["bug", "triage", "help wanted"])
    assert [a.label for a in of(actions, RemoveLabel)] == ["bug", "triage"]


# --- /rfc ---------------------------------------------------------------------------

async def _rfc(db, verb, labels, *, reader=None):
    payload = comment_payload(f"/rfc {verb}", user="maint", labels=labels, title="feat: dark mode")
    return await command(db, route.FEATURE, "rfc", (verb,), payload, rules_=rules(routing=ROUTING),
                         reader=reader or board_reader(), delivery=f"rfc-{verb}")


async def test_rfc_review_moves_labels_and_board_status(db):
    await handle(db, "issues", issue_payload(**FEATURE_REQUEST), rules_=rules(routing=ROUTING), reader=board_reader())
    actions = await _rfc(db, "review", ["feature", "rfc/draft"])
    assert [a.labels for a in of(actions, AddLabels)] == [("rfc/review",)]
    assert [a.label for a in of(actions, RemoveLabel)] == ["rfc/draft"]
    [placed] = of(actions, AddToProject)
    assert (placed.project_number, placed.value) == (6, "In review")
    assert (await store.rfc(db, REPO, 7))["state"] == "review"
    rejected = await _rfc(db, "reject", ["feature", "rfc/review"])
    assert of(rejected, Close)[0].reason == "not_planned"
    assert [a.label for a in of(rejected, RemoveLabel)] == ["rfc/review"]


async def _labelled(db, label, sender):
    payload = issue_payload("labeled", labels=["feature", label], label=label, sender=sender, **FEATURE_REQUEST)
    event, ctx = make_context("issues", payload, db=db, rules=rules(routing=ROUTING), reader=board_reader(),
                              roles=ROLES)
    actions = [a for handler in route.FEATURE.handlers_for(event) for a in await handler(event, ctx)]
    await apply(db, actions)
    return actions


async def test_an_rfc_label_a_maintainer_adds_by_hand_moves_the_rfc(db):
    actions = await _labelled(db, "rfc/review", "maint")
    [placed] = of(actions, AddToProject)
    assert (placed.project_number, placed.value) == (6, "In review")
    assert (await store.rfc(db, REPO, 7))["state"] == "review"          # on the next agenda
    assert of(actions, AddLabels) == [] and of(actions, RemoveLabel) == []  # labels are the person's
    assert await _labelled(db, "rfc/review", "maint") == []              # already there


@pytest.mark.parametrize("label, sender", [("rfc/review", "visitor"), ("rfc/review", "triager"),
                                           ("good first issue", "maint")])
async def test_other_label_changes_leave_the_rfc_alone(db, label, sender):
    assert await _labelled(db, label, sender) == []
    assert await store.rfc(db, REPO, 7) is None


async def test_rfc_label_a_human_added_is_left(db):
    actions = await _rfc(db, "accept", ["feature", "rfc/draft"])      # rfc/draft added by a person
    assert of(actions, RemoveLabel) == []
    assert "left labels a human added: rfc/draft" in of(actions, Note)[0].text


@pytest.mark.parametrize("args, labels, message", [
    (("review",), ["feature"], "not an RFC"),
    (("merge",), ["rfc/draft"], "takes one of"),
    ((), ["rfc/draft"], "Usage"),
])
async def test_rfc_errors(db, args, labels, message):
    payload = comment_payload("/rfc", user="maint", labels=labels)
    with pytest.raises(CommandError, match=message):
        await command(db, route.FEATURE, "rfc", args, payload, rules_=rules(routing=ROUTING))


# --- the weekly agenda ----------------------------------------------------------------

def job_context(db, now, routing, categories=("General", "RFC reviews")):
    r = rules(routing=routing)
    reader = RecordingReader(graphql=lambda query, **v: {
        "repository": {"discussionCategories": {"nodes": [{"name": c} for c in categories]}}})

    async def repos():
        return [RepoHandle(repo=REPO, installation_id=1, rules=r, gh=reader, roles_of=fixed_roles({}))]
    return JobContext(db=db, bot_login="contributor-flow[bot]", repos=repos, clock=lambda: now,
                      period_key=now.isoformat())


async def posted_by_the_executor(db, actions):
    """What the executor remembers once GitHub has a post (see executor/projects.py, issues.py)."""
    from bot.store import state

    for a in actions:
        if isinstance(a, CreateDiscussion):
            key = f"discussion:{a.repo}:{route.AGENDA.name}:{a.category}:{a.dedupe_key}"
        elif isinstance(a, UpsertComment):
            key = f"comment:{a.repo}#{a.number}:<!-- {a.marker} -->"
        else:
            continue
        await state.remember_created(db, key, a.repo, "post", "1")


AGENDA = {"agenda": {"weekday": "wednesday", "time": "17:00", "timezone": "Europe/Berlin", "post_before": "24h",
                     "discussion_category": "RFC reviews"}}
CALL = datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc)   # Wednesday 17:00 in Berlin


@pytest.mark.parametrize("now, due", [
    (CALL - timedelta(hours=25), False),
    (CALL - timedelta(hours=23), True),
    (CALL - timedelta(minutes=1), True),
    (CALL, False),
])
def test_agenda_due_window(now, due):
    section = rules(routing=AGENDA).section("routing")["agenda"]
    assert agenda.due(now, section)[0] is due


async def test_agenda_lists_rfcs_in_review_oldest_first_once_per_week(db):
    for number, opened, state in [(3, 300.0, "review"), (1, 100.0, "review"), (2, 200.0, "draft")]:
        await store.write_rfc(db, repo=REPO, number=number, state=state, title=f"RFC {number}",
                              url=f"https://github.com/{REPO}/issues/{number}", opened_at=opened)
    actions = await agenda.run_agenda(job_context(db, CALL - timedelta(hours=2), AGENDA))
    [post] = of(actions, CreateDiscussion)
    assert post.dedupe_key == "rfc-agenda-2026-W48" and post.category == "RFC reviews"
    assert post.title == "RFC review agenda, 2026-11-25"
    assert post.body.index("RFC 1") < post.body.index("RFC 3") and "RFC 2" not in post.body
    assert "Wednesday 2026-11-25 17:00 CET" in post.body
    await apply(db, actions)
    await posted_by_the_executor(db, actions)
    assert await agenda.run_agenda(job_context(db, CALL - timedelta(hours=1), AGENDA)) == []


async def test_agenda_to_an_issue_and_off_when_unconfigured(db):
    to_issue = {"agenda": {**AGENDA["agenda"], "discussion_category": "", "issue": 42}}
    actions = await agenda.run_agenda(job_context(db, CALL - timedelta(hours=2), to_issue))
    [post] = of(actions, UpsertComment)
    assert (post.number, post.marker) == (42, "rfc-agenda:2026-W48")
    assert "No RFC is waiting for review" in post.body
    nowhere = {"agenda": {**AGENDA["agenda"], "discussion_category": ""}}
    assert await agenda.run_agenda(job_context(db, CALL - timedelta(hours=2), nowhere)) == []


async def test_rotation_over_a_team_skips_the_away(db):
    routing = {"routes": {"bug": {"labels": [], "rotation": "triage"}},
               "rotations": {"triage": {"people": [], "team": "octo-org/triagers", "away": ["alice"], "max_open": 0}}}
    reader = RecordingReader(lists={"/orgs/{org}/teams/{team_slug}/members": [{"login": "carol"}, {"login": "alice"},
                                                                              {"login": "bob"}]})
    actions = await handle(db, "issues", issue_payload(**BUG), rules_=rules(routing=routing), reader=reader)
    assert [a.assignees for a in of(actions, Assign)] == [("bob",)]          # sorted: alice (away), bob
    assert ("/orgs/{org}/teams/{team_slug}/members", {"org": "octo-org", "team_slug": "triagers"}) in reader.calls


# --- routings decided at once (other subjects on one worker, other replicas) ----------------

async def _decide_bug(db, number, r, reader):
    """A bug report's decision, not yet carried out (as while another one is decided)."""
    event, ctx = make_context("issues", issue_payload(number=number, **BUG), db=db, rules=r, reader=reader,
                              roles=ROLES, delivery_id=f"d{number}")
    return [a for handler in classify.FEATURE.handlers_for(event) for a in await handler(event, ctx)]


async def _carry_out(db, number, r, reader, actions):
    """Apply a decision as the executor does; refused (another decision wrote first), the
    delivery is decided again and that is applied. The actions that were carried out."""
    for _ in range(5):
        try:
            await apply(db, actions)
            return actions
        except store.StaleTurn:
            actions = await _decide_bug(db, number, r, reader)
    raise AssertionError("never settled")


def _until_assigned(actions):
    """What a delivery carried out before its assignment failed (a GitHub outage)."""
    return actions[:next(i for i, a in enumerate(actions) if isinstance(a, Assign))]


async def test_bugs_routed_at_once_get_successive_people(db):
    r = rules(routing=ROUTING)                                   # bob is away
    reader = board_reader()
    decided = await asyncio.gather(*(_decide_bug(db, number, r, reader) for number in (1, 2, 3, 4)))
    # Decided on the same turn, they all picked alice; each is refused once another took it.
    assert [a.assignees for actions in decided for a in of(actions, Assign)] == [("alice",)] * 4
    done = [await _carry_out(db, number, r, reader, actions) for number, actions in zip((1, 2, 3, 4), decided)]
    assert [a.assignees for actions in done for a in of(actions, Assign)] == [("alice",), ("carol",), ("alice",),
                                                                             ("carol",)]
    # The turn goes on from there.
    after = await handle(db, "issues", issue_payload(number=5, **BUG), rules_=r, reader=reader, delivery="d5")
    assert [a.assignees for a in of(after, Assign)] == [("alice",)]


async def test_a_decision_made_again_keeps_its_person_and_the_turn(db):
    r = rules(routing=ROUTING)
    await apply(db, _until_assigned(await _decide_bug(db, 1, r, board_reader())))
    # The delivery is retried (its assignment failed): the same person, the turn unmoved.
    again = await _decide_bug(db, 1, r, board_reader())
    await apply(db, again)
    assert [a.assignees for a in of(again, Assign)] == [("alice",)]
    assert [a.assignees for a in of(await _decide_bug(db, 2, r, board_reader()), Assign)] == [("carol",)]


async def test_deciding_writes_nothing_so_a_dry_run_takes_no_turn_and_reports_nothing(db):
    r = rules(routing=ROUTING)
    for _ in range(2):       # replay without --execute, twice
        decided = await _decide_bug(db, 1, r, board_reader(exists=False))
        assert [a.assignees for a in of(decided, Assign)] == [("alice",)]
        assert [a.marker for a in of(decided, UpsertComment) if a.marker.startswith("route-problem:")]
    assert await db.fetchall("SELECT * FROM route_turns") == []
    assert await db.fetchall("SELECT * FROM route_problems") == []
    # The live bot then routes another issue first: it gets the first turn and the report.
    live = await _decide_bug(db, 2, r, board_reader(exists=False))
    await apply(db, live)
    assert [a.assignees for a in of(live, Assign)] == [("alice",)]
    assert [c.number for c in of(live, UpsertComment) if c.marker.startswith("route-problem:")] == [2]


async def test_a_missing_board_is_reported_once_when_issues_are_routed_at_once(db):
    r = rules(routing=ROUTING)
    reader = board_reader(exists=False)
    decided = await asyncio.gather(*(_decide_bug(db, number, r, reader) for number in (1, 2, 3)))
    done = [await _carry_out(db, number, r, reader, actions) for number, actions in zip((1, 2, 3), decided)]
    reports = [(a.number, a.marker) for actions in done for a in of(actions, UpsertComment)
               if a.marker.startswith("route-problem:")]
    assert len(reports) == 1
    # The issue whose routing reported it keeps the report when decided again (a retry).
    [(number, marker)] = reports
    await db.execute("DELETE FROM route_done")      # as if the comment had failed, then the rest
    again = await _decide_bug(db, number, r, reader)
    await apply(db, again)
    assert [a.marker for a in of(again, UpsertComment)] == [marker]
    assert all(any("not put on a board" in n.text for n in of(actions, Note)) for actions in done)


# --- the agenda's week ---------------------------------------------------------------------

def _agenda(weekday: str, at: str, post_before: str = "24h") -> dict:
    return {"agenda": {"weekday": weekday, "time": at, "timezone": "UTC", "post_before": post_before,
                       "discussion_category": "RFC reviews"}}


MONDAY = datetime(2026, 11, 30, tzinfo=timezone.utc)   # ISO week 49


@pytest.mark.parametrize("at, now, due, week", [
    ("00:00", MONDAY - timedelta(hours=23), True, "2026-W49"),       # the window opens on Sunday
    ("00:00", MONDAY - timedelta(hours=25), False, "2026-W49"),
    ("00:00", MONDAY, False, "2026-W50"),                             # the call itself: the next one is ahead
    ("09:00", MONDAY - timedelta(hours=12), True, "2026-W49"),       # Sunday noon, 21 h before
    ("09:00", MONDAY + timedelta(hours=8, minutes=59), True, "2026-W49"),
])
def test_the_window_before_a_call_early_in_the_week_starts_the_week_before(at, now, due, week):
    section = rules(routing=_agenda("monday", at)).section("routing")["agenda"]
    is_due, call = agenda.due(now, section)
    assert is_due is due and agenda.week_of(call) == week


async def test_a_monday_midnight_call_gets_its_agenda_once(db):
    await store.write_rfc(db, repo=REPO, number=3, state="review", title="RFC 3",
                          url=f"https://github.com/{REPO}/issues/3", opened_at=1.0)
    routing = _agenda("monday", "00:00")
    actions = await agenda.run_agenda(job_context(db, MONDAY - timedelta(hours=12), routing))
    [post] = of(actions, CreateDiscussion)
    assert post.dedupe_key == "rfc-agenda-2026-W49" and "Monday 2026-11-30 00:00" in post.body
    await posted_by_the_executor(db, actions)
    assert await agenda.run_agenda(job_context(db, MONDAY - timedelta(hours=11), routing)) == []


# --- the agenda follows the RFCs' issues -----------------------------------------------------

async def _route_event(db, action, number, *, sender="maint", label=None, labels=("feature",)):
    payload = issue_payload(action, number=number, sender=sender, label=label, labels=labels, **FEATURE_REQUEST)
    if action == "closed":
        payload["issue"]["state"] = "closed"
    event, ctx = make_context("issues", payload, db=db, rules=rules(routing=ROUTING), reader=board_reader(),
                              roles=ROLES)
    actions = [a for handler in route.FEATURE.handlers_for(event) for a in await handler(event, ctx)]
    await apply(db, actions)
    return actions


async def _listed(db) -> list[int]:
    [post] = of(await agenda.run_agenda(job_context(db, CALL - timedelta(hours=2), AGENDA)), CreateDiscussion)
    return [n for n in range(1, 20) if f"/issues/{n})" in post.body]


async def test_closed_transferred_deleted_and_unlabelled_rfcs_leave_the_agenda(db):
    for number in (9, 10, 11, 12, 13):
        await store.write_rfc(db, repo=REPO, number=number, state="review", title=f"RFC {number}",
                              url=f"https://github.com/{REPO}/issues/{number}", opened_at=float(number))
    assert await _listed(db) == [9, 10, 11, 12, 13]
    await _route_event(db, "closed", 9)
    await _route_event(db, "transferred", 10)
    await _route_event(db, "deleted", 11)
    # A maintainer took the state's label off: back to draft, the board status too.
    unlabelled = await _route_event(db, "unlabeled", 12, label="rfc/review")
    assert [(a.project_number, a.value) for a in of(unlabelled, AddToProject)] == [(6, "Draft")]
    assert (await store.rfc(db, REPO, 12))["state"] == "draft"
    # Only maintainers move RFCs, by label as by /rfc: a triager's removal is noted, no more.
    assert [n.text for n in await _route_event(db, "unlabeled", 13, sender="triager", label="rfc/review")] == [
        "label rfc/review removed by @triager, not a maintainer: the RFC stays review"]
    assert await _listed(db) == [13]
    await _route_event(db, "reopened", 9)                        # back, in the state it had
    assert await _listed(db) == [9, 13]
    assert await _route_event(db, "closed", 14) == []             # not an RFC


# --- a Discussion category that is not there ------------------------------------------------

async def test_a_missing_category_is_reported_once_and_the_week_waits_for_the_post(db):
    await store.write_rfc(db, repo=REPO, number=3, state="review", title="RFC 3",
                          url=f"https://github.com/{REPO}/issues/3", opened_at=1.0)
    missing = ("General",)
    actions = await agenda.run_agenda(job_context(db, CALL - timedelta(hours=3), AGENDA, categories=missing))
    assert of(actions, CreateDiscussion) == []
    [report] = of(actions, UpsertComment)                        # on the oldest RFC waiting for review
    assert (report.number, report.marker) == (3, f"route-problem:category:{REPO}:RFC reviews")
    assert "Routing problem: the Discussion category 'RFC reviews' does not exist" in report.body
    await apply(db, actions)
    assert await agenda.run_agenda(job_context(db, CALL - timedelta(hours=2), AGENDA, categories=missing)) == []
    # Once the category is there, the week's agenda goes out.
    fixed = await agenda.run_agenda(job_context(db, CALL - timedelta(hours=1), AGENDA))
    [post] = of(fixed, CreateDiscussion)
    assert post.dedupe_key == "rfc-agenda-2026-W48"
    await apply(db, fixed)                                       # and should it go missing again, it is told
    assert await db.fetchall("SELECT * FROM route_problems") == []


async def test_a_week_counts_as_posted_only_once_the_post_exists(db):
    actions = await agenda.run_agenda(job_context(db, CALL - timedelta(hours=2), AGENDA))
    [post] = of(actions, CreateDiscussion)
    await apply(db, actions)     # the executor runs a batch's Records even after its post failed
    again = await agenda.run_agenda(job_context(db, CALL - timedelta(hours=1, minutes=45), AGENDA))
    assert of(again, CreateDiscussion) == [post]                  # so the next run tries again
    await posted_by_the_executor(db, again)
    assert await agenda.run_agenda(job_context(db, CALL - timedelta(hours=1, minutes=30), AGENDA)) == []


# --- only maintainers move RFCs ----------------------------------------------------------------

async def test_only_a_maintainer_changes_the_kind_of_an_rfc_moved_on_from_draft(db):
    r = rules(routing=ROUTING)
    await handle(db, "issues", issue_payload(**FEATURE_REQUEST), rules_=r, reader=board_reader())
    await _rfc(db, "accept", ["feature", "rfc/draft"])
    labels = ["feature", "rfc/accepted"]
    by_author = comment_payload("/kind bug", user="reporter", labels=labels, title="feat: dark mode")
    with pytest.raises(CommandRefused, match=r"this RFC is accepted: only the \*\*maintainer\*\* role can change"):
        await command(db, classify.FEATURE, "kind", ("bug",), by_author, rules_=r, reader=board_reader())
    # Saying what it is already undoes nothing, and may be said by the author.
    same = comment_payload("/kind feature", user="reporter", labels=labels, title="feat: dark mode")
    confirmed = await command(db, classify.FEATURE, "kind", ("feature",), same, rules_=r, reader=board_reader(),
                              delivery="c2")
    assert not of(confirmed, RemoveLabel) and not of(confirmed, RemoveFromProject)
    # A triager's kind label is not taken as the kind either.
    labelled = issue_payload("labeled", labels=[*labels, "bug"], sender="triager", label="bug", **FEATURE_REQUEST)
    actions = await handle(db, "issues", labelled, rules_=r, reader=board_reader(), delivery="l1")
    assert [n.text for n in of(actions, Note)] == [
        "kind label 'bug' added by @triager not taken as the kind: the RFC is accepted, and only maintainers "
        "change its kind now"]
    assert (await store.rfc(db, REPO, 7))["state"] == "accepted"
    # A maintainer may.
    by_maintainer = comment_payload("/kind bug", user="maint", labels=labels, title="feat: dark mode")
    moved = await command(db, classify.FEATURE, "kind", ("bug",), by_maintainer, rules_=r, reader=board_reader(),
                          delivery="c3")
    assert "rfc/accepted" in [a.label for a in of(moved, RemoveLabel)] and of(moved, RemoveFromProject)


# --- labels the bot added and a person took off ------------------------------------------------

async def _label_event(db, action, label, sender, labels):
    payload = issue_payload(action, labels=labels, label=label, sender=sender, **BUG)
    event, ctx = make_context("issues", payload, db=db, rules=rules(routing=ROUTING), reader=board_reader(),
                              roles=ROLES)
    actions = [a for feature in (label_ledger.FEATURE, classify.FEATURE, route.FEATURE)
               for handler in feature.handlers_for(event) for a in await handler(event, ctx)]
    await apply(db, actions)
    return actions


async def test_a_label_someone_else_took_off_is_no_longer_the_bots(db):
    await handle(db, "issues", issue_payload(**BUG), rules_=rules(routing=ROUTING), reader=board_reader())
    assert await state.bot_labels(db, REPO, 7) == {"bug", "triage"}
    # Taken off by a maintainer (the name as the repository spells it), then put back.
    taken = await _label_event(db, "unlabeled", "Triage", "maint", ["bug"])
    assert [a.args["label"] for a in of(taken, Record) if a.op == "released"] == ["Triage"]
    await _label_event(db, "labeled", "triage", "maint", ["bug", "triage"])
    assert await state.bot_labels(db, REPO, 7) == {"bug"}        # the person's, not the bot's
    # A kind label taken off by someone without a triage role is released too.
    await _label_event(db, "unlabeled", "bug", "visitor", ["triage"])
    assert await state.bot_labels(db, REPO, 7) == set()
    # So a change of kind leaves both where the person put them.
    changed = await _kind(db, "feature", ["bug", "triage"])
    assert of(changed, RemoveLabel) == []


# --- the rotation when its people change ----------------------------------------------------

@pytest.mark.parametrize("before, turns, after, expected", [
    # bob joins after carol's turn: alice is next, not carol a second time.
    (["alice", "carol"], ["alice", "carol"], ["alice", "bob", "carol"], "alice"),
    # alice leaves after bob's turn: carol is next, not bob a second time.
    (["alice", "bob", "carol"], ["alice", "bob"], ["bob", "carol"], "carol"),
    # bob, whose turn it was, leaves: the one after him, carol, is next (not alice).
    (["alice", "bob", "carol"], ["alice", "bob"], ["alice", "carol"], "carol"),
])
async def test_the_turn_follows_the_last_person_when_the_rotation_changes(db, before, turns, after, expected):
    def routing(people):
        return rules(routing={"routes": {"bug": {"labels": [], "rotation": "triage"}},
                              "rotations": {"triage": {"people": people, "max_open": 0}}})

    assigned = []
    for number in range(1, len(turns) + 1):
        actions = await handle(db, "issues", issue_payload(number=number, **BUG), rules_=routing(before),
                               delivery=f"d{number}")
        assigned += [a.assignees[0] for a in of(actions, Assign)]
    assert assigned == turns
    actions = await handle(db, "issues", issue_payload(number=10, **BUG), rules_=routing(after), delivery="d10")
    assert [a.assignees for a in of(actions, Assign)] == [(expected,)]


# --- the board as it is now -----------------------------------------------------------------

def _triage_board(status: str, field: str = "Status"):
    return rules(routing={"routes": {"bug": {"labels": [], "board": {"number": 5, "field": field, "status": status}}}})


async def test_an_option_renamed_since_the_board_was_read_is_not_reported_missing(db):
    options = ["Todo", "Done"]
    reader = board_reader(options=options)
    first = await handle(db, "issues", issue_payload(number=1, **BUG), rules_=_triage_board("Todo"), reader=reader)
    assert [a.value for a in of(first, AddToProject)] == ["Todo"]
    # A maintainer renames the option on the board and in the rules, minutes later.
    options[0] = "Needs triage"
    second = await handle(db, "issues", issue_payload(number=2, **BUG), rules_=_triage_board("Needs triage"),
                          reader=reader, delivery="d2")
    assert [a.value for a in of(second, AddToProject)] == ["Needs triage"]
    assert not [c for c in of(second, UpsertComment) if c.marker.startswith("route-problem:")]
    # A board that is read again and still lacks the option is reported, and then cached.
    third = await handle(db, "issues", issue_payload(number=3, **BUG), rules_=_triage_board("Blocked"),
                         reader=reader, delivery="d3")
    assert of(third, AddToProject) == []
    [report] = [c for c in of(third, UpsertComment) if c.marker.startswith("route-problem:")]
    assert "has no option 'Blocked'" in report.body
    assert len(reader.graphql_calls) == 3


async def test_the_boards_field_is_found_whatever_the_case_the_rules_spell_it(db):
    actions = await handle(db, "issues", issue_payload(**BUG), rules_=_triage_board("triage", field="status"),
                           reader=board_reader())
    assert [(a.field, a.value) for a in of(actions, AddToProject)] == [("status", "triage")]
    assert not [c for c in of(actions, UpsertComment) if c.marker.startswith("route-problem:")]


# GitHub's search API allows 30 requests a minute: the cap is checked for the people in
# turn order until one is free, not for everyone in the rotation on every bug.
async def test_the_cap_is_checked_only_until_someone_is_free(db):
    def searches(reader):
        return [v["q"].split("assignee:")[1] for url, v in reader.calls if url.startswith("/search/issues")]

    r = rules(routing={"routes": {"bug": {"labels": [], "rotation": "triage"}},
                       "rotations": {"triage": {"people": ["alice", "bob", "carol", "triager", "visitor"],
                                                "away": ["bob"], "max_open": 3}}})
    reader = board_reader(counts={"carol": 3})
    first = await handle(db, "issues", issue_payload(number=1, **BUG), rules_=r, reader=reader)
    assert [a.assignees for a in of(first, Assign)] == [("alice",)]
    assert searches(reader) == ["alice"]
    reader.calls.clear()
    second = await handle(db, "issues", issue_payload(number=2, **BUG), rules_=r, reader=reader, delivery="d2")
    assert [a.assignees for a in of(second, Assign)] == [("triager",)]    # bob away, carol at the cap
    assert searches(reader) == ["carol", "triager"]


# --- lookups GitHub refuses for good --------------------------------------------------------

def _refusing_search(reader, login: str):
    """The search for ``login``'s open issues answers 422, as for a renamed login."""
    search = reader.items["/search/issues{?q,per_page}"]

    def searching(url_vars):
        if url_vars["q"].endswith(f"assignee:{login}"):
            raise PermanentGitHubError("422 Validation Failed: The listed users cannot be searched", status=422)
        return search(url_vars)

    reader.items["/search/issues{?q,per_page}"] = searching
    return reader


async def test_a_renamed_login_in_the_rotation_is_passed_over_and_bugs_are_still_labelled(db):
    r = rules(routing={"routes": {"bug": {"labels": ["triage"], "rotation": "triage"}},
                       "rotations": {"triage": {"people": ["alice", "old-login", "carol"], "max_open": 3}}})
    reader = _refusing_search(board_reader(), "old-login")
    first = await handle(db, "issues", issue_payload(number=1, **BUG), rules_=r, reader=reader)
    assert [a.assignees for a in of(first, Assign)] == [("alice",)]
    # The turn reaches old-login: passed over this turn, the rest of the routing goes on.
    second = await handle(db, "issues", issue_payload(number=2, **BUG), rules_=r, reader=reader, delivery="d2")
    assert [a.labels for a in of(second, AddLabels)] == [("bug",), ("triage",)]
    assert [a.assignees for a in of(second, Assign)] == [("carol",)]
    assert any("skipped old-login (search refused)" in n.text for n in of(second, Note))
    third = await handle(db, "issues", issue_payload(number=3, **BUG), rules_=r, reader=reader, delivery="d3")
    assert [a.assignees for a in of(third, Assign)] == [("alice",)]


def _team_refused(status: int):
    def members(url_vars):
        raise PermanentGitHubError(f"{status} Not Found", status=status)
    return members


async def test_a_team_that_cannot_be_listed_is_reported_once_and_bugs_are_routed_without_an_assignee(db):
    routing = {**ROUTING, "rotations": {"triage": {"people": [], "team": "octo-org/triagers", "max_open": 0}}}
    r = rules(routing=routing)
    reader = board_reader()
    reader.lists["/orgs/{org}/teams/{team_slug}/members"] = _team_refused(404)
    first = await handle(db, "issues", issue_payload(number=1, **BUG), rules_=r, reader=reader)
    assert of(first, Assign) == []
    assert [a.labels for a in of(first, AddLabels)] == [("bug",), ("triage",)]
    assert len(of(first, AddToProject)) == 1
    [report] = [c for c in of(first, UpsertComment) if c.marker.startswith("route-problem:")]
    assert report.marker == "route-problem:team:octo-org/triagers"
    assert report.body.startswith("@octo-org/maintainers Routing problem: the team octo-org/triagers of rotation "
                                  "'triage' cannot be listed (GitHub answered 404)")
    second = await handle(db, "issues", issue_payload(number=2, **BUG), rules_=r, reader=reader, delivery="d2")
    assert not [c for c in of(second, UpsertComment) if c.marker.startswith("route-problem:")]
    assert any("not assigned: the team octo-org/triagers" in n.text for n in of(second, Note))
    # Fixed: the report is cleared, so should the team go missing again it is told again.
    reader.lists["/orgs/{org}/teams/{team_slug}/members"] = [{"login": "alice"}]
    third = await handle(db, "issues", issue_payload(number=3, **BUG), rules_=r, reader=reader, delivery="d3")
    assert [a.assignees for a in of(third, Assign)] == [("alice",)]
    assert await db.fetchall("SELECT * FROM route_problems") == []
    reader.lists["/orgs/{org}/teams/{team_slug}/members"] = _team_refused(403)
    fourth = await handle(db, "issues", issue_payload(number=4, **BUG), rules_=r, reader=reader, delivery="d4")
    assert [c.number for c in of(fourth, UpsertComment) if c.marker.startswith("route-problem:")] == [4]


async def test_a_lookup_refused_for_good_leaves_the_issue_unrouted_but_classified(db, monkeypatch):
    from bot.features.route import plan

    async def refused(*args):  # any lookup of routing's that GitHub refuses for good
        raise PermanentGitHubError("403 Resource not accessible by integration", status=403)

    monkeypatch.setattr(plan, "open_counts", refused)
    actions = await handle(db, "issues", issue_payload(**BUG), rules_=rules(routing=ROUTING), reader=board_reader())
    assert [a.labels for a in of(actions, AddLabels)] == [("bug",)]             # the kind label: the SLA clock
    assert [n.text for n in of(actions, Note) if n.feature == "route"] == [
        "not routed as bug: GitHub refused a lookup (403)"]
    assert await db.fetchall("SELECT * FROM route_done") == []


async def test_a_transient_error_while_routing_retries_the_delivery(db):
    from bot.github import TransientGitHubError

    def down(url_vars):
        raise TransientGitHubError("502 Bad Gateway", status=502)

    reader = board_reader()
    reader.items["/search/issues{?q,per_page}"] = down
    with pytest.raises(TransientGitHubError):
        await handle(db, "issues", issue_payload(**BUG), rules_=rules(routing=ROUTING), reader=reader)


# --- problems reported once the bot acts, and again once they come back ---------------------

async def test_a_problem_found_in_a_dry_run_is_reported_once_the_bot_acts(db):
    from bot.executor import Executor
    from .conftest import FEATURES

    r = rules(routing=ROUTING)
    dry = Executor(db, api_for=None, dry_run=True, features=FEATURES, bot_login="contributor-flow[bot]")
    decided = await _decide_bug(db, 1, r, board_reader(exists=False))
    outcome = await dry.run(delivery_id="d1", installation_id=1, batches=[("classify.on_issue", decided)])
    assert any("route-problem:" in text for text in outcome.dry_run)         # the comment, not posted
    assert await db.fetchall("SELECT * FROM route_problems") == []
    # Live, the next bug routed to the missing board reports it.
    live = await handle(db, "issues", issue_payload(number=2, **BUG), rules_=r, reader=board_reader(exists=False),
                        delivery="d2")
    assert [c.number for c in of(live, UpsertComment) if c.marker.startswith("route-problem:")] == [2]


async def test_a_board_problem_fixed_and_back_later_is_reported_again(db):
    r = rules(routing=ROUTING)
    first = await handle(db, "issues", issue_payload(number=1, **BUG), rules_=r, reader=board_reader(options=("Todo",)))
    assert [c.number for c in of(first, UpsertComment) if c.marker.startswith("route-problem:")] == [1]
    route.boards.forget()
    fixed = await handle(db, "issues", issue_payload(number=2, **BUG), rules_=r, reader=board_reader(), delivery="d2")
    assert len(of(fixed, AddToProject)) == 1
    assert await db.fetchall("SELECT * FROM route_problems") == []
    quiet = await handle(db, "issues", issue_payload(number=3, **BUG), rules_=r, reader=board_reader(), delivery="d3")
    assert not [a for a in of(quiet, Record) if a.op == "problems_solved"]   # nothing written while all is well
    route.boards.forget()
    again = await handle(db, "issues", issue_payload(number=4, **BUG), rules_=r,
                         reader=board_reader(options=("Todo",)), delivery="d4")
    assert [c.number for c in of(again, UpsertComment) if c.marker.startswith("route-problem:")] == [4]


async def test_the_board_check_is_cached_per_installation():
    from bot.features.route import boards

    seen = await boards.check(board_reader(), 1, "octo", 5, "Status", "Triage")
    unseen = await boards.check(board_reader(exists=False), 2, "octo", 5, "Status", "Triage")
    assert seen.ok and not unseen.ok
    assert (await boards.check(board_reader(exists=False), 1, "octo", 5, "Status", "Triage")).ok
