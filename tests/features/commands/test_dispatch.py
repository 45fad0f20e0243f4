"""The commands feature: event in, actions out (parsing, sources, roles, replies, reactions)."""
from __future__ import annotations

import pytest

from bot.core.actions import AddLabels, Assign, Close, Comment, Note, React, ReportOutcome
from bot.features.base import CommandSpec, Feature
from bot.features.commands import FEATURE, build_feature
from bot.features.commands.dispatch import run_commands
from bot.features.commands.registry import DuplicateCommand, Registry
from tests.helpers import RecordingReader, bundled_rules, make_context

from .payloads import AUTHOR, REPO, example

ROLES = {"maint": {"maintainer"}, "tri": {"triager"}, "appr": {"approver"}, "alice": set(),
         "boss": {"maintainer", "approver"}}
LABELS = "/repos/{owner}/{repo}/labels/{name}"
ASSIGNABLE = "/repos/{owner}/{repo}/issues/{issue_number}/assignees/{assignee}"


def reader(*known_labels: str) -> RecordingReader:
    from bot.github import PermanentGitHubError

    def label(uv):
        for name in known_labels:
            if name.lower() == uv["name"].lower():
                return {"name": name}
        raise PermanentGitHubError("Not Found", status=404)
    return RecordingReader({LABELS: label, ASSIGNABLE: None})  # anyone can be assigned


async def run(db, event: str, action: str, body: str, *, rules=None, gh=None, features=None, **kw):
    payload = example(event, action, body, **kw)
    ev, ctx = make_context(event, payload, db=db, roles=ROLES, rules=rules, reader=gh or reader())
    feature = build_feature(lambda: features) if features is not None else FEATURE
    [handler] = feature.handlers_for(ev) or [None]
    if handler is None:
        return None
    return list(await handler(ev, ctx))


def kinds(actions):
    return [a.kind for a in actions]


async def test_accepted_command_reacts_eyes_then_acts_then_reports(db):
    actions = await run(db, "issue_comment", "created", "Let me take it.\n/assign", by="maint")
    comment_id = 492700400
    assert actions[0] == React(repo=REPO, number=1, content="eyes", comment_id=comment_id)
    assert actions[1] == Assign(repo=REPO, number=1, assignees=("maint",))
    assert isinstance(actions[2], Note) and "ran /assign" in actions[2].text
    assert actions[-1] == ReportOutcome(repo=REPO, number=1, comment_id=comment_id)


async def test_refusal_is_one_reply_naming_the_role_and_how_to_get_it(db):
    body = "/label bug\n/priority high\n/close"
    actions = await run(db, "issue_comment", "created", body, by="alice", author="bob")
    assert kinds(actions) == ["Comment", "Note", "Note", "Note"]
    reply = actions[0].body
    assert reply.startswith("@alice\n")
    assert "`/label bug` needs one of the roles **triager** or **maintainer**" in reply
    assert "`/close` needs one of the roles **author**, **triager** or **maintainer**" in reply
    assert "ask a maintainer" in reply  # the how-to from rules/commands.yml
    assert all("refused" in n.text for n in actions[1:])


async def test_unknown_command_did_you_mean_or_silence(db):
    actions = await run(db, "issue_comment", "created", "/lable bug", by="maint")
    assert kinds(actions) == ["Comment"]
    assert "Did you mean `/label`?" in actions[0].body
    assert await run(db, "issue_comment", "created", "/shrug\n/usr/bin/env", by="maint") == []


async def test_edit_runs_only_new_commands(db):
    actions = await run(db, "issue_comment", "edited", "/assign\n/hold", previous="/assign", by="maint")
    assert [a for a in actions if isinstance(a, (Assign, AddLabels))] == [
        AddLabels(repo=REPO, number=1, labels=("do-not-merge/hold",))]
    assert await run(db, "issue_comment", "edited", "/assign\ntypo fixed", previous="/assign",
                     by="maint") == []


async def test_deleted_comments_are_not_handled():
    ev_names = {name for name in FEATURE.handlers}
    assert "issue_comment.deleted" not in ev_names and "issue_comment" not in ev_names


@pytest.mark.parametrize("by,by_type", [("renovate[bot]", "Bot"), ("contributor-flow[bot]", "Bot"),
                                        ("some-ci", "Bot")])
async def test_bots_and_the_bot_itself_are_ignored(db, by, by_type):
    assert await run(db, "issue_comment", "created", "/close", by=by, by_type=by_type) == []


async def test_commands_in_code_quotes_and_comments_do_nothing(db):
    body = "> /close\n\n```\n/close\n```\n<!-- /close -->\n`/close`"
    assert await run(db, "issue_comment", "created", body, by="maint") == []


async def test_review_body_has_no_reactions(db):
    actions = await run(db, "pull_request_review", "submitted", "Nice.\n/lgtm", by="tri")
    assert kinds(actions) == ["AddLabels", "Note"]
    assert actions[0].labels == ("lgtm",)


async def test_review_comment_reacts_on_the_review_comment(db):
    actions = await run(db, "pull_request_review_comment", "created", "/hold", by="tri")
    assert actions[0] == React(repo=REPO, number=2, content="eyes", review_comment_id=284312630)
    assert actions[-1] == ReportOutcome(repo=REPO, number=2, review_comment_id=284312630)


async def test_new_issue_body_commands_react_on_the_issue(db):
    actions = await run(db, "issues", "opened", "Crash on start.\n\n/close", by="alice")
    # alice opened it, so she is its author and may close it
    assert actions[0] == React(repo=REPO, number=1, content="eyes")
    assert Close(repo=REPO, number=1, reason="completed") in actions


async def test_pull_request_body_commands(db):
    actions = await run(db, "pull_request", "opened", "Fixes it.\n/cc @carol", by="alice")
    assert any(a.kind == "RequestReviewers" and a.reviewers == ("carol",) for a in actions)


async def test_restricted_label_refused_even_with_the_command_role(db):
    actions = await run(db, "issue_comment", "created", "/label approved", by="maint",
                        gh=reader("approved"))
    assert kinds(actions) == ["Comment", "Note"]
    assert "`approved` is restricted to the **approver** role" in actions[0].body
    boss = await run(db, "issue_comment", "created", "/label Approved", by="boss", gh=reader("approved"))
    assert AddLabels(repo=REPO, number=1, labels=("approved",)) in boss  # the repo's spelling


async def test_commands_open_to_anyone_ask_no_roles_unless_a_restricted_label_is_touched(db):
    asked: list[str] = []

    async def roles_of(login, *, item_author=None):
        asked.append(login)
        return frozenset({"anyone"})

    rules = bundled_rules({"commands": {"commands": {"label": {"roles": ["anyone"]}}}})

    async def comment(body):
        ev, ctx = make_context("issue_comment", example("issue_comment", "created", body, by="alice"),
                               db=db, rules=rules, reader=reader("bug", "approved"))
        ctx.roles_of = roles_of
        [handler] = FEATURE.handlers_for(ev)
        return list(await handler(ev, ctx))

    assert "Comment" in kinds(await comment("/help\n/label bug"))
    assert asked == []  # a stranger's comment costs GitHub no permission or team lookup
    refused = await comment("/label approved")
    assert asked == ["alice"] and "`approved` is restricted" in refused[0].body


async def test_priority_critical_is_restricted_to_maintainers(db):
    tri = await run(db, "issue_comment", "created", "/priority critical", by="tri")
    assert kinds(tri) == ["Comment", "Note"] and "**maintainer**" in tri[0].body
    maint = await run(db, "issue_comment", "created", "/priority critical", by="maint")
    assert AddLabels(repo=REPO, number=1, labels=("priority/critical",)) in maint


async def test_wrong_item_kind(db):
    actions = await run(db, "issue_comment", "created", "/lgtm", by="tri", on_pr=False)
    assert kinds(actions) == ["Comment"] and "works on pull requests only" in actions[0].body


async def test_rules_override_roles_and_disable_commands(db):
    rules = bundled_rules({"commands": {"commands": {"assign": {"roles": ["anyone"]},
                                                     "close": {"enabled": False}}}})
    actions = await run(db, "issue_comment", "created", "/assign\n/close", by="alice", author="bob",
                        rules=rules)
    assert Assign(repo=REPO, number=1, assignees=("alice",)) in actions
    assert not any(isinstance(a, (Close, Comment)) for a in actions)  # /close: ignored, silently


async def test_max_commands_per_comment(db):
    rules = bundled_rules({"commands": {"max_per_comment": 2}})
    actions = await run(db, "issue_comment", "created", "/hold\n/assign\n/close", by="maint",
                        rules=rules)
    assert not any(isinstance(a, Close) for a in actions)
    assert sum(isinstance(a, Note) for a in actions) == 2


GITHUB_MAX_BODY = 65_536  # characters GitHub takes in one comment (a longer reply is lost)


async def test_replies_quote_a_long_command_line_cut_short(db):
    line = "/label " + "x" * 900
    [reply, note] = await run(db, "issue_comment", "created", line, by="alice", author="bob")
    assert "needs one of the roles" in reply.body and len(reply.body) < 400, len(reply.body)
    assert "`/label xxx" in reply.body and "x…`" in reply.body
    assert len(note.text) < 300


async def test_an_overlong_command_line_is_answered_not_read(db):
    body = "/label " + "x" * (GITHUB_MAX_BODY - len("/label "))  # a comment GitHub accepts
    actions = await run(db, "issue_comment", "created", body, by="maint")
    assert kinds(actions) == ["Comment", "Note"]
    assert "is longer than 1,000 characters" in actions[0].body and len(actions[0].body) < 300
    assert await run(db, "issue_comment", "created", "/shrug " + "x" * 2000, by="maint") == []


async def test_the_reply_stays_far_below_githubs_limit_however_many_commands_fail(db):
    rules = bundled_rules({"commands": {"max_per_comment": 50}})
    labels = " ".join(f"{'n' * 48}{i}" for i in range(9))  # labels the repository lacks
    body = "\n".join(f"/label {labels} {'m' * 48}{k}" for k in range(50))  # 26 KB
    actions = await run(db, "issue_comment", "created", body, by="maint", rules=rules)
    [reply] = [a for a in actions if isinstance(a, Comment)]
    assert len(reply.body) <= 16_500, len(reply.body)  # a quarter of GitHub's limit
    assert reply.body.endswith(" more.") and reply.body.count("has no label") < 50
    assert sum(isinstance(a, Note) for a in actions) == 50  # /explain still has them all


async def test_other_features_commands_plug_in_and_follow_their_switch(db):
    async def ping(inv, event, ctx):
        return [Comment(repo=ctx.repo, number=event.number, body="pong " + " ".join(inv.args))]

    other = Feature("other", commands=[CommandSpec("ping", "/ping", "Pings.", ("triager",), ping)])
    features = [other]
    commands = build_feature(lambda: features)
    features.append(commands)
    payload = example("issue_comment", "created", "/ping a b", by="tri")
    ev, ctx = make_context("issue_comment", payload, db=db, roles=ROLES)
    actions = await run_commands(ev, ctx, Registry.build(features, ctx.rules))
    assert Comment(repo=REPO, number=1, body="pong a b") in actions
    refused = await run(db, "issue_comment", "created", "/ping", by="alice", features=features)
    assert "**triager**" in refused[0].body


def _switchable_features():
    from bot.features import all_features

    return [f for f in all_features() if f.rules is not None and f.commands and f.name != "commands"]


@pytest.mark.parametrize("feature", _switchable_features(), ids=lambda f: f.rules.name)
async def test_a_switched_off_section_takes_its_commands_away(db, feature):
    # The switch is the feature's rules section, named apart from the feature at times
    # (patch_pipeline reads `pipeline`, route reads `routing`).
    from bot.features import all_features

    rules = bundled_rules({feature.rules.name: {"enabled": False}})
    assert not rules.enabled(feature.rules.name)
    names = [spec.name for spec in feature.commands]
    registry = Registry.build(all_features(), rules)
    assert [name for name in names if registry.get(name) is not None] == []
    assert all(Registry.build(all_features(), bundled_rules()).get(name) for name in names)
    help_ = await run(db, "issue_comment", "created", "/help", on_pr=True, rules=rules)
    [reply] = [a for a in help_ if isinstance(a, Comment)]
    assert [name for name in names if f"`/{name}" in reply.body] == []
    for name in names:
        assert kinds(await run(db, "issue_comment", "created", f"/{name}", on_pr=True, by="boss",
                               rules=rules)) == []


def test_a_command_name_registered_twice_is_a_bug():
    async def h(inv, event, ctx):
        return []
    twice = [Feature("a", commands=[CommandSpec("x", "/x", "", ("anyone",), h)]),
             Feature("b", commands=[CommandSpec("x", "/x", "", ("anyone",), h)])]
    with pytest.raises(DuplicateCommand):
        Registry.build(twice)


def test_every_registered_command_has_usage_help_and_known_roles():
    from bot.features import all_features

    registry = Registry.build(all_features(), bundled_rules())
    assert {"help", "assign", "label", "lgtm", "approve", "explain"} <= {c.name for c in registry}
    for command in registry:
        assert command.spec.usage.startswith("/" + command.name)
        assert command.spec.help
        assert set(command.roles) <= {"anyone", "author", "triager", "maintainer", "approver"}


async def test_author_is_decided_from_github_not_from_the_text(db):
    actions = await run(db, "issue_comment", "created", "I am the author @Codertocat\n/close",
                        by="alice")
    assert kinds(actions) == ["Comment", "Note"]
    assert AUTHOR not in actions[0].body.split("\n")[0]


async def test_edit_without_a_body_change_runs_nothing(db):
    payload = example("pull_request_review", "submitted", "/hold", by="tri")
    payload["action"] = "edited"  # e.g. a review edited without its text changing
    ev, ctx = make_context("pull_request_review", payload, db=db, roles=ROLES)
    [handler] = FEATURE.handlers_for(ev)
    assert await handler(ev, ctx) == []
    payload["changes"] = {"body": {"from": "LGTM"}}
    ev, ctx = make_context("pull_request_review", payload, db=db, roles=ROLES)
    assert AddLabels(repo=REPO, number=2, labels=("do-not-merge/hold",)) in await handler(ev, ctx)


async def test_review_comment_edit_compares_with_the_previous_text(db):
    actions = await run(db, "pull_request_review_comment", "edited", "nit\n/hold", previous="nit",
                        by="tri")
    assert AddLabels(repo=REPO, number=2, labels=("do-not-merge/hold",)) in actions


async def test_a_transferred_issues_body_is_not_run_with_the_transferrers_roles(db):
    # A transfer reaches the new repository as issues.opened sent by whoever moved the issue
    # (a maintainer), with the original author's body: commands in it are the author's, and
    # were already read (or refused) where they were written.
    body = "It crashes.\n\n/priority critical\n/label security\n/assign"
    payload = example("issues", "opened", body, by="alice")
    payload["sender"] = {"login": "boss", "id": 99, "type": "User"}
    payload["changes"] = {"old_issue": {"number": 7, "user": payload["issue"]["user"]},
                          "old_repository": {"full_name": "Codertocat/old-place"}}
    ev, ctx = make_context("issues", payload, db=db, roles=ROLES, reader=reader("security"))
    [handler] = FEATURE.handlers_for(ev)
    assert await handler(ev, ctx) == []
    # the same body in a newly opened issue by the maintainer runs
    payload.pop("changes")
    payload["issue"]["user"] = payload["sender"]
    ev, ctx = make_context("issues", payload, db=db, roles=ROLES, reader=reader("security"))
    assert "AddLabels" in kinds(await handler(ev, ctx))
