"""The generic commands, table-driven: a maintainer's comment in, the command's actions out."""
from __future__ import annotations

import pytest

from bot.core.actions import (AddLabels, Assign, Close, Comment, RemoveLabel, RemoveReviewers, Reopen,
                              RequestReviewers, Unassign)
from bot.features.commands import FEATURE
from bot.store import state
from tests.helpers import bundled_rules, make_context

from .payloads import REPO, example
from .test_dispatch import ROLES, reader

ISSUE = PR = 1  # the example comment is on #1 (an issue, or a PR with on_pr)
BOOKKEEPING = ("React", "ReportOutcome", "Note")


async def command(db, body: str, *, pr: bool = False, by: str = "maint", labels=(), bot_added=(),
                  state_: str = "open", author: str = "Codertocat", gh=None, rules=None):
    """The command actions (reactions and notes left out) and the reply, if any."""
    payload = example("issue_comment", "created", body, by=by, labels=labels, state=state_,
                      author=author, on_pr=pr)
    number = payload["issue"]["number"]
    for label in bot_added:
        await state.record_bot_label(db, REPO, number, label, "commands")
    ev, ctx = make_context("issue_comment", payload, db=db, roles=ROLES, rules=rules,
                           reader=gh or reader("bug", "Help Wanted"))
    [handler] = FEATURE.handlers_for(ev)
    actions = [a for a in await handler(ev, ctx) if a.kind not in BOOKKEEPING]
    replies = [a.body for a in actions if isinstance(a, Comment) and a.body.startswith("@")]
    return [a for a in actions if not (isinstance(a, Comment) and a.body.startswith("@"))], replies


CASES = [
    # (comment, options, expected actions)
    ("/assign", {}, [Assign(repo=REPO, number=ISSUE, assignees=("maint",))]),
    ("/assign @carol dave @carol", {}, [Assign(repo=REPO, number=ISSUE, assignees=("carol", "dave"))]),
    ("/unassign", {}, [Unassign(repo=REPO, number=ISSUE, assignees=("maint",))]),
    # Enterprise Managed Users: every login ends in _SHORTCODE
    ("/assign @mona-cat_octo jdoe_acme", {},
     [Assign(repo=REPO, number=ISSUE, assignees=("mona-cat_octo", "jdoe_acme"))]),
    ("/unassign @jdoe_acme", {}, [Unassign(repo=REPO, number=ISSUE, assignees=("jdoe_acme",))]),
    ("/cc @jdoe_acme @acme/reviewers", {"pr": True},
     [RequestReviewers(repo=REPO, number=PR, reviewers=("jdoe_acme",), team_reviewers=("reviewers",))]),
    ("/uncc @jdoe_acme", {"pr": True}, [RemoveReviewers(repo=REPO, number=PR, reviewers=("jdoe_acme",))]),
    ("/cc @carol @octo/reviewers", {"pr": True},
     [RequestReviewers(repo=REPO, number=PR, reviewers=("carol",), team_reviewers=("reviewers",))]),
    ("/cc @carol @Codertocat", {"pr": True},  # the author cannot be asked to review
     [RequestReviewers(repo=REPO, number=PR, reviewers=("carol",))]),
    ("/uncc", {"pr": True}, [RemoveReviewers(repo=REPO, number=PR, reviewers=("maint",))]),
    ("/label bug 'help wanted'", {}, [AddLabels(repo=REPO, number=ISSUE, labels=("bug", "Help Wanted"))]),
    ("/label bug", {"labels": ["bug"]}, []),  # already there
    ("/remove-label bug", {"labels": ["bug"], "bot_added": ["bug"]},
     [RemoveLabel(repo=REPO, number=ISSUE, label="bug")]),
    ("/priority HIGH", {"labels": ["priority/low", "priority/medium"], "bot_added": ["priority/low"]},
     [AddLabels(repo=REPO, number=ISSUE, labels=("priority/high",)),
      RemoveLabel(repo=REPO, number=ISSUE, label="priority/low")]),  # medium was set by a person
    ("/triage accepted", {"labels": ["needs-triage"], "bot_added": ["needs-triage"]},
     [AddLabels(repo=REPO, number=ISSUE, labels=("triage/accepted",)),
      RemoveLabel(repo=REPO, number=ISSUE, label="needs-triage")]),
    ("/triage needs-info", {"labels": ["needs-triage"]},  # a person's needs-triage stays
     [AddLabels(repo=REPO, number=ISSUE, labels=("triage/needs-information",))]),
    ("/triage duplicate #42", {},
     [AddLabels(repo=REPO, number=ISSUE, labels=("triage/duplicate",)),
      Comment(repo=REPO, number=ISSUE, body="Duplicate of #42"),
      Close(repo=REPO, number=ISSUE, reason="not_planned")]),
    ("/triage wontfix", {"labels": ["triage/needs-information"], "bot_added": ["triage/needs-information"]},
     [AddLabels(repo=REPO, number=ISSUE, labels=("triage/wontfix",)),
      RemoveLabel(repo=REPO, number=ISSUE, label="triage/needs-information"),
      Close(repo=REPO, number=ISSUE, reason="not_planned")]),
    ("/close", {}, [Close(repo=REPO, number=ISSUE, reason="completed")]),
    ("/close not-planned", {}, [Close(repo=REPO, number=ISSUE, reason="not_planned")]),
    ("/close", {"state_": "closed"}, []),
    ("/reopen", {"state_": "closed"}, [Reopen(repo=REPO, number=ISSUE)]),
    ("/reopen", {}, []),
    ("/hold", {}, [AddLabels(repo=REPO, number=ISSUE, labels=("do-not-merge/hold",))]),
    ("/hold cancel", {"labels": ["do-not-merge/hold"], "bot_added": ["do-not-merge/hold"]},
     [RemoveLabel(repo=REPO, number=ISSUE, label="do-not-merge/hold")]),
    ("/unhold", {"labels": ["do-not-merge/hold"], "bot_added": ["do-not-merge/hold"]},
     [RemoveLabel(repo=REPO, number=ISSUE, label="do-not-merge/hold")]),
    ("/unhold", {}, []),
    ("/lgtm", {"pr": True}, [AddLabels(repo=REPO, number=PR, labels=("lgtm",))]),
    ("/lgtm cancel", {"pr": True, "labels": ["lgtm"], "bot_added": ["lgtm"]},
     [RemoveLabel(repo=REPO, number=PR, label="lgtm")]),
    ("/approve", {"pr": True, "by": "boss"}, [AddLabels(repo=REPO, number=PR, labels=("approved",))]),
    ("/approve", {"pr": True, "by": "boss", "author": "boss"},  # approvers may approve their own
     [AddLabels(repo=REPO, number=PR, labels=("approved",))]),
]


@pytest.mark.parametrize("body,options,expected", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
async def test_generic_command(db, body, options, expected):
    actions, replies = await command(db, body, **options)
    assert replies == []
    assert actions == expected


PROBLEMS = [
    ("/label nosuch bug", {}, "this repository has no label `nosuch`; nothing was changed"),
    ("/label", {}, "name at least one label"),
    ("/remove-label bug", {"labels": ["bug"]}, "I only remove labels I added"),
    ("/remove-label docs", {}, "`docs` is not on this item"),
    ("/priority urgent", {}, "use `/priority critical|high|medium|low`"),
    ("/triage maybe", {}, "use `/triage accepted|needs-info|duplicate|wontfix`"),
    ("/triage duplicate", {}, "name the original issue"),
    ("/triage duplicate #1", {}, "name the original issue"),  # not itself
    ("/assign not/a/login!", {}, "is not a GitHub login"),
    ("/assign @jdoe_", {}, "is not a GitHub login"),
    ("/assign @_acme", {}, "is not a GitHub login"),
    ("/cc", {"pr": True}, "name who should review"),
    ("/cc @Codertocat", {"pr": True}, "the author of a pull request cannot review it"),
    ("/close later", {}, "use `/close` or `/close not-planned`"),
    ("/hold forever", {}, "use `/hold` or `/hold cancel`"),
    ("/lgtm", {"pr": True, "by": "tri", "author": "tri"}, "cannot LGTM your own pull request"),
    ("/help a b", {}, "use `/help` or `/help COMMAND`"),
]


@pytest.mark.parametrize("body,options,message", PROBLEMS, ids=[p[0] for p in PROBLEMS])
async def test_problems_change_nothing_and_are_explained(db, body, options, message):
    actions, replies = await command(db, body, **options)
    assert actions == []
    [reply] = replies
    assert message in reply


async def test_help_lists_the_commands_for_the_item_kind_with_roles(db):
    actions, _ = await command(db, "/help")
    [help_] = actions
    assert "| `/label NAME ...` |" in help_.body and "| triager, maintainer |" in help_.body
    assert "/lgtm" not in help_.body  # pull requests only
    pr_actions, _ = await command(db, "/help lgtm", pr=True)
    assert "/lgtm [cancel]" in pr_actions[0].body and "/label" not in pr_actions[0].body


async def test_help_shows_roles_from_the_rules(db):
    rules = bundled_rules({"commands": {"commands": {"label": {"roles": ["anyone"]}}}})
    actions, _ = await command(db, "/help label", rules=rules)
    assert "| anyone |" in actions[0].body


async def test_explain_lists_recorded_decisions_inertly(db):
    await state.add_decision(db, repo=REPO, number=ISSUE, feature="classify", delivery_id="d1",
                             summary="labelled kind/bug: rule 'crash words' matched 'segfault' @mallory")
    await state.add_decision(db, repo=REPO, number=ISSUE, feature="commands", delivery_id="d2",
                             summary="refused /close from @alice: needs author or triager")
    await state.add_decision(db, repo=REPO, number=99, feature="classify", delivery_id="d3",
                             summary="another item")
    actions, _ = await command(db, "/explain", by="alice")
    [reply] = actions
    lines = reply.body.splitlines()
    assert "What I decided on this issue" in lines[0]
    assert "**classify**: labelled kind/bug: rule 'crash words' matched 'segfault' @\u200bmallory" in lines[2]
    assert "**commands**: refused /close from @\u200balice" in lines[3]
    assert "another item" not in reply.body
    assert "Your roles here: anyone." in reply.body


async def test_explain_with_nothing_decided(db):
    actions, _ = await command(db, "/explain", by="alice")
    assert "- nothing yet." in actions[0].body


async def test_help_table_survives_pipes_in_usages(db):
    actions, _ = await command(db, "/help triage")
    row = actions[0].body.splitlines()[-1]
    assert row.startswith("| `/triage accepted\\|needs-info\\|duplicate #N\\|wontfix` |")
    assert row.count(" | ") == 2  # three cells
