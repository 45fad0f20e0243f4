"""The ``cla`` check of a merge group agrees with the pull request's own re-check under the rules
now in force: the allowlist (organisation and team members included) and the mode.

Each case runs the pull request's real check under the rules it was checked with, its records
applied as the executor would; then the group's ``checks_requested`` and the pull request's
re-check (what ``/cla recheck`` runs) under the rules now in force. Both must say the same; and
the follow job, deciding from the store alone, must not contradict what ``checks_requested``
reported.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterable

import pytest

from bot.core.actions import Record, UpsertCheckRun
from bot.features import cla
from bot.features.merge_queue import follow, handlers
from bot.github import PermanentGitHubError
from tests.fixtures.webhooks import load_example
from tests.helpers import RecordingReader, bundled_rules, make_context

from .test_merge_queue import HEAD, NOW, NUMBER, PULL_URL, REPO, apply, group_payload, job_context, of, pull, rerun_payload

USERS = {
    "alice": {"login": "alice", "id": 101, "type": "User"},
    "bob": {"login": "bob", "id": 102, "type": "User"},
    "dependabot[bot]": {"login": "dependabot[bot]", "id": 49699333, "type": "Bot"},
}
ORG_MEMBER = "/orgs/{org}/members/{username}"
TEAM_MEMBER = "/orgs/{org}/teams/{team_slug}/memberships/{username}"
PR_COMMITS = "/repos/{owner}/{repo}/pulls/{number}/commits?per_page=100"
PR_BY_NUMBER = "/repos/{owner}/{repo}/pulls/{number}"      # the CLA feature's read of a PR


def commit(sha: str, *, author: str = "alice", committer: str | None = None, email: str | None = None,
           message: str = "Change") -> dict[str, Any]:
    def person(login: str, address: str | None = None) -> dict[str, str]:
        return {"name": login.title(), "email": address or f"{login}@example.com", "date": "2026-11-26T10:00:00Z"}
    committer = committer or author
    return {"sha": sha, "commit": {"message": message, "author": person(author, email),
                                   "committer": person(committer, email if committer == author else None)},
            "author": USERS.get(author), "committer": USERS.get(committer), "parents": [{"sha": "p" * 40}]}


def signed_off(message: str = "Change", who: str = "alice") -> str:
    return f"{message}\n\nSigned-off-by: {who.title()} <{who}@example.com>"


def pr_payload(commits: int) -> dict[str, Any]:
    payload = load_example("pull_request", "opened")
    pr = payload["pull_request"]
    pr.update(number=NUMBER, commits=commits, state="open", labels=[], user=dict(USERS["alice"]))
    pr["head"]["sha"], pr["base"]["ref"] = HEAD, "main"
    payload["number"], payload["repository"] = NUMBER, group_payload()["repository"]
    return payload


def github(commits: list[dict[str, Any]], members: Iterable[str] = (), team_members: Iterable[str] = ()
           ) -> RecordingReader:
    """GitHub as both checks read it: the queued pull request, its commits, the memberships."""
    members, team_members = set(members), set(team_members)

    def member(v: dict[str, Any]) -> None:
        if v["username"] not in members:
            raise PermanentGitHubError("404 Not Found", status=404)

    def team_member(v: dict[str, Any]) -> dict[str, str]:
        if v["username"] not in team_members:
            raise PermanentGitHubError("404 Not Found", status=404)
        return {"state": "active"}
    def user(v: dict[str, Any]) -> dict[str, Any]:
        found = [u for u in USERS.values() if u["id"] == int(v["account_id"])]
        if not found:
            raise PermanentGitHubError("404 Not Found", status=404)
        return dict(found[0])
    pr = pr_payload(len(commits))["pull_request"]
    commits = [*commits[:-1], {**commits[-1], "sha": HEAD}]  # the last one listed is the head
    return RecordingReader(items={PULL_URL: pull(), PR_BY_NUMBER: pr, ORG_MEMBER: member, TEAM_MEMBER: team_member,
                                  "/user/{account_id}": user,
                                  "/search/commits{?q,per_page}": {"items": []},
                                  "/search/issues{?q,per_page}": {"items": []}},
                           lists={PR_COMMITS: commits})


async def sign(db, login: str, version: str = "1") -> None:
    await cla.FEATURE.writers["sign"](db, agreement="octo-org", user_id=USERS[login]["id"], login=login,
                                      version=version, signed_at=1.0)


async def pr_check(db, rules, gh) -> tuple[UpsertCheckRun, list]:
    """The pull request's own check (opened, or ``/cla recheck``): its check run, its actions."""
    event, ctx = make_context("pull_request", pr_payload(len(gh.lists[PR_COMMITS])), db=db, rules=rules,
                              reader=gh, now=NOW)
    actions = await cla.handlers.on_pull_request(event, ctx)
    [check] = [c for c in of(actions, UpsertCheckRun) if c.name == "cla"]
    return check, actions


async def group_check(db, rules, gh, *, now=NOW) -> tuple[UpsertCheckRun, list]:
    event, ctx = make_context("merge_group", group_payload(), db=db, rules=rules, reader=gh, now=now)
    actions = await handlers.on_checks_requested(event, ctx)
    [check] = [c for c in of(actions, UpsertCheckRun) if c.name == "cla"]
    return check, actions


def cla_rules(**cla_section: Any):
    return bundled_rules({"cla": cla_section} if cla_section else None)


ACME = {"allowlist": {"orgs": ["acme"]}}
UNLINKED_CO_AUTHOR = "Change\n\nCo-authored-by: Xavier <xavier@corp.example>"

CASES = [
    # (id, commits, signatures (login, version), rules then, rules now, acme members, conclusion)
    # -- the allowlist in force now, organisation and team members included
    ("org member who signed an older version", [commit("a" * 40)], [("alice", "1")], ACME,
     {"version": "2", **ACME}, {"alice"}, "success"),
    ("org allowlisted since the check", [commit("a" * 40)], [], {}, ACME, {"alice"}, "success"),
    ("team allowlisted since the check", [commit("a" * 40)], [], {}, {"allowlist": {"teams": ["acme/devs"]}},
     {"team:alice"}, "success"),
    ("org allowlisted since, not a member", [commit("a" * 40)], [], {}, ACME, set(), "action_required"),
    ("login allowlisted since", [commit("a" * 40)], [], {}, {"allowlist": {"logins": ["alice"]}}, set(), "success"),
    ("email domain allowlisted since", [commit("a" * 40)], [], {},
     {"allowlist": {"email_domains": ["example.com"]}}, set(), "success"),
    ("an unlinked co-author's domain allowlisted since", [commit("a" * 40, message=UNLINKED_CO_AUTHOR)],
     [("alice", "1")], {}, {"allowlist": {"email_domains": ["corp.example"]}}, set(), "success"),
    ("login no longer allowlisted", [commit("a" * 40)], [], {"allowlist": {"logins": ["alice"]}}, {}, set(),
     "action_required"),
    ("org no longer allowlisted", [commit("a" * 40)], [], ACME, {}, {"alice"}, "action_required"),
    ("committers must sign since", [commit("a" * 40, committer="bob")], [("alice", "1")], {},
     {"committer_required": True}, set(), "action_required"),
    # -- the mode in force now
    ("both to cla: sign-offs no longer required", [commit("a" * 40)], [("alice", "1")], {"mode": "both"},
     {"mode": "cla"}, set(), "success"),
    ("both to dco: signatures no longer required", [commit("a" * 40, message=signed_off())], [], {"mode": "both"},
     {"mode": "dco"}, set(), "success"),
    ("both to dco, a commit not signed off", [commit("a" * 40)], [("alice", "1")], {"mode": "both"},
     {"mode": "dco"}, set(), "failure"),
    ("cla to dco, a commit not signed off", [commit("a" * 40)], [("alice", "1")], {}, {"mode": "dco"}, set(),
     "failure"),
    ("cla to both, every commit signed off", [commit("a" * 40, message=signed_off())], [("alice", "1")], {},
     {"mode": "both"}, set(), "success"),
    ("dco to cla, nobody signed", [commit("a" * 40, message=signed_off())], [], {"mode": "dco"}, {"mode": "cla"},
     set(), "action_required"),
    ("dco to both, an org member", [commit("a" * 40, message=signed_off())], [], {"mode": "dco"},
     {"mode": "both", **ACME}, {"alice"}, "success"),
    ("a bot's commits need sign-offs since", [commit("b" * 40, author="dependabot[bot]")], [], {"mode": "dco"},
     {"mode": "dco", "allowlist": {"bots": False}}, set(), "failure"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
async def test_the_groups_cla_says_what_a_recheck_of_the_pull_request_says(db, case):
    _, commits, signatures, then, now, members, conclusion = case
    for login, version in signatures:
        await sign(db, login, version)
    orgs = {m for m in members if not m.startswith("team:")}
    teams = {m.removeprefix("team:") for m in members if m.startswith("team:")}
    _, checked = await pr_check(db, cla_rules(**then), github(commits, orgs, teams))
    await apply(db, checked)

    rules = cla_rules(**now)
    group, asked = await group_check(db, rules, github(commits, orgs, teams))
    recheck, _ = await pr_check(db, rules, github(commits, orgs, teams))
    assert recheck.conclusion == conclusion
    assert (group.conclusion, group.title) == (recheck.conclusion, recheck.title), group.summary
    # the follow job decides from the store alone: it must not take back what was reported
    await apply(db, asked)
    assert of(await follow.follow_groups(job_context(db, rules)), UpsertCheckRun) == []


async def test_a_version_raised_while_queued_still_finds_org_members_covered(db):
    """The queue's request asks GitHub about everyone's membership, those who signed included, and
    keeps the answers: the follow job, reading no GitHub, then covers alice when the version is
    raised, as her pull request's re-check would."""
    await sign(db, "alice")
    gh = github([commit("a" * 40)], {"alice"})
    await apply(db, (await pr_check(db, cla_rules(**ACME), gh))[1])
    assert [u for u, _ in gh.calls if u.startswith("/orgs/")] == []        # she had signed: not asked
    gh = github([commit("a" * 40)], {"alice"})
    check, actions = await group_check(db, cla_rules(**ACME), gh)
    assert (check.conclusion, check.title) == ("success", "Everyone has signed the CLA")
    assert "### Covered (1)\n- `alice`" in check.summary                  # by her signature
    assert [v["username"] for u, v in gh.calls if u == ORG_MEMBER] == ["alice"]
    assert [(a.op, a.args.get("asked"), a.args.get("covered")) for a in of(actions, Record)] == [
        ("members", [101], [101]), ("requested", None, None)]
    await apply(db, actions)

    raised = cla_rules(version="2", **ACME)
    [check] = of(await follow.follow_groups(job_context(db, raised)), UpsertCheckRun)
    assert (check.conclusion, check.title) == ("success", "Everyone has signed the CLA")
    assert "`alice` (organisation member)" in check.summary
    recheck, _ = await pr_check(db, raised, github([commit("a" * 40)], {"alice"}))
    assert (recheck.conclusion, recheck.title) == (check.conclusion, check.title)


async def test_without_github_the_follow_job_keeps_the_conservative_answer_until_asked(db):
    """The follow job reads no GitHub: a membership nobody asked about for this head (the org
    allowlisted while the group is queued) is not assumed. It says how to get it asked; a re-run
    of the group's check asks, and the follow job then keeps that answer."""
    gh = github([commit("a" * 40)], {"alice"})
    await apply(db, (await pr_check(db, cla_rules(), gh))[1])
    check, actions = await group_check(db, cla_rules(), gh)
    assert check.conclusion == "action_required"
    await apply(db, actions)

    allowlisted = cla_rules(**ACME)
    actions = await follow.follow_groups(job_context(db, allowlisted))
    [check] = of(actions, UpsertCheckRun)
    assert check.conclusion == "action_required"
    assert "`/cla recheck`" in check.summary and "acme" in check.summary
    await apply(db, actions)

    event, ctx = make_context("check_run", rerun_payload("check_run"), db=db, rules=allowlisted,
                              reader=github([commit("a" * 40)], {"alice"}), now=NOW + timedelta(minutes=1))
    actions = await handlers.on_check_run_rerequested(event, ctx)
    [check] = of(actions, UpsertCheckRun)
    assert (check.conclusion, check.title) == ("success", "Everyone has signed the CLA")
    assert "`alice` (organisation member)" in check.summary
    await apply(db, actions)
    assert of(await follow.follow_groups(job_context(db, allowlisted)), UpsertCheckRun) == []


async def test_a_mode_change_is_said_on_the_group(db):
    gh = github([commit("a" * 40, message=signed_off())])
    await sign(db, "alice")
    await apply(db, (await pr_check(db, cla_rules(mode="both"), gh))[1])
    check, _ = await group_check(db, cla_rules(mode="dco"), gh)
    assert (check.conclusion, check.title) == ("success", "Every commit is signed off")
    assert f"#{NUMBER} was checked in mode `both`" in check.summary and "`/cla recheck`" in check.summary


async def test_a_recheck_of_the_same_head_keeps_the_answers_the_queue_asked(db):
    """The queue's request asked about alice (she had signed) and kept the answer for the head;
    a re-check of that same head (``/cla recheck``, a signature re-checking her pull requests)
    asks only about those who have not signed: it must add to those answers, not drop them, or
    the follow job would find her never asked once the version is raised and fail the group
    that her pull request's own re-check passes."""
    await sign(db, "alice")
    await apply(db, (await pr_check(db, cla_rules(**ACME), github([commit("a" * 40)], {"alice"})))[1])
    _, actions = await group_check(db, cla_rules(**ACME), github([commit("a" * 40)], {"alice"}))
    await apply(db, actions)
    await apply(db, (await pr_check(db, cla_rules(**ACME), github([commit("a" * 40)], {"alice"})))[1])

    raised = cla_rules(version="2", **ACME)
    [check] = of(await follow.follow_groups(job_context(db, raised)), UpsertCheckRun)
    recheck, _ = await pr_check(db, raised, github([commit("a" * 40)], {"alice"}))
    assert recheck.conclusion == "success"
    assert (check.conclusion, check.title) == (recheck.conclusion, recheck.title), check.summary


async def test_a_group_asked_again_asks_nobody_who_signed_twice(db):
    """Requeued, or re-run, the group's check asks afresh about those who have not signed (as the
    re-check would); those who signed and were asked already for this head are not asked again:
    each question costs the installation's hourly budget."""
    await sign(db, "alice")
    await apply(db, (await pr_check(db, cla_rules(**ACME), github([commit("a" * 40)], {"alice"})))[1])
    gh = github([commit("a" * 40)], {"alice"})
    _, actions = await group_check(db, cla_rules(**ACME), gh)
    await apply(db, actions)
    assert [v["username"] for u, v in gh.calls if u == ORG_MEMBER] == ["alice"]
    again = github([commit("a" * 40)], {"alice"})
    check, actions = await group_check(db, cla_rules(**ACME), again)
    assert check.conclusion == "success"
    assert [v["username"] for u, v in again.calls if u == ORG_MEMBER] == []
    await apply(db, actions)
    raised = cla_rules(version="2", **ACME)  # the answer kept still covers her
    [check] = of(await follow.follow_groups(job_context(db, raised)), UpsertCheckRun)
    assert (check.conclusion, check.title) == ("success", "Everyone has signed the CLA")


async def test_a_verdict_recorded_before_the_opener_counted_never_passes_the_queue_without_them(db):
    """bob opened the pull request; its commits are alice's, who signed. The verdict was recorded
    by a version of the bot that neither required nor kept the opener: the group's check asks
    GitHub who opened it and weighs them (bob must sign); a group the follow job finds without
    that answer holds, saying how to have it asked; and the answer, once kept, is the follow
    job's too."""
    rules = cla_rules()
    await sign(db, "alice")
    gh = github([commit("a" * 40)])
    gh.items[PULL_URL] = {**pull(), "user": dict(USERS["bob"])}
    payload = pr_payload(1)
    payload["pull_request"]["user"] = dict(USERS["bob"])
    event, ctx = make_context("pull_request", payload, db=db, rules=rules, reader=gh, now=NOW)
    actions = await cla.handlers.on_pull_request(event, ctx)
    [record] = [a for a in actions if isinstance(a, Record) and a.op == "pr_status"]
    # as the older bot recorded it: bob neither weighed nor kept
    facts = {k: v for k, v in record.args["facts"].items() if k != "opener_kept"}
    facts["who"] = [w for w in facts["who"] if w["role"] != "opener"]
    await cla.FEATURE.writers["pr_status"](db, **{**record.args, "state": "yes", "conclusion": "success",
                                                  "missing": [], "facts": facts, "read_revision": None})
    await apply(db, [a for a in actions if isinstance(a, UpsertCheckRun)])

    # a group the older bot reported (passing) is followed: no answer on record, so it holds
    check, group_actions = await group_check(db, rules, gh)
    await apply(db, [a for a in group_actions if not (isinstance(a, Record) and a.op == "opener")])
    held = of(await follow.follow_groups(job_context(db, rules, now=NOW + timedelta(seconds=30))), UpsertCheckRun)
    assert [(c.status, c.conclusion) for c in held] == [("in_progress", None)]
    assert "Re-run this check" in held[0].summary

    # the queue asks (or a re-run): GitHub names bob, who must sign; kept for the follow job
    assert (check.conclusion, check.title) == ("action_required", "1 person needs to sign the CLA")
    assert "`bob`" in check.summary
    check, group_actions = await group_check(db, rules, gh)
    assert check.conclusion == "action_required"
    await apply(db, group_actions)
    assert await follow.follow_groups(job_context(db, rules, now=NOW + timedelta(seconds=60))) == []
    await sign(db, "bob")
    [passed] = of(await follow.follow_groups(job_context(db, rules, now=NOW + timedelta(seconds=90))),
                  UpsertCheckRun)
    assert passed.conclusion == "success"


async def test_under_dco_a_verdict_recorded_before_the_opener_counted_is_not_held_for_them(db):
    """DCO has no signer: who opened the pull request is nobody to cover. A verdict whose facts
    were recorded before the opener was kept is weighed from them as it stands, by the queue and
    by the follow job alike, never held "waiting to know who opened" it."""
    rules = cla_rules(mode="dco")
    gh = github([commit("a" * 40, message=signed_off())])
    event, ctx = make_context("pull_request", pr_payload(1), db=db, rules=rules, reader=gh, now=NOW)
    actions = await cla.handlers.on_pull_request(event, ctx)
    [record] = [a for a in actions if isinstance(a, Record) and a.op == "pr_status"]
    facts = {k: v for k, v in record.args["facts"].items() if k != "opener_kept"}
    facts["who"] = [w for w in facts["who"] if w["role"] != "opener"]
    await cla.FEATURE.writers["pr_status"](db, **{**record.args, "facts": facts, "read_revision": None})

    check, group_actions = await group_check(db, rules, gh)
    assert (check.status, check.conclusion) == ("completed", "success")
    assert not [a for a in group_actions if isinstance(a, Record) and a.op == "opener"]   # nothing to ask
    await apply(db, group_actions)
    # the follow job, without GitHub, says the same: nothing to update
    assert of(await follow.follow_groups(job_context(db, rules, now=NOW + timedelta(seconds=30))),
              UpsertCheckRun) == []


@pytest.mark.parametrize("mode, message", [("cla", "Change"), ("dco", signed_off())])
async def test_an_old_passing_verdict_gets_the_pull_request_checked_again_when_the_queue_asks(db, mode, message):
    """A passing verdict recorded before verdicts kept their inputs (whom it weighed, under which
    mode) cannot be weighed again. When the queue asks, GitHub is at hand: the pull request is
    checked again then, as `/cla recheck` would check it, instead of the group waiting for
    someone to comment; the follow job then weighs the new verdict."""
    rules = cla_rules(mode=mode)
    await sign(db, "alice")
    gh = github([commit("a" * 40, message=message)])
    await cla.FEATURE.writers["pr_status"](db, repo=REPO, number=NUMBER, head_sha=HEAD, state="yes",
                                           conclusion="success", missing=[], unlinked=0, dco=0, commented=False,
                                           updated_at=1.0)
    event, ctx = make_context("merge_group", group_payload(), db=db, rules=rules, reader=gh, now=NOW)
    actions = await handlers.on_checks_requested(event, ctx)
    [group] = [c for c in of(actions, UpsertCheckRun) if c.head_sha != HEAD]
    assert (group.status, group.title) == ("in_progress", f"Checking #{NUMBER} again")
    assert "being checked again now" in group.summary and "/cla recheck" not in group.summary
    # the pull request's own check, decided again with GitHub: its check run and its verdict
    [own] = [c for c in of(actions, UpsertCheckRun) if c.head_sha == HEAD]
    assert (own.name, own.conclusion) == ("cla", "success")
    [verdict] = [a for a in actions if isinstance(a, Record) and a.op == "pr_status"]
    assert (verdict.args["mode"], verdict.args["version"]) == (mode, "1")
    # sent before the group's check and its record (the follow job must find the new verdict)
    assert actions.index(verdict) < actions.index(group)
    await apply(db, actions)
    [followed] = of(await follow.follow_groups(job_context(db, rules, now=NOW + timedelta(seconds=30))),
                    UpsertCheckRun)
    assert (followed.head_sha, followed.status, followed.conclusion) == (group.head_sha, "completed", "success")
