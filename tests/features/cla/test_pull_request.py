"""pull_request events in, CLA actions out (real database on both back ends)."""
from __future__ import annotations

import json

from bot.core.actions import AddLabels, Note, Record, RemoveLabel, UpsertCheckRun, UpsertComment
from bot.features.cla import handlers, status_line, store
from bot.store.state import record_bot_label
from .conftest import (COMMITS_URL, COMPARE_URL, HEAD, LABELS_URL, REPO, SEARCH_COMMITS, USER_BY_ID, USERS, apply_records, api_commit,
                       make_context, pr_payload, reader_for)
from .conftest import cla_rules


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


async def run(db, payload, commits, *, rules=None, action="opened", now=None, **items):
    """``now``: the pull request as GitHub shows it now (default: as the payload shows it)."""
    pr = payload["pull_request"]
    reader = reader_for({pr["number"]: now or pr}, {pr["number"]: commits}, **items)
    event, ctx = make_context("pull_request", payload, db=db, rules=rules, reader=reader)
    handler = handlers.on_pull_request
    actions = await handler(event, ctx)
    return actions, reader


async def sign(db, user_id, login, version="1", agreement="codertocat"):
    await store.sign(db, agreement=agreement, user_id=user_id, login=login, version=version,
                     signed_at=1_700_000_000.0, comment_url="https://example/c/1")


async def test_unsigned_author_gets_action_required_label_comment_and_waiting_row(db):
    actions, _ = await run(db, pr_payload(), [api_commit("a" * 40)])
    check = of(actions, UpsertCheckRun)[0]
    assert (check.name, check.head_sha, check.conclusion) == ("cla", HEAD, "action_required")
    assert check.title == "1 person needs to sign the CLA"
    assert "`alice`" in check.summary and "I have read the CLA Document" in check.summary
    assert of(actions, AddLabels)[0].labels == ("cla: no",)
    comment = of(actions, UpsertComment)[0]
    assert comment.marker == "contributor-flow:cla" and "@alice" in comment.body
    await apply_records(db, actions)
    assert await store.waiting_for(db, REPO, 101) == [2]
    assert await status_line(db, REPO, HEAD) == "CLA: ❌ waiting for `alice` to sign"


async def test_signed_author_passes_without_a_comment(db):
    await sign(db, 101, "alice")
    actions, _ = await run(db, pr_payload(), [api_commit("a" * 40)])
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"
    assert of(actions, AddLabels)[0].labels == ("cla: yes",)
    assert not of(actions, UpsertComment)
    await apply_records(db, actions)
    assert await status_line(db, REPO, HEAD) == "CLA: ✅ everyone is covered"


async def test_co_authors_resolved_by_commit_search_must_sign(db):
    await sign(db, 101, "alice")
    msg = "Pair\n\nCo-authored-by: Bob <bob@corp.example>\nCo-authored-by: Carol <103+carol@users.noreply.github.com>"
    search = lambda v: {"items": [{"author": {"login": "bob", "id": 102, "type": "User"}}]} \
        if v["q"] == "author-email:bob@corp.example" else {"items": []}
    actions, reader = await run(db, pr_payload(), [api_commit("a" * 40, message=msg)],
                                **{SEARCH_COMMITS: search})
    check = of(actions, UpsertCheckRun)[0]
    assert check.conclusion == "action_required"
    assert "`bob`" in check.summary and "`carol`" in check.summary
    # the noreply address needed no lookup
    assert [v["q"] for u, v in reader.calls if u == SEARCH_COMMITS] == ["author-email:bob@corp.example"]
    record = [a for a in of(actions, Record) if a.op == "pr_status"][0]
    assert {m["login"] for m in record.args["missing"]} == {"bob", "carol"}


async def test_unlinked_email_fails_naming_commit_email_and_the_two_ways_out(db):
    actions, _ = await run(db, pr_payload(head="c0ffee" + "0" * 34), [api_commit("c0ffee" + "0" * 34, author=None,
                                                         email="me@laptop.local", name="Me")])
    check = of(actions, UpsertCheckRun)[0]
    assert check.conclusion == "failure"
    assert "1 commit email not linked" in check.title
    for text in (check.summary, of(actions, UpsertComment)[0].body):
        assert "`c0ffee0`" in text and "`me@laptop.local`" in text
        assert "add the email to your GitHub account" in text and "amend the commit" in text


async def test_allowlisted_bot_passes(db):
    actions, _ = await run(db, pr_payload(author="dependabot[bot]"),
                           [api_commit("b" * 40, author="dependabot[bot]",
                                       email="49699333+dependabot[bot]@users.noreply.github.com")])
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"


async def test_org_members_are_covered_by_a_corporate_cla(db):
    rules = cla_rules({"allowlist": {"orgs": ["acme"], "teams": ["other/devs"]}})
    actions, reader = await run(db, pr_payload(), [api_commit("a" * 40)], rules=rules,
                                **{"/orgs/{org}/members/{username}": None})
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"
    assert ("/orgs/{org}/members/{username}", {"org": "acme", "username": "alice"}) in reader.calls
    # not a member of the org, but an active member of the team
    actions, _ = await run(db, pr_payload(), [api_commit("a" * 40)], rules=rules,
                           **{"/orgs/{org}/teams/{team_slug}/memberships/{username}": {"state": "active"}})
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"
    actions, _ = await run(db, pr_payload(), [api_commit("a" * 40)], rules=rules)
    assert of(actions, UpsertCheckRun)[0].conclusion == "action_required"


async def test_version_bump_asks_for_a_new_signature(db):
    await sign(db, 101, "alice", version="1")
    rules = cla_rules({"version": 2})
    actions, _ = await run(db, pr_payload(), [api_commit("a" * 40)], rules=rules)
    check = of(actions, UpsertCheckRun)[0]
    assert check.conclusion == "action_required"
    assert "signed version 1; the CLA is now version 2" in check.summary
    await sign(db, 101, "alice", version="2")
    actions, _ = await run(db, pr_payload(), [api_commit("a" * 40)], rules=rules)
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"


async def test_dco_mode_pass_and_fail(db):
    rules = cla_rules({"mode": "dco"})
    good = api_commit("a" * 40, message="Fix\n\nSigned-off-by: Alice <alice@example.com>")
    bad = api_commit("b" * 40, message="Fix\n\nSigned-off-by: Bob <bob@example.com>")
    actions, _ = await run(db, pr_payload(), [good], rules=rules)
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"   # no CLA signature needed
    actions, _ = await run(db, pr_payload(commits=2, head="b" * 40), [good, bad], rules=rules)
    check = of(actions, UpsertCheckRun)[0]
    assert check.conclusion == "failure" and check.title == "1 commit without a matching Signed-off-by"
    assert "`bbbbbbb`" in check.summary and "git rebase --signoff origin/main" in check.summary


async def test_more_than_250_commits_walks_the_comparison(db):
    await sign(db, 101, "alice")
    commits = [api_commit(f"{i:040x}") for i in range(299)]
    commits.append(api_commit("f" * 40, author="bob"))  # the 300th commit, beyond the PR listing
    actions, reader = await run(db, pr_payload(commits=300), commits)
    check = of(actions, UpsertCheckRun)[0]
    assert check.conclusion == "action_required" and "`bob`" in check.summary
    assert "300 commits checked" in check.summary
    urls = [u for u, _ in reader.calls]
    assert COMPARE_URL in urls and COMMITS_URL not in urls


async def test_short_commit_walk_postpones_instead_of_passing(db):
    await sign(db, 101, "alice")
    actions, _ = await run(db, pr_payload(commits=300), [api_commit("a" * 40)])
    assert not of(actions, UpsertCheckRun)
    assert "postponed" in of(actions, Note)[0].text


async def test_labels_flip_and_only_bot_added_ones_are_removed(db):
    await sign(db, 101, "alice")
    actions, _ = await run(db, pr_payload(labels=["cla: no"]), [api_commit("a" * 40)])
    assert not of(actions, RemoveLabel)  # a human put it there
    await record_bot_label(db, REPO, 2, "cla: no", "cla")
    actions, _ = await run(db, pr_payload(labels=["cla: no"]), [api_commit("a" * 40)])
    assert of(actions, RemoveLabel)[0].label == "cla: no"
    assert of(actions, AddLabels)[0].labels == ("cla: yes",)
    actions, _ = await run(db, pr_payload(labels=["cla: yes"]), [api_commit("a" * 40)])
    assert not of(actions, AddLabels)


async def test_labels_are_decided_on_the_pull_request_as_it_is_now_not_an_old_payload(db):
    # The delivery's payload was copied before the bot's last check labelled the PR: it shows no
    # label. Now passing, the bot still takes its own "cla: no" off (GitHub says it is there).
    from bot.store.state import release_bot_label

    await record_bot_label(db, REPO, 2, "cla: no", "cla")
    await sign(db, 101, "alice")
    now = pr_payload(labels=["cla: no"])["pull_request"]
    actions, reader = await run(db, pr_payload("synchronize"), [api_commit("a" * 40)], now=now)
    assert [a.label for a in of(actions, RemoveLabel)] == ["cla: no"]
    assert of(actions, AddLabels)[0].labels == ("cla: yes",)
    assert any(url.startswith(LABELS_URL) for url, _ in reader.calls)
    # Someone took the bot's "cla: no" off since it was put on: still failing, it is not put
    # back (whatever the payload says), nor is one a person put back by hand taken off.
    await db.execute("DELETE FROM cla_signatures")
    await release_bot_label(db, REPO, 2, "cla: no", "maintainer")
    actions, _ = await run(db, pr_payload("synchronize"), [api_commit("a" * 40)],
                           now=pr_payload()["pull_request"])
    assert of(actions, UpsertCheckRun)[0].conclusion == "action_required"
    assert not of(actions, AddLabels)
    await sign(db, 101, "alice")
    actions, _ = await run(db, pr_payload("synchronize"), [api_commit("a" * 40)], now=now)
    assert not of(actions, RemoveLabel)


async def test_comment_is_edited_to_passing_once_it_exists(db):
    from bot.store.state import created_key, remember_created

    actions, _ = await run(db, pr_payload(), [api_commit("a" * 40)])
    await apply_records(db, actions)
    # the executor posted the failing comment (it remembers it by its marker)
    [posted] = of(actions, UpsertComment)
    await remember_created(db, created_key(posted, "cla"), REPO, "comment", "1")
    await sign(db, 101, "alice")
    actions, _ = await run(db, pr_payload("synchronize"), [api_commit("a" * 40)])
    comment = of(actions, UpsertComment)[0]
    assert comment.marker == "contributor-flow:cla" and "CLA check passed" in comment.body
    await apply_records(db, actions)
    row = await store.status_of(db, REPO, 2)
    assert row["state"] == "yes" and row["commented"] == 1 and json.loads(row["missing"]) == []
    assert await store.waiting_for(db, REPO, 101) == []


async def test_closed_pr_stops_waiting(db):
    actions, _ = await run(db, pr_payload(), [api_commit("a" * 40)])
    await apply_records(db, actions)
    event, ctx = make_context("pull_request", pr_payload("closed"), db=db)
    await apply_records(db, await handlers.on_pull_request_closed(event, ctx))
    assert await store.waiting_for(db, REPO, 101) == []


async def test_an_unlinked_author_is_not_vouched_for_by_a_noreply_address(db):
    # GitHub linked no account (author: null): an address naming a "[bot]" or a signer's id
    # proves nothing; the commit is unlinked, and nobody is asked to sign in someone's name.
    await sign(db, 101, "alice")
    for email in ("4242+mallory[bot]@users.noreply.github.com", "101+alice@users.noreply.github.com"):
        actions, reader = await run(db, pr_payload(), [api_commit("a" * 40, author=None, name="M", email=email)])
        check = of(actions, UpsertCheckRun)[0]
        assert (check.conclusion, check.title) == ("failure", "1 commit email not linked to a GitHub account")
        assert not [c for c in reader.calls if c[0] in (USER_BY_ID, SEARCH_COMMITS)]


async def test_co_author_noreply_ids_are_looked_up_and_github_says_who_is_a_bot(db):
    await sign(db, 101, "alice")
    copilot = "Apply suggestion\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>"
    actions, reader = await run(db, pr_payload(), [api_commit("a" * 40, message=copilot)])
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"
    assert (USER_BY_ID, {"account_id": 175728472}) in reader.calls
    # an id GitHub does not know, or one too large to be an id: unlinked, and no crash storing it
    for email in ("4242+carol@users.noreply.github.com", "99999999999999999999+bob@users.noreply.github.com"):
        msg = f"Fix\n\nCo-authored-by: X <{email}>"
        actions, reader = await run(db, pr_payload(), [api_commit("a" * 40, message=msg)])
        assert of(actions, UpsertCheckRun)[0].conclusion == "failure"
        assert not [c for c in reader.calls if c[0] == SEARCH_COMMITS]
        await apply_records(db, actions)


async def test_enterprise_managed_logins_are_pinged_like_any_other(db):
    USERS["jdoe_acme"] = {"login": "jdoe_acme", "id": 555, "type": "User"}
    try:
        actions, _ = await run(db, pr_payload(), [api_commit("a" * 40, author="jdoe_acme")])
    finally:
        USERS.pop("jdoe_acme")
    assert of(actions, UpsertCheckRun)[0].conclusion == "action_required"
    assert "@jdoe_acme" in of(actions, UpsertComment)[0].body


async def test_a_corporate_allowlist_does_not_sign_off_commits(db):
    rules = cla_rules({"mode": "dco", "allowlist": {"email_domains": ["corp.example"]}})
    no_signoff = api_commit("a" * 40, email="alice@corp.example", message="Fix")
    actions, _ = await run(db, pr_payload(), [no_signoff], rules=rules)
    assert of(actions, UpsertCheckRun)[0].conclusion == "failure"
    bot_commit = api_commit("b" * 40, author="dependabot[bot]", message="Bump")
    actions, _ = await run(db, pr_payload(), [bot_commit], rules=rules)
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"


async def test_unlinked_emails_are_counted_once_however_many_commits_carry_them(db):
    await sign(db, 101, "alice")  # who opened it
    commits = [api_commit(f"{i:040x}", author=None, email="me@laptop.local") for i in range(30)]
    actions, _ = await run(db, pr_payload(commits=30), commits)
    assert of(actions, UpsertCheckRun)[0].title == "1 commit email not linked to a GitHub account"
    await apply_records(db, actions)
    assert "1 unlinked email" in await status_line(db, REPO, HEAD)


async def test_a_commit_naming_thousands_of_co_authors_costs_a_bounded_number_of_lookups(db):
    # Anyone can write any number of trailers; each noreply address is a REST call, so
    # without a bound one PR could spend the installation's hourly budget on every check.
    from bot.features.cla.lookups import MAX_ACCOUNT_LOOKUPS

    await sign(db, 101, "alice")
    trailers = "\n".join(f"Co-authored-by: P{i} <{10_000 + i}+p{i}@users.noreply.github.com>"
                         for i in range(3000))
    msg = f"Squash\n\nCo-authored-by: Carol <103+carol@users.noreply.github.com>\n{trailers}\n"
    actions, reader = await run(db, pr_payload(), [api_commit("a" * 40, message=msg)])
    lookups = [c for c in reader.calls if c[0] in (USER_BY_ID, SEARCH_COMMITS, "/users/{username}")]
    assert 0 < len(lookups) <= MAX_ACCOUNT_LOOKUPS
    assert (USER_BY_ID, {"account_id": 103}) in reader.calls  # those first named are still looked up
    check = of(actions, UpsertCheckRun)[0]
    assert check.conclusion == "failure"
    assert check.title == ("1 person needs to sign the CLA; "
                           "3000 commit emails not linked to a GitHub account")


async def test_an_unsigned_opener_does_not_pass_by_authoring_as_a_bot_or_a_signer(db):
    # bob never signed. GitHub links a commit to whoever's public email it names: written with
    # dependabot's noreply address it is a Bot's (allowlisted), with alice's email alice's (signed).
    await sign(db, 101, "alice")
    as_a_bot = api_commit("a" * 40, author="dependabot[bot]", email="49699333+dependabot[bot]@users.noreply.github.com")
    for commit in (as_a_bot, api_commit("a" * 40)):
        actions, _ = await run(db, pr_payload(author="bob"), [commit])
        check = of(actions, UpsertCheckRun)[0]
        assert (check.conclusion, check.title) == ("action_required", "1 person needs to sign the CLA")
        assert "- `bob`: opened this pull request\n" in check.summary
        assert "- @bob: opened this pull request\n" in of(actions, UpsertComment)[0].body
        await apply_records(db, actions)
        assert await store.waiting_for(db, REPO, 102) == [2]
    # the opener's own unsigned commits: named once, as the opener and with the commits
    actions, _ = await run(db, pr_payload(author="bob", head="b" * 40), [api_commit("b" * 40, author="bob")])
    assert "- @bob: opened this pull request; commits `bbbbbbb`" in of(actions, UpsertComment)[0].body
    await sign(db, 102, "bob")
    actions, _ = await run(db, pr_payload(author="bob"), [as_a_bot])
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"


async def test_an_opener_is_covered_like_any_account_and_by_the_domain_of_their_own_commits(db):
    rules = cla_rules({"allowlist": {"logins": ["bob"]}})
    actions, _ = await run(db, pr_payload(author="bob"), [api_commit("a" * 40, author="dependabot[bot]")], rules=rules)
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"
    # a corporate domain covers an opener GitHub linked a commit email of that domain to...
    rules = cla_rules({"allowlist": {"email_domains": ["corp.example"]}})
    actions, _ = await run(db, pr_payload(author="bob"), [api_commit("a" * 40, author="bob", email="bob@corp.example")],
                           rules=rules)
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"
    # ... not one who only opened a pull request of commits in that domain
    actions, _ = await run(db, pr_payload(author="bob"), [api_commit("a" * 40, author=None, email="x@corp.example")],
                           rules=rules)
    check = of(actions, UpsertCheckRun)[0]
    assert check.conclusion == "action_required" and "- `bob`: opened this pull request" in check.summary


async def test_a_commit_listing_of_another_head_is_never_judged_for_this_one(db):
    # synchronize to H2, which adds carol's unsigned commit; /pulls/2/commits still lists H1's
    # commits (all alice's, signed): no verdict from them, but the check decided again shortly
    from bot.core.retry import RetryLater

    await sign(db, 101, "alice")
    h1, h2 = "1" * 40, "2" * 40
    payload = pr_payload("synchronize", head=h2, commits=2)
    pr = payload["pull_request"]
    stale = [api_commit(h1)]
    for listed in (stale, [api_commit(h1), api_commit("3" * 40)], [api_commit(h2)]):  # 1 of 2 listed
        reader = reader_for({2: pr}, {2: listed}, head_last=False)
        event, ctx = make_context("pull_request", payload, db=db, reader=reader)
        try:
            actions = await handlers.on_pull_request(event, ctx)
        except RetryLater as exc:
            assert exc.retry_at > ctx.now().timestamp()
        else:
            raise AssertionError(f"judged from another head's listing: {actions}")
    # pushed again since (H3): H2 needs no verdict, H3's own event decides it
    moved = {**pr, "head": {**pr["head"], "sha": "3" * 40}}
    reader = reader_for({2: moved}, {2: [api_commit(h1), api_commit("3" * 40)]}, head_last=False)
    event, ctx = make_context("pull_request", payload, db=db, reader=reader)
    actions = await handlers.on_pull_request(event, ctx)
    assert not of(actions, UpsertCheckRun) and not of(actions, Record)
    assert "dropped: #2 is at 3333333 now" in of(actions, Note)[0].text
    # caught up: judged
    reader = reader_for({2: pr}, {2: [api_commit(h1), api_commit(h2, author="carol")]}, head_last=False)
    event, ctx = make_context("pull_request", payload, db=db, reader=reader)
    check = of(await handlers.on_pull_request(event, ctx), UpsertCheckRun)[0]
    assert (check.head_sha, check.conclusion) == (h2, "action_required")


def strangers(n: int) -> list[dict]:
    """Commits authored as ``n`` real accounts (their ids are public: GitHub links each one)."""
    out = []
    for i in range(n):
        c = api_commit(f"{i:040x}", author=None, email=f"{10_000 + i}+stranger{i}@users.noreply.github.com")
        c["author"] = c["committer"] = {"login": f"stranger{i}", "id": 10_000 + i, "type": "User"}
        out.append(c)
    return out


async def test_one_push_asks_a_bounded_number_of_membership_questions_and_pings_a_few(db):
    from bot.features.cla.lookups import MAX_MEMBERSHIP_LOOKUPS

    rules = cla_rules({"allowlist": {"orgs": ["corp"], "teams": ["corp/a", "corp/b"]}})
    is_member = lambda url: "/members/" in url or "/memberships/" in url  # noqa: E731
    # nobody a member: three questions each, until the budget is spent
    actions, reader = await run(db, pr_payload(author="bob", commits=250), strangers(250), rules=rules)
    assert len([u for u, _ in reader.calls if is_member(u)]) == MAX_MEMBERSHIP_LOOKUPS
    body = of(actions, UpsertComment)[0].body
    assert "@bob: opened this pull request" in body
    assert body.count("@stranger") == 10 and "- `stranger10`: commits" in body
    assert "(membership not asked)" in body and "was not asked" in body
    # everyone a member of corp: those past the budget are not asked, and must sign all the same
    actions, reader = await run(db, pr_payload(author="bob", commits=250), strangers(250), rules=rules,
                                **{"/orgs/{org}/members/{username}": None})
    assert len([u for u, _ in reader.calls if is_member(u)]) == MAX_MEMBERSHIP_LOOKUPS
    check = of(actions, UpsertCheckRun)[0]
    missing = 250 + 1 - MAX_MEMBERSHIP_LOOKUPS
    assert (check.conclusion, check.title) == ("action_required", f"{missing} people need to sign the CLA")
    assert f"Whether {missing} people marked" in check.summary
    [record] = [a for a in actions if isinstance(a, Record) and a.op == "pr_status"]
    assert len(record.args["members"]["asked"]) == len(record.args["members"]["covered"]) == MAX_MEMBERSHIP_LOOKUPS
    assert 102 in record.args["members"]["covered"]   # the opener is asked first


async def test_a_late_event_for_an_older_head_changes_nothing_of_the_newer_heads_verdict(db):
    """GitHub delivers out of order: H2's synchronize was decided, then H1's arrives. The PR's
    commit listing is H2's by then (H1 among its commits): H1 must get no verdict from it, and
    H2's verdict, waiting list and check stay as they are."""
    await sign(db, 101, "alice")
    h1, h2 = "1" * 40, "2" * 40
    newer = pr_payload("synchronize", head=h2, commits=2)
    github = {2: newer["pull_request"]}
    reader = reader_for(github, {2: [api_commit(h1), api_commit(h2, author="carol")]}, head_last=False)
    event, ctx = make_context("pull_request", newer, db=db, reader=reader)
    await apply_records(db, await handlers.on_pull_request(event, ctx))
    before = await store.status_of(db, REPO, 2)
    assert (before["head_sha"], before["conclusion"]) == (h2, "action_required")

    late = pr_payload("synchronize", head=h1, commits=1)
    event, ctx = make_context("pull_request", late, db=db, reader=reader)
    actions = await handlers.on_pull_request(event, ctx)
    assert not of(actions, UpsertCheckRun) and not of(actions, Record) and not of(actions, UpsertComment)
    assert "dropped: #2 is at 2222222 now" in of(actions, Note)[0].text
    await apply_records(db, actions)
    assert await store.status_of(db, REPO, 2) == before
    assert await store.waiting_for(db, REPO, 103) == [2]


async def test_a_late_event_for_an_older_head_of_a_big_pull_request_changes_nothing(db):
    """The same past 250 commits, where the commits are walked by comparing the event's own
    head: that walk is the old head's, exactly, so only GitHub's head for the PR tells."""
    await sign(db, 101, "alice")
    h1, h2 = "1" * 40, "2" * 40
    old = [api_commit(f"{i:040x}") for i in range(299)] + [api_commit(h1)]
    new = [*old, api_commit(h2, author="carol")]
    newer = pr_payload("synchronize", head=h2, commits=301)
    reader = reader_for({2: newer["pull_request"]}, {2: new})
    reader.lists[COMPARE_URL] = lambda v: {h1: old, h2: new}[v["basehead"].split("...")[1]]
    event, ctx = make_context("pull_request", newer, db=db, reader=reader)
    await apply_records(db, await handlers.on_pull_request(event, ctx))
    before = await store.status_of(db, REPO, 2)
    assert (before["head_sha"], before["conclusion"]) == (h2, "action_required")

    late = pr_payload("synchronize", head=h1, commits=300)
    event, ctx = make_context("pull_request", late, db=db, reader=reader)
    actions = await handlers.on_pull_request(event, ctx)
    assert not of(actions, UpsertCheckRun) and not of(actions, Record)
    assert "dropped: #2 is at 2222222 now" in of(actions, Note)[0].text
    await apply_records(db, actions)
    assert await store.status_of(db, REPO, 2) == before


async def test_dco_exempts_a_bot_only_as_github_resolved_the_commit_author(db):
    # Anyone can write a bot's noreply address as a commit's author (and committer). The sign-off
    # is excused only when GitHub resolved that commit's own author to a Bot account, never
    # because the address text matches an identity GitHub linked elsewhere in the pull request.
    rules = cla_rules({"mode": "dco"})
    bot_email = "49699333+dependabot[bot]@users.noreply.github.com"
    real_bot = api_commit("b" * 40, author="dependabot[bot]", email=bot_email, message="Bump")
    for linked in (None, "bob"):  # GitHub linked no account, or a person's
        spoof = api_commit("a" * 40, author=linked, name="dependabot[bot]", email=bot_email, message="Sneak")
        # ... while the same address names the bot as this commit's committer, or on another commit
        as_committer = {**spoof, "committer": dict(USERS["dependabot[bot]"])}
        for commits, culprit in (([as_committer], HEAD), ([spoof, real_bot], "a" * 40)):
            actions, _ = await run(db, pr_payload(commits=len(commits)), commits, rules=rules)
            check = of(actions, UpsertCheckRun)[0]
            assert (check.conclusion, check.title) == ("failure", "1 commit without a matching Signed-off-by")
            assert f"`{culprit[:7]}`" in check.summary
    actions, _ = await run(db, pr_payload(), [real_bot], rules=rules)
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"


async def test_cla_covers_an_unlinked_author_whatever_account_its_email_text_matches(db):
    # A commit GitHub linked to nobody (author: null) is an unlinked email, even when the same
    # address names a bot GitHub linked as this commit's committer or on another commit: anyone
    # can write a bot's noreply address (or a signer's email) into a commit's author field.
    await sign(db, 101, "alice")  # who opened it
    bot_email = "49699333+dependabot[bot]@users.noreply.github.com"
    real_bot = api_commit("b" * 40, author="dependabot[bot]", email=bot_email, message="Bump")
    spoof = api_commit("a" * 40, author=None, name="dependabot[bot]", email=bot_email, message="Sneak")
    as_committer = {**spoof, "committer": dict(USERS["dependabot[bot]"])}
    by_alice = {**api_commit("c" * 40, author=None, email="alice@example.com"),
                "committer": dict(USERS["alice"])}  # alice signed: her email text vouches for nobody either
    for commits, culprit in (([as_committer], HEAD), ([spoof, real_bot], "a" * 40), ([by_alice], HEAD)):
        for required in (False, True):
            rules = cla_rules({"committer_required": required})
            actions, _ = await run(db, pr_payload(commits=len(commits)), commits, rules=rules)
            check = of(actions, UpsertCheckRun)[0]
            assert (check.conclusion, check.title) == ("failure", "1 commit email not linked to a GitHub account")
            assert f"`{culprit[:7]}`" in check.summary
    actions, _ = await run(db, pr_payload(), [real_bot])
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"
