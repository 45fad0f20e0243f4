"""The CLA verdict of a pull request as it stands now (bot.features.cla.held_check), read for a
check reported elsewhere than on the pull request (merge groups). Real database, both back ends."""
from __future__ import annotations

import asyncio
import json

from bot.core.actions import Record
from bot.core.cla import Account
from bot.features.cla import held_check, recorded, store
from .conftest import HEAD, REPO, api_commit, apply_records, cla_rules, make_context, pr_payload, reader_for
from bot.features.cla import handlers


def cfg(**over):
    return cla_rules(over or None).section("cla")


async def checked(db, commits, **over):
    """The PR's own check, its records applied as the executor would."""
    payload = pr_payload(commits=len(commits))
    pr = payload["pull_request"]
    event, ctx = make_context("pull_request", payload, db=db, rules=cla_rules(over or None),
                              reader=reader_for({pr["number"]: pr}, {pr["number"]: commits}))
    actions = await handlers.on_pull_request(event, ctx)
    await apply_records(db, actions)
    return actions


async def test_a_pull_request_never_checked_has_no_verdict(db):
    assert await held_check(db, REPO, cfg(), 2) is None


async def test_the_check_records_what_it_was_decided_with(db):
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    actions = await checked(db, [api_commit("a" * 40)])
    [record] = [a for a in actions if isinstance(a, Record) and a.op == "pr_status"]
    assert (record.args["mode"], record.args["version"], record.args["signed"]) == (
        "cla", "1", [{"id": 101, "login": "alice"}])
    row = await store.status_of(db, REPO, 2)
    assert (row["mode"], row["version"]) == ("cla", "1")


async def test_weighed_again_against_the_signature_store(db):
    await checked(db, [api_commit("a" * 40)])          # alice has not signed
    held = await held_check(db, REPO, cfg(), 2)
    assert (held.head_sha, held.conclusion, held.title) == (HEAD, "action_required", "1 person needs to sign the CLA")
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=2.0)
    held = await held_check(db, REPO, cfg(), 2)       # no new check of the PR: the store says
    assert (held.conclusion, held.title) == ("success", "Everyone has signed the CLA")
    held = await held_check(db, REPO, cfg(version="2"), 2)
    assert held.conclusion == "action_required" and "`alice` (signed version 1)" in held.summary


async def test_a_change_of_mode_is_weighed_from_the_facts_recorded(db):
    """The check keeps the facts of the commits whatever the mode: a repository switched from
    cla to dco gets the sign-offs counted from them, as its re-check would count them."""
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    await checked(db, [api_commit("a" * 40)])
    held = await held_check(db, REPO, cfg(mode="dco"), 2)
    assert (held.conclusion, held.title) == ("failure", "1 commit without a matching Signed-off-by")
    assert "#2 was checked in mode `cla`; the rules now say `dco`" in held.summary
    assert "/cla recheck" in held.summary


async def test_a_change_of_mode_without_recorded_facts_is_no_verdict_to_carry(db):
    # recorded by a version of the bot that kept mode and version, not the commits' facts
    await store.pr_status(db, repo=REPO, number=2, head_sha=HEAD, state="yes", conclusion="success",
                          missing=[], unlinked=0, dco=0, commented=False, updated_at=1.0, mode="cla",
                          version="1", signed=[{"id": 101, "login": "alice"}])
    held = await held_check(db, REPO, cfg(mode="dco"), 2)
    assert (held.conclusion, held.title) == ("failure", "The CLA rules changed since the last check")
    assert "/cla recheck" in held.summary
    # the same mode: weighed as before, the allowlist in force applied to who had to sign (and to
    # the opener, whom GitHub names when the queue asks: this verdict did not record them)
    held = await held_check(db, REPO, cfg(allowlist={"logins": ["alice"]}, version="2"), 2,
                            gh=reader_for({}, {}), opener=Account("alice", 101))
    assert (held.conclusion, held.title) == ("success", "Everyone has signed the CLA")
    assert "### Allowlisted (1)\n- `alice` (allowlisted login)" in held.summary


async def test_the_check_records_the_facts_of_its_commits_and_its_membership_answers(db):
    commits = [api_commit("a" * 40, message="Change\n\nCo-authored-by: Bob <bob@example.com>"),
               api_commit("b" * 40, author="dependabot[bot]",
                          email="49699333+dependabot[bot]@users.noreply.github.com")]
    payload = pr_payload(commits=2)
    pr = payload["pull_request"]
    reader = reader_for({2: pr}, {2: commits}, **{"/orgs/{org}/members/{username}": None})
    event, ctx = make_context("pull_request", payload, db=db, rules=cla_rules({"allowlist": {"orgs": ["Acme"]}}),
                              reader=reader)
    actions = await handlers.on_pull_request(event, ctx)
    [record] = [a for a in actions if isinstance(a, Record) and a.op == "pr_status"]
    who = record.args["facts"]["who"]
    # committers too (the rules may come to require them), bots and members too (the allowlist
    # may come to drop them), unlinked co-authors by email, and who opened the pull request
    assert {(w["role"], w["email"], w.get("login")) for w in who} == {
        ("opener", "", "alice"), ("author", "alice@example.com", "alice"), ("committer", "alice@example.com", "alice"),
        ("co-author", "bob@example.com", None),
        ("author", "49699333+dependabot[bot]@users.noreply.github.com", "dependabot[bot]"),
        ("committer", "49699333+dependabot[bot]@users.noreply.github.com", "dependabot[bot]")}
    assert record.args["facts"]["signoffs_missing"] == [1, 1]       # (by people, by bots)
    assert record.args["members"] == {"of": ["acme"], "asked": [101], "covered": [101]}


async def test_membership_answers_are_kept_with_the_verdict_of_their_head(db):
    await checked(db, [api_commit("a" * 40)], allowlist={"orgs": ["acme"]})
    await store.members(db, repo=REPO, number=2, head_sha=HEAD, of=["acme"], asked=[101, 102], covered=[102])
    row = await store.status_of(db, REPO, 2)
    assert json.loads(row["members"]) == {"of": ["acme"], "asked": [101, 102], "covered": [102]}
    await store.members(db, repo=REPO, number=2, head_sha="f" * 40, of=["acme"], asked=[101], covered=[101])
    assert (await store.status_of(db, REPO, 2))["members"] == row["members"]   # another head's: not these
    await store.members(db, repo=REPO, number=2, head_sha=HEAD, of=["other"], asked=[101], covered=[101])
    assert json.loads((await store.status_of(db, REPO, 2))["members"]) == {"of": ["other"], "asked": [101],
                                                                            "covered": [101]}


async def test_a_verdict_recorded_before_its_inputs_were_is_carried_as_it_is(db):
    await store.pr_status(db, repo=REPO, number=2, head_sha=HEAD, state="no", conclusion="action_required",
                          missing=[{"id": 101, "login": "alice"}], unlinked=0, dco=0, commented=True,
                          updated_at=1.0)
    held = await held_check(db, REPO, cfg(), 2)
    assert (held.head_sha, held.conclusion) == (HEAD, "action_required")
    assert held.title == "CLA: ❌ waiting for `alice` to sign" and "carried as recorded" in held.summary


async def test_membership_answers_written_at_once_are_both_kept(db):
    """Two replicas keeping answers for one head at once (two groups' checks, or one and the
    pull request's re-check): each reads what is kept and writes it merged with its own, so the
    second must wait for the first, or the first's answers are lost. Each read here is slowed so
    that, unlocked, both would read before either writes."""
    await checked(db, [api_commit("a" * 40)], allowlist={"orgs": ["acme"]})
    fetchone = db.fetchone

    async def slow_fetchone(sql, params=()):
        row = await fetchone(sql, params)
        if "FROM cla_pr_status" in sql:
            await asyncio.sleep(0.3)
        return row
    db.fetchone = slow_fetchone
    try:
        await asyncio.gather(
            store.members(db, repo=REPO, number=2, head_sha=HEAD, of=["acme"], asked=[101], covered=[101]),
            store.members(db, repo=REPO, number=2, head_sha=HEAD, of=["acme"], asked=[102], covered=[102]))
    finally:
        del db.fetchone
    kept = json.loads((await store.status_of(db, REPO, 2))["members"])
    assert (kept["asked"], kept["covered"]) == ([101, 102], [101, 102])


async def test_the_facts_kept_do_not_grow_with_the_co_authors_a_message_names(db):
    """A commit message may name any number of co-authors (the trailers are plain text): their
    unlinked emails are kept up to a bound, those past it counted, and counted as unlinked
    whatever the rules say later (the answer that lets nobody through)."""
    extra = 25
    names = "\n".join(f"Co-authored-by: P{i} <p{i}@elsewhere.example>"
                      for i in range(recorded.MAX_UNLINKED_KEPT + extra))
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    actions = await checked(db, [api_commit("a" * 40, message=f"Change\n\n{names}")])
    [record] = [a for a in actions if isinstance(a, Record) and a.op == "pr_status"]
    facts = record.args["facts"]
    assert len([w for w in facts["who"] if w["role"] == "co-author"]) == recorded.MAX_UNLINKED_KEPT
    assert facts["unlinked_beyond"] == extra
    total = recorded.MAX_UNLINKED_KEPT + extra
    assert record.args["unlinked"] == total
    held = await held_check(db, REPO, cfg(), 2)
    assert held.conclusion == "failure" and f"{total} " in held.title
    # an allowlisted domain exempts the kept emails, not those past the bound
    held = await held_check(db, REPO, cfg(allowlist={"email_domains": ["elsewhere.example"]}), 2)
    assert held.conclusion == "failure" and f"{extra} " in held.title


async def test_the_opener_is_weighed_again_and_facts_kept_without_one_never_pass_without_it(db):
    """The group's check counts whoever opened the pull request, as the check did. Facts kept by
    a version of the bot that did not record the opener lack someone who must be covered: with
    GitHub's word on who opened it (the queue asking) it is weighed and kept for the follow job;
    without it (the follow job) the check holds rather than passes."""
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    payload = pr_payload(author="bob")
    pr = payload["pull_request"]
    event, ctx = make_context("pull_request", payload, db=db, rules=cla_rules(),
                              reader=reader_for({2: pr}, {2: [api_commit("a" * 40)]}))
    actions = await handlers.on_pull_request(event, ctx)
    await apply_records(db, actions)
    held = await held_check(db, REPO, cfg(), 2)
    assert (held.conclusion, held.title) == ("action_required", "1 person needs to sign the CLA")
    assert "- `bob`" in held.summary
    await store.sign(db, agreement="codertocat", user_id=102, login="bob", version="1", signed_at=2.0)
    assert (await held_check(db, REPO, cfg(), 2)).conclusion == "success"
    [record] = [a for a in actions if isinstance(a, Record) and a.op == "pr_status"]
    # as a version of the bot that did not keep the opener recorded them
    old = {k: v for k, v in record.args["facts"].items() if k != "opener_kept"}
    old["who"] = [w for w in old["who"] if w["role"] != "opener"]
    await store.pr_status(db, **{**record.args, "facts": old, "missing": [], "signed": [{"id": 101, "login": "alice"}],
                                 "read_revision": None})
    assert recorded.facts_from_json((await store.status_of(db, REPO, 2))["facts"]) is not None
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="2", signed_at=3.0)
    held = await held_check(db, REPO, cfg(version="2"), 2)         # bob signed version 1 only
    assert (held.head_sha, held.status, held.conclusion) == (HEAD, "in_progress", None)
    assert "who opened #2" in held.title and "Re-run this check" in held.summary and not held.records
    bob = Account("bob", 102)
    held = await held_check(db, REPO, cfg(version="2"), 2, gh=reader_for({}, {}), opener=bob)
    assert (held.conclusion, held.title) == ("action_required", "1 person needs to sign the CLA")
    assert "- `bob` (signed version 1)" in held.summary
    [keep] = [r for r in held.records if r.op == "opener"]
    await apply_records(db, [keep])
    held = await held_check(db, REPO, cfg(version="2"), 2)         # the follow job: bob kept, weighed
    assert held.conclusion == "action_required" and "- `bob` (signed version 1)" in held.summary
    await store.sign(db, agreement="codertocat", user_id=102, login="bob", version="2", signed_at=4.0)
    assert (await held_check(db, REPO, cfg(version="2"), 2)).conclusion == "success"


async def test_a_passing_verdict_recorded_before_its_facts_is_held_until_the_opener_is_known(db):
    """Older still: a verdict recorded with who signed but not the commits' facts (nor the
    opener). It passes only once GitHub has said who opened the pull request and they are
    covered; one recorded before verdicts kept their inputs cannot be weighed, and is held."""
    await store.pr_status(db, repo=REPO, number=2, head_sha=HEAD, state="yes", conclusion="success",
                          missing=[], unlinked=0, dco=0, commented=False, updated_at=1.0, mode="cla",
                          version="1", signed=[{"id": 101, "login": "alice"}])
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    held = await held_check(db, REPO, cfg(), 2)
    assert held.status == "in_progress" and "/cla recheck" in held.summary
    held = await held_check(db, REPO, cfg(), 2, gh=reader_for({}, {}), opener=Account("bob", 102))
    assert held.conclusion == "action_required" and "- `bob`" in held.summary
    await apply_records(db, held.records)
    assert (await held_check(db, REPO, cfg(), 2)).conclusion == "action_required"
    # opened by alice herself: she is weighed once, and signed
    await store.opener(db, repo=REPO, number=2, opener={"id": 101, "login": "alice", "type": "User"})
    assert (await held_check(db, REPO, cfg(), 2)).conclusion == "success"
    # recorded before verdicts kept their inputs: a pass cannot be weighed again, so without
    # GitHub it is held; with it, the pull request is checked again (its actions the records)
    await store.pr_status(db, repo=REPO, number=3, head_sha=HEAD, state="yes", conclusion="success",
                          missing=[], unlinked=0, dco=0, commented=False, updated_at=1.0)
    held = await held_check(db, REPO, cfg(), 3)
    assert held.status == "in_progress" and "/cla recheck" in held.summary
    pr = pr_payload(number=3)["pull_request"]
    held = await held_check(db, REPO, cfg(), 3, gh=reader_for({3: pr}, {3: [api_commit("a" * 40)]}),
                            opener=Account("alice", 101))
    assert (held.status, held.title) == ("in_progress", "Checking #3 again")
    [verdict] = [r for r in held.records if isinstance(r, Record) and r.op == "pr_status"]
    assert (verdict.args["number"], verdict.args["state"], verdict.args["version"]) == (3, "yes", "1")


async def test_a_groups_check_asks_a_bounded_number_of_membership_questions(db):
    from bot.features.cla.lookups import MAX_MEMBERSHIP_LOOKUPS
    from .test_pull_request import strangers

    over = {"allowlist": {"orgs": ["corp"], "teams": ["corp/a"]}}
    await checked(db, strangers(200), **over)
    reader = reader_for({}, {}, **{"/orgs/{org}/members/{username}": None,    # everyone a member of corp
                                   "/user/{account_id}": lambda v: {"login": f"stranger{int(v['account_id']) - 10_000}",
                                                                    "id": int(v["account_id"]), "type": "User"}})
    held = await held_check(db, REPO, cfg(**over), 2, gh=reader)
    # each account asked costs two requests: its login now (the recorded one may be stale), then
    # one question (a member of corp: the team is not asked); both count in the one budget
    asked = [u for u, _ in reader.calls if "/members/" in u or "/memberships/" in u or u == "/user/{account_id}"]
    assert len(asked) == MAX_MEMBERSHIP_LOOKUPS
    missing = 200 + 1 - MAX_MEMBERSHIP_LOOKUPS // 2
    assert (held.conclusion, held.title) == ("action_required", f"{missing} people need to sign the CLA")
    assert f"at most {MAX_MEMBERSHIP_LOOKUPS} requests about memberships" in held.summary


async def test_a_groups_check_asks_memberships_of_the_account_not_of_a_login_renamed_since(db):
    """The facts keep the logins of the check's day; membership is asked by login. alice (101)
    renamed since, and someone else, a member of acme, took "alice": asked by the old login,
    GitHub would answer for them. The group's check asks by alice's login now, read by her id."""
    from bot.github import PermanentGitHubError

    over = {"allowlist": {"orgs": ["acme"]}}
    await checked(db, [api_commit("a" * 40)], **over)                    # alice: unsigned, no member

    def member(v):
        if v["username"] != "alice":        # the new holder of the login
            raise PermanentGitHubError("404 Not Found", status=404)

    def user(v):
        if int(v["account_id"]) != 101:
            raise PermanentGitHubError("404 Not Found", status=404)
        return {"login": "alice-renamed", "id": 101, "type": "User"}
    reader = reader_for({}, {}, **{"/orgs/{org}/members/{username}": member, "/user/{account_id}": user})
    held = await held_check(db, REPO, cfg(**over), 2, gh=reader, opener=Account("alice-renamed", 101))
    assert (held.conclusion, held.title) == ("action_required", "1 person needs to sign the CLA")
    asked = [v["username"] for u, v in reader.calls if "/members/" in u]
    assert asked == ["alice-renamed"]


async def test_under_dco_no_verdict_is_held_waiting_for_the_opener(db):
    """DCO has no signer, so the opener is nobody to wait for: without GitHub (the follow job),
    facts kept without the opener are weighed as they are, and a passing verdict recorded before
    verdicts kept their inputs is carried as recorded; under cla the same verdicts hold."""
    await checked(db, [api_commit("a" * 40, message="Change\n\nSigned-off-by: Alice <alice@example.com>")],
                  mode="dco")
    row = await store.status_of(db, REPO, 2)
    old = json.loads(row["facts"])
    old.pop("opener_kept")
    old["who"] = [w for w in old["who"] if w["role"] != "opener"]
    await store.pr_status(db, **{k: row[k] for k in ("repo", "number", "head_sha", "state", "conclusion", "mode",
                                                     "version", "unlinked", "dco", "updated_at")},
                          missing=[], commented=False, facts=old)
    held = await held_check(db, REPO, cfg(mode="dco"), 2)
    assert (held.status, held.conclusion, held.records) == ("completed", "success", ())
    assert held.status == "completed" and (await held_check(db, REPO, cfg(), 2)).status == "in_progress"
    await store.pr_status(db, repo=REPO, number=3, head_sha=HEAD, state="yes", conclusion="success",
                          missing=[], unlinked=0, dco=0, commented=False, updated_at=1.0)
    held = await held_check(db, REPO, cfg(mode="dco"), 3)
    assert (held.status, held.conclusion) == ("completed", "success")
    assert (await held_check(db, REPO, cfg(), 3)).status == "in_progress"


async def test_an_account_github_no_longer_knows_is_no_member_and_said_so(db):
    """alice (101), unsigned, was deleted since the check: /user/101 finds nobody, so she is
    asked about no membership. That is an answer (no member), not a question left unasked: the
    summary says GitHub no longer knows her, not that a re-run could ask, and the follow job,
    from the answers kept, says the same."""
    over = {"allowlist": {"orgs": ["acme"]}}
    await checked(db, [api_commit("a" * 40)], **over)
    from bot.github import PermanentGitHubError

    def deleted(v):
        raise PermanentGitHubError("404 Not Found", status=404)
    # were she asked, acme would say she is a member (the login is someone else's now)
    reader = reader_for({}, {}, **{"/user/{account_id}": deleted, "/orgs/{org}/members/{username}": None})
    held = await held_check(db, REPO, cfg(**over), 2, gh=reader, opener=Account("alice", 101))
    assert (held.conclusion, held.title) == ("action_required", "1 person needs to sign the CLA")
    assert "GitHub no longer knows `alice`" in held.summary and "no re-run will change that" in held.summary
    assert "was not asked" not in held.summary and "never asked" not in held.summary
    assert not [u for u, _ in reader.calls if "/members/" in u]
    await apply_records(db, held.records)
    followed = await held_check(db, REPO, cfg(**over), 2)
    assert followed.summary == held.summary
