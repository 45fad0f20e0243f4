"""Slash commands end to end: the real bot over real HTTP against the shared fake GitHub.

The permission matrix runs every command the registry holds (the generic ones and
those other features plug in) against every role, with roles coming from GitHub itself:
collaborator permission (triage, write), OWNERS (approvers) and item authorship.
"""
from __future__ import annotations

from typing import Any

import pytest

from bot.features import all_features
from bot.features.commands.registry import Registry
from bot.store import state
from tests.conftest import BOTH_BACKENDS
from tests.fixtures.webhooks import load_example
from tests.helpers import bundled_rules

from .harness import BotHarness, retarget

REPO = "octo/repo"
PERSONAS = {"anyone": "stranger", "author": "auth", "triager": "tria", "maintainer": "mary",
            "approver": "appy"}
HAVE = {"anyone": {"anyone"}, "author": {"anyone", "author"}, "triager": {"anyone", "triager"},
        "maintainer": {"anyone", "maintainer", "triager"}, "approver": {"anyone", "approver"}}
# Arguments that make sense for a command, where the usage alone does not say.
SAMPLE_ARGS = {"label": "bug", "remove-label": "bug", "cc": "@carol", "kind": "bug",
               "priority": "high", "triage": "accepted"}
REGISTRY = Registry.build(all_features(), bundled_rules())


def sample_line(command) -> str:
    """``/name`` plus plausible arguments: from SAMPLE_ARGS, else the usage's first
    mandatory word (first alternative of ``a|b``; placeholders become ``x``)."""
    name = command.name
    if name in SAMPLE_ARGS:
        return f"/{name} {SAMPLE_ARGS[name]}"
    words = command.spec.usage.split()[1:]
    if not words or words[0].startswith("["):
        return f"/{name}"
    word = words[0].split("|")[0]
    return f"/{name} {'x' if word.isupper() else word}"


@pytest.fixture
async def bot(fake_github, database_url):
    fake = fake_github
    fake.add_repo(REPO)
    for login in (*PERSONAS.values(), "someone", "carol"):
        fake.add_user(login)
    fake.set_permission(REPO, "tria", "triage")
    fake.set_permission(REPO, "mary", "write")
    fake.set_permission(REPO, "carol", "write")
    fake.put_file(REPO, "OWNERS", "approvers:\n- appy\nreviewers:\n- carol\n")
    fake.add_label(REPO, "bug")
    async with BotHarness(fake, database_url=database_url) as harness:
        yield harness


def new_item(fake, *, pr: bool, author: str):
    if pr:
        return fake.add_pull(REPO, user=author, files=["src/app.py"], commits=["Change things"])
    return fake.add_issue(REPO, user=author)


def comment_payload(fake, number: int, comment, login: str, *, action: str = "created",
                    previous: str | None = None) -> dict[str, Any]:
    payload = retarget(load_example("issue_comment", action), REPO, fake)
    payload["issue"] = fake.serializer.issue(fake.issue(REPO, number))
    payload["comment"] = fake.serializer.comment(fake.repo(REPO), comment, number)
    payload["sender"] = fake.serializer.user(login)
    if action == "edited":
        payload["changes"] = {"body": {"from": previous or ""}}
    return payload


async def say(bot: BotHarness, number: int, body: str, login: str):
    comment = bot.fake.add_comment(REPO, number, body, login)
    await bot.deliver("issue_comment", comment_payload(bot.fake, number, comment, login))
    return comment


def bot_replies(fake, number: int) -> list[str]:
    return [c.body for c in fake.issue(REPO, number).comments if c.user == fake.bot_login]


def reactions(fake, comment) -> list[str]:
    return [r.content for r in comment.reactions if r.user == fake.bot_login]


@pytest.mark.parametrize("name", [c.name for c in REGISTRY])
async def test_permission_matrix(bot, name):
    """Each role either passes the gate (the command runs or reports a usage problem) or
    is refused with one reply naming the roles the command needs."""
    command = REGISTRY.get(name)
    line = sample_line(command)
    allowed_roles = set(command.roles)
    got: dict[str, str] = {}
    want: dict[str, str] = {}
    for role, login in PERSONAS.items():
        author = login if role == "author" else "someone"
        item = new_item(bot.fake, pr=not command.spec.on_issues, author=author)
        comment = await say(bot, item.number, line, login)
        decisions = [d["summary"] for d in await state.decisions_for(bot.runtime.db, REPO, item.number)
                     if d["feature"] == "commands"]
        refused = [d for d in decisions if d.startswith(f"refused {line}") and "needs" in d]
        # Through the gate: it ran (the comment got the bot's reaction) or hit a usage problem.
        passed = reactions(bot.fake, comment) or [
            d for d in decisions if d.startswith(f"could not run {line}")
            or (d.startswith(f"refused {line}") and "needs" not in d)]
        got[role] = "refused" if refused else "passed" if passed else f"nothing: {decisions}"
        want[role] = "passed" if HAVE[role] & allowed_roles else "refused"
        if refused:
            [reply] = bot_replies(bot.fake, item.number)
            assert reply.startswith(f"@{login} ")
            assert reactions(bot.fake, comment) == []
            for needed in allowed_roles:
                assert f"**{needed}**" in reply
    assert got == want


async def test_label_reacts_quietly_and_labels(bot):
    fake = bot.fake
    issue = new_item(fake, pr=False, author="someone")
    fake.add_label(REPO, "area/docs")
    fake.add_label(REPO, "good first issue")
    comment = await say(bot, issue.number, "Triaged.\n/label bug Area/Docs 'good first issue'", "tria")
    assert fake.issue(REPO, issue.number).labels == ["bug", "area/docs", "good first issue"]
    assert reactions(fake, comment) == ["+1"]  # eyes withdrawn, thread left quiet
    assert bot_replies(fake, issue.number) == []


async def test_review_gates_with_roles_from_github(bot):
    fake = bot.fake
    pr = new_item(fake, pr=True, author="tria")
    own = await say(bot, pr.number, "/lgtm", "tria")  # a triager, but the author
    assert "cannot LGTM your own pull request" in bot_replies(fake, pr.number)[0]
    assert reactions(fake, own) == []
    await say(bot, pr.number, "/lgtm", "carol")  # OWNERS reviewer -> triager
    await say(bot, pr.number, "/approve", "appy")  # approver through OWNERS
    assert set(fake.issue(REPO, pr.number).labels) == {"lgtm", "approved"}
    await say(bot, pr.number, "/approve", "mary")  # write access does not make an approver
    assert "needs the **approver** role" in bot_replies(fake, pr.number)[-1]
    await say(bot, pr.number, "/lgtm cancel", "mary")
    assert fake.issue(REPO, pr.number).labels == ["approved"]


async def test_edited_comment_runs_only_what_was_added(bot):
    fake = bot.fake
    issue = new_item(fake, pr=False, author="someone")
    comment = await say(bot, issue.number, "/hold", "mary")
    assert fake.issue(REPO, issue.number).labels == ["do-not-merge/hold"]
    fake.issue(REPO, issue.number).labels.remove("do-not-merge/hold")  # someone removed it by hand
    comment.body = "/hold\n/label bug"
    await bot.deliver("issue_comment", comment_payload(fake, issue.number, comment, "mary",
                                                       action="edited", previous="/hold"))
    assert fake.issue(REPO, issue.number).labels == ["bug"]  # /hold was not run again


async def test_unknown_command_and_explain(bot):
    fake = bot.fake
    issue = new_item(fake, pr=False, author="someone")
    await say(bot, issue.number, "/lable bug", "tria")
    assert "Did you mean `/label`?" in bot_replies(fake, issue.number)[0]
    await say(bot, issue.number, "/close", "stranger")
    await say(bot, issue.number, "/explain", "stranger")
    explained = bot_replies(fake, issue.number)[-1]
    assert "refused /close from @\u200bstranger" in explained
    assert "Your roles here: anyone." in explained


@BOTH_BACKENDS
async def test_remove_label_only_takes_off_what_the_bot_added(bot):
    fake = bot.fake
    issue = fake.add_issue(REPO, user="someone", labels=["bug"])
    await say(bot, issue.number, "/remove-label bug", "mary")
    assert fake.issue(REPO, issue.number).labels == ["bug"]
    assert "I only remove labels I added" in bot_replies(fake, issue.number)[0]
    await say(bot, issue.number, "/priority high", "mary")
    await say(bot, issue.number, "/priority low", "mary")
    assert fake.issue(REPO, issue.number).labels == ["bug", "priority/low"]
    await say(bot, issue.number, "/remove-label priority/low", "mary")
    assert fake.issue(REPO, issue.number).labels == ["bug"]


def pr_payload(fake, event: str, action: str, number: int, sender: str) -> dict[str, Any]:
    payload = retarget(load_example(event, action), REPO, fake)
    payload["pull_request"] = fake.serializer.pull(fake.issue(REPO, number))
    payload["sender"] = fake.serializer.user(sender)
    return payload


async def test_review_comment_body_and_new_pull_request_sources(bot):
    from tests.fakegithub.state import ReviewComment, make_node_id, now_iso

    fake = bot.fake
    pr = new_item(fake, pr=True, author="auth")
    # A review comment: reactions go on the review comment itself.
    cid = fake.state.next_id()
    rc = ReviewComment(id=cid, node_id=make_node_id("PRRC", cid), user="mary", body="nit\n/hold",
                       path="src/app.py", commit_id=pr.pull.head_sha, line=1, side="RIGHT",
                       in_reply_to_id=None, created_at=now_iso())
    pr.pull.review_comments.append(fake.state.register(rc))
    payload = pr_payload(fake, "pull_request_review_comment", "created", pr.number, "mary")
    payload["comment"] = fake.serializer.review_comment(REPO, pr.number, rc)
    await bot.deliver("pull_request_review_comment", payload)
    assert fake.issue(REPO, pr.number).labels == ["do-not-merge/hold"]
    assert [r.content for r in rc.reactions if r.user == fake.bot_login] == ["+1"]
    # A review body: GitHub has no reactions on reviews, so the label is the only answer.
    review = fake.add_review(REPO, pr.number, "carol", state="APPROVED", body="Looks right.\n/lgtm")
    payload = pr_payload(fake, "pull_request_review", "submitted", pr.number, "carol")
    payload["review"] = fake.serializer.review(REPO, pr.number, review)
    await bot.deliver("pull_request_review", payload)
    assert set(fake.issue(REPO, pr.number).labels) == {"do-not-merge/hold", "lgtm"}
    assert fake.issue(REPO, pr.number).reactions == []
    # The body of a new pull request: reactions on the pull request.
    opened = fake.add_pull(REPO, user="auth", head_ref="other", body="Adds X.\r\n\r\n/hold\r\n",
                           files=["src/x.py"], commits=["Add X"])
    await bot.deliver("pull_request", {**pr_payload(fake, "pull_request", "opened", opened.number, "auth"),
                                       "number": opened.number})
    assert "do-not-merge/hold" in fake.issue(REPO, opened.number).labels
    assert [r.content for r in fake.issue(REPO, opened.number).reactions
            if r.user == fake.bot_login] == ["+1"]


async def test_failed_action_turns_the_reaction_confused(bot):
    fake = bot.fake
    pr = new_item(fake, pr=True, author="auth")
    fake.add_user("outsider")
    comment = await say(bot, pr.number, "/cc @outsider", "mary")  # GitHub refuses non-collaborators
    assert reactions(fake, comment) == ["confused"]
    assert fake.issue(REPO, pr.number).pull.requested_reviewers == []


async def test_repository_override_changes_who_may_do_what(bot):
    fake = bot.fake
    fake.put_file(REPO, ".github/contributor-flow.yml",
                  "commands:\n  commands:\n    assign: {roles: [anyone]}\n"
                  "  roles:\n    approver: {logins: [Mary]}\n")
    issue = new_item(fake, pr=False, author="someone")
    await say(bot, issue.number, "/assign", "stranger")
    assert fake.issue(REPO, issue.number).assignees == ["stranger"]
    pr = new_item(fake, pr=True, author="auth")
    await say(bot, pr.number, "/approve", "mary")
    assert fake.issue(REPO, pr.number).labels == ["approved"]


async def test_assign_says_who_github_would_not_assign(bot):
    """GitHub silently leaves out people it cannot assign (no access, not of the
    organisation, never took part): a `+1` would say it was done. The reply names them
    inertly and nothing changes; the people it can assign are assigned as asked."""
    fake = bot.fake
    issue = new_item(fake, pr=False, author="someone")
    fake.add_user("passer-by")
    comment = await say(bot, issue.number, "/assign @carol @passer-by", "mary")
    assert fake.issue(REPO, issue.number).assignees == []
    assert reactions(fake, comment) == []
    [reply] = bot_replies(fake, issue.number)
    assert reply.startswith("@mary ") and "cannot assign `passer-by` here" in reply  # in code: no ping
    assert "nothing was changed" in reply
    # Once they take part in the issue, GitHub lets them be assigned.
    await say(bot, issue.number, "I can take this one.", "passer-by")
    comment = await say(bot, issue.number, "/assign @carol @passer-by", "mary")
    assert fake.issue(REPO, issue.number).assignees == ["carol", "passer-by"]
    assert reactions(fake, comment) == ["+1"]
