"""Signing by comment, /cla commands, the periodic re-check and the export."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest

from bot.context import JobContext, RepoHandle
from bot.core.actions import React, Record, UpsertCheckRun
from bot.features.commands.errors import CommandError, CommandRefused
from bot.features.base import Invocation
from bot.features.cla import cli, handlers, store
from tests.fixtures.webhooks import load_example

from .conftest import (HEAD, PULL_URL, REPO, SEARCH_ISSUES, USERS, api_commit, apply_records, cla_rules,
                       make_context, pr_payload, reader_for)

PHRASE = "I have read the CLA Document and I hereby sign the CLA"


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def comment_payload(body: str, *, user: str = "alice", number: int = 9, on_pr: bool = True) -> dict:
    p = load_example("issue_comment", "created")
    p["issue"]["number"] = number
    if on_pr:
        p["issue"]["pull_request"] = {"url": f"https://api.github.com/repos/{REPO}/pulls/{number}"}
    p["sender"] = dict(USERS[user])
    p["comment"].update(body=body, user=dict(USERS[user]), id=555,
                        created_at="2026-11-26T11:00:00Z",
                        html_url=f"https://github.com/{REPO}/pull/{number}#issuecomment-555")
    return p


async def open_pr(db, number=2, commits=None, author="alice"):
    """A PR checked once (so its waiting rows exist); returns (pr, commits)."""
    payload = pr_payload(number=number, author=author, head=f"{number:040x}")
    pr = payload["pull_request"]
    commits = commits or [api_commit(f"{number:x}" * 40, author=author)]
    event, ctx = make_context("pull_request", payload, db=db, reader=reader_for({number: pr}, {number: commits}))
    await apply_records(db, await handlers.on_pull_request(event, ctx))
    return pr, commits


async def test_signature_after_the_pr_rechecks_every_waiting_pr_without_a_push(db):
    pr2, c2 = await open_pr(db, 2)
    pr3, c3 = await open_pr(db, 3)
    assert await store.waiting_for(db, REPO, 101) == [2, 3]
    # the signer comments on another PR of theirs, one the search finds
    pr9 = pr_payload(number=9, head="9" * 40)["pull_request"]
    reader = reader_for({2: pr2, 3: pr3, 9: pr9}, {2: c2, 3: c3, 9: [api_commit("9" * 40)]},
                        **{SEARCH_ISSUES: {"items": [{"number": 9}]}})
    event, ctx = make_context("issue_comment", comment_payload(f"  {PHRASE.lower()}.\n"), db=db, reader=reader)
    actions = await handlers.on_comment(event, ctx)
    sign = [a for a in of(actions, Record) if a.op == "sign"][0]
    assert sign.args["user_id"] == 101 and sign.args["version"] == "1"
    assert sign.args["comment_url"].endswith("#issuecomment-555")
    assert sign.args["signed_at"] == datetime(2026, 11, 26, 11, tzinfo=timezone.utc).timestamp()
    assert of(actions, React)[0].comment_id == 555
    checks = of(actions, UpsertCheckRun)
    assert sorted(c.head_sha for c in checks) == sorted([pr2["head"]["sha"], pr3["head"]["sha"], "9" * 40])
    assert {c.conclusion for c in checks} == {"success"}
    q = [v["q"] for u, v in reader.calls if u == SEARCH_ISSUES]
    assert q == [f"repo:{REPO} is:pr is:open author:alice"]
    await apply_records(db, actions)
    assert await store.signed_versions(db, "codertocat", [101], "1") == {101: "1"}
    assert await store.waiting_for(db, REPO, 101) == []


async def test_other_comments_and_quotes_do_not_sign(db):
    for body in (f"> {PHRASE}", f"{PHRASE} -- but I disagree", "LGTM"):
        event, ctx = make_context("issue_comment", comment_payload(body), db=db, reader=reader_for({}, {}))
        assert await handlers.on_comment(event, ctx) == []


async def test_dco_only_mode_ignores_the_phrase(db):
    event, ctx = make_context("issue_comment", comment_payload(PHRASE), db=db,
                              rules=cla_rules({"mode": "dco"}), reader=reader_for({}, {}))
    assert await handlers.on_comment(event, ctx) == []


async def test_closed_pr_found_waiting_is_dropped_not_checked(db):
    pr2, c2 = await open_pr(db, 2)
    closed = dict(pr2, state="closed")
    event, ctx = make_context("issue_comment", comment_payload(PHRASE, on_pr=False), db=db,
                              reader=reader_for({2: closed}, {2: c2}))
    actions = await handlers.on_comment(event, ctx)
    assert not of(actions, UpsertCheckRun)
    await apply_records(db, actions)
    assert await store.waiting_for(db, REPO, 101) == []


async def test_recheck_command(db):
    pr2, c2 = await open_pr(db, 2)
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    event, ctx = make_context("issue_comment", comment_payload("/cla recheck", number=2), db=db,
                              reader=reader_for({2: pr2}, {2: c2}))
    actions = await handlers.cla_command(Invocation("cla", ("recheck",), "/cla recheck"), event, ctx)
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"


async def test_record_command_is_for_maintainers_and_rechecks_the_users_prs(db):
    pr2, c2 = await open_pr(db, 2, author="bob", commits=[api_commit("2" * 40, author="bob")])
    reader = reader_for({2: pr2}, {2: c2}, **{"/users/{username}": USERS["bob"]})
    inv = Invocation("cla", ("record", "@bob"), "/cla record @bob")
    event, ctx = make_context("issue_comment", comment_payload("/cla record @bob", user="carol", number=2),
                              db=db, reader=reader)
    with pytest.raises(CommandRefused, match="only maintainers"):
        await handlers.cla_command(inv, event, ctx)
    event, ctx = make_context("issue_comment", comment_payload("/cla record @bob", user="carol", number=2),
                              db=db, reader=reader, roles={"carol": ["maintainer"]})
    actions = await handlers.cla_command(inv, event, ctx)
    sign = [a for a in of(actions, Record) if a.op == "sign"][0]
    assert (sign.args["login"], sign.args["user_id"], sign.args["recorded_by"]) == ("bob", 102, "carol")
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"


async def test_unknown_subcommand_unknown_user_and_recheck_on_an_issue_are_errors(db):
    event, ctx = make_context("issue_comment", comment_payload("/cla what", number=2), db=db,
                              reader=reader_for({}, {}), roles={"alice": ["maintainer"]})
    with pytest.raises(CommandError, match="/cla recheck"):
        await handlers.cla_command(Invocation("cla", ("what",), "/cla what"), event, ctx)
    with pytest.raises(CommandError, match="no GitHub user"):
        await handlers.cla_command(Invocation("cla", ("record", "@nobody"), ""), event, ctx)
    event, ctx = make_context("issue_comment", comment_payload("/cla recheck", number=2, on_pr=False),
                              db=db, reader=reader_for({}, {}))
    with pytest.raises(CommandError, match="pull requests only"):
        await handlers.cla_command(Invocation("cla", ("recheck",), "/cla recheck"), event, ctx)


async def test_periodic_recheck_catches_signatures_from_elsewhere(db):
    pr2, c2 = await open_pr(db, 2)
    reader = reader_for({2: pr2}, {2: c2})
    rules = cla_rules()

    async def repos():
        return [RepoHandle(REPO, 1, rules, reader, None)]

    jctx = JobContext(db=db, bot_login="bot", repos=repos,
                      clock=lambda: datetime(2026, 11, 26, tzinfo=timezone.utc))
    assert await handlers.recheck_signed(jctx) == []     # nobody signed yet: nothing to do
    # signed in another repository of the same organisation (same agreement key)
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1",
                     signed_at=2.0, repo="Codertocat/other")
    actions = await handlers.recheck_signed(jctx)
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"


async def test_export_csv_and_json(db):
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1",
                     signed_at=1_764_151_200.0, comment_url="https://github.com/x#c", repo=REPO)
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1",
                     signed_at=1_800_000_000.0)  # signing again keeps the first signature
    rows = await store.all_signatures(db)
    data = json.loads(cli.render(rows, "json"))
    assert data == [{"agreement": "codertocat", "login": "alice", "user_id": 101, "version": "1",
                     "signed_at": "2025-11-26T10:00:00Z", "comment_url": "https://github.com/x#c",
                     "repo": REPO, "recorded_by": ""}]
    parsed = list(csv.DictReader(io.StringIO(cli.render(rows, "csv"))))
    assert parsed[0]["login"] == "alice" and parsed[0]["signed_at"] == "2025-11-26T10:00:00Z"


async def test_rerun_from_the_checks_ui_and_base_change_recheck(db):
    pr2, c2 = await open_pr(db, 2)
    payload = load_example("check_run", "rerequested")
    payload["repository"]["full_name"] = REPO
    payload["check_run"].update(name="cla", pull_requests=[{"number": 2}])
    event, ctx = make_context("check_run", payload, db=db, reader=reader_for({2: pr2}, {2: c2}))
    actions = await handlers.on_check_rerequested(event, ctx)
    assert of(actions, UpsertCheckRun)[0].head_sha == pr2["head"]["sha"]
    payload["check_run"]["name"] = "ci"
    event, ctx = make_context("check_run", payload, db=db, reader=reader_for({2: pr2}, {2: c2}))
    assert await handlers.on_check_rerequested(event, ctx) == []

    edited = pr_payload("opened", number=2, head=pr2["head"]["sha"])
    edited["action"] = "edited"
    reader = reader_for({2: edited["pull_request"]}, {2: c2})
    event, ctx = make_context("pull_request", dict(edited, changes={"title": {"from": "x"}}), db=db, reader=reader)
    assert await handlers.on_base_changed(event, ctx) == []
    event, ctx = make_context("pull_request", dict(edited, changes={"base": {"ref": {"from": "old"}}}),
                              db=db, reader=reader)
    assert of(await handlers.on_base_changed(event, ctx), UpsertCheckRun)


async def test_rerun_of_a_fork_pr_finds_the_pr_by_its_head(db):
    # GitHub sends check_run.pull_requests empty when the head branch is in a fork.
    pr2, c2 = await open_pr(db, 2)
    payload = load_example("check_run", "rerequested")
    payload["repository"]["full_name"] = REPO
    payload["check_run"].update(name="cla", head_sha=pr2["head"]["sha"], pull_requests=[])
    event, ctx = make_context("check_run", payload, db=db, reader=reader_for({2: pr2}, {2: c2}))
    actions = await handlers.on_check_rerequested(event, ctx)
    assert of(actions, UpsertCheckRun)[0].head_sha == pr2["head"]["sha"]
    payload["check_run"]["head_sha"] = "f" * 40  # a head we never checked: nothing to re-run
    event, ctx = make_context("check_run", payload, db=db, reader=reader_for({2: pr2}, {2: c2}))
    assert await handlers.on_check_rerequested(event, ctx) == []


async def test_a_recheck_naming_an_odd_login_still_records_the_signature(db):
    # a co-author's old-style noreply login longer than GitHub allows: shown inert, never raised
    msg = "Fix\n\nCo-authored-by: X <" + "b" * 45 + "@users.noreply.github.com>"
    pr9 = pr_payload(number=9, head="9" * 40)["pull_request"]
    reader = reader_for({9: pr9}, {9: [api_commit("9" * 40, message=msg)]},
                        **{SEARCH_ISSUES: {"items": [{"number": 9}]},
                           "/users/{username}": {"login": "b" * 45, "id": 77, "type": "User"}})
    event, ctx = make_context("issue_comment", comment_payload(PHRASE), db=db, reader=reader)
    actions = await handlers.on_comment(event, ctx)
    assert [a for a in of(actions, Record) if a.op == "sign"]
    assert of(actions, UpsertCheckRun)[0].conclusion == "action_required"


def pull_or_404(prs: dict):
    def get(v):
        from bot.github import PermanentGitHubError

        if int(v["number"]) not in prs:
            raise PermanentGitHubError("404 Not Found", status=404)
        return prs[int(v["number"])]
    return get


def _pr_ref(number: int, repo_id: int, full_name: str, head: str) -> dict:
    url = f"https://api.github.com/repos/{full_name}"
    return {"url": f"{url}/pulls/{number}", "id": 9000 + number, "number": number,
            "head": {"ref": "feature", "sha": head, "repo": {"id": repo_id, "url": url, "name": "x"}},
            "base": {"ref": "main", "sha": "0" * 40, "repo": {"id": repo_id, "url": url, "name": "x"}}}


async def test_rerun_ignores_pull_requests_of_other_repositories_listed_with_the_check(db):
    # GitHub lists every open PR whose head matches the check's commit, in forks too
    # (policy-bot#807, mergify#831): a fork's PR #3 is not this repository's #3.
    pr2, c2 = await open_pr(db, 2)
    payload = load_example("check_run", "rerequested")
    payload["repository"].update(full_name=REPO, id=4242)
    head = pr2["head"]["sha"]
    payload["check_run"].update(name="cla", head_sha=head, pull_requests=[
        _pr_ref(3, 777, "someone/Hello-World", head), _pr_ref(2, 4242, REPO, head)])
    reader = reader_for({2: pr2}, {2: c2}, **{PULL_URL: pull_or_404({2: pr2})})  # no #3 here
    event, ctx = make_context("check_run", payload, db=db, reader=reader)
    actions = await handlers.on_check_rerequested(event, ctx)
    assert [a.head_sha for a in of(actions, UpsertCheckRun)] == [head]
    assert ("/repos/{owner}/{repo}/pulls/{number}", {"owner": "Codertocat", "repo": "Hello-World",
                                                     "number": 3}) not in reader.calls
    # Only other repositories' PRs listed: found by the head, like a fork PR's re-run.
    payload["check_run"]["pull_requests"] = [_pr_ref(3, 777, "someone/Hello-World", head)]
    event, ctx = make_context("check_run", payload, db=db, reader=reader_for({2: pr2}, {2: c2}))
    actions = await handlers.on_check_rerequested(event, ctx)
    assert [a.head_sha for a in of(actions, UpsertCheckRun)] == [head]


async def test_a_waiting_pr_deleted_since_does_not_lose_the_signature(db):
    pr2, c2 = await open_pr(db, 2)
    await open_pr(db, 3)
    assert await store.waiting_for(db, REPO, 101) == [2, 3]
    # #3 was deleted (GitHub removes spam PRs): its read is a 404.
    reader = reader_for({2: pr2}, {2: c2}, **{PULL_URL: pull_or_404({2: pr2}), SEARCH_ISSUES: {"items": []}})
    event, ctx = make_context("issue_comment", comment_payload(PHRASE, number=2), db=db, reader=reader)
    actions = await handlers.on_comment(event, ctx)
    assert [a.args["user_id"] for a in of(actions, Record) if a.op == "sign"] == [101]
    assert [(c.head_sha, c.conclusion) for c in of(actions, UpsertCheckRun)] == [(pr2["head"]["sha"], "success")]
    await apply_records(db, actions)
    assert await store.signed_versions(db, "codertocat", [101], "1") == {101: "1"}
    assert await store.waiting_for(db, REPO, 101) == []       # the gone PR waits no more


class NoGitHub:
    """An installation API that records whatever the executor would send."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, method):
        async def call(url, *args, **kw):
            self.calls.append(f"{method} {url}")
            return {"id": 1}
        return call


async def test_a_recheck_overtaken_by_a_push_is_decided_again_not_written_over_it(db):
    """The periodic job (its own queue) re-checks #2 at H1 while a push to H2 is handled in the
    pull request's queue: the job's verdict must not replace H2's, nor its comment and labels
    contradict it, nor carol's waiting row be lost."""
    from bot.executor import Executor
    from bot.features.cla import FEATURE

    h1, h2 = "1" * 40, "2" * 40
    pr1 = pr_payload(number=2, head=h1)["pull_request"]
    github, commits = {2: pr1}, {2: [api_commit(h1)]}    # what GitHub says, as it changes
    reader = reader_for(github, commits)
    event, ctx = make_context("pull_request", pr_payload(number=2, head=h1), db=db, reader=reader)
    await apply_records(db, await handlers.on_pull_request(event, ctx))         # waits for alice
    rules = cla_rules()

    async def repos():
        return [RepoHandle(REPO, 1, rules, reader, None)]

    jctx = JobContext(db=db, bot_login="bot", repos=repos, clock=lambda: datetime(2026, 11, 26, tzinfo=timezone.utc))
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=2.0)
    stale = await handlers.recheck_signed(jctx)
    assert [(c.head_sha, c.conclusion) for c in of(stale, UpsertCheckRun)] == [(h1, "success")]
    # meanwhile: a push (H2) adds carol as a co-author, and its synchronize is handled
    payload = pr_payload("synchronize", number=2, head=h2, commits=2)
    github[2] = payload["pull_request"]
    pair = "Pair\n\nCo-authored-by: Carol <103+carol@users.noreply.github.com>"
    commits[2] = [*commits[2], api_commit(h2, message=pair)]
    event, ctx = make_context("pull_request", payload, db=db, reader=reader)
    await apply_records(db, await handlers.on_pull_request(event, ctx))
    # then the job's actions run: its verdict is refused before anything reaches GitHub
    api = NoGitHub()

    async def api_for(installation):
        return api
    executor = Executor(db, api_for=api_for, dry_run=False, features={"cla": FEATURE}, bot_login="bot")
    outcome = await executor.run(delivery_id="job:cla-recheck-signed:1", installation_id=1,
                                 batches=[("cla-recheck-signed", stale)])
    assert api.calls == [] and outcome.failed == []    # dropped, without failing the job's run
    row = await store.status_of(db, REPO, 2)
    assert (row["head_sha"], row["conclusion"]) == (h2, "action_required")
    assert await store.waiting_for(db, REPO, 103) == [2]
    # decided again: H2's verdict stands; once carol signs, the job finds #2 waiting for her
    assert await handlers.recheck_signed(jctx) == []
    await store.sign(db, agreement="codertocat", user_id=103, login="carol", version="1", signed_at=3.0)
    check = of(await handlers.recheck_signed(jctx), UpsertCheckRun)[0]
    assert (check.head_sha, check.conclusion) == (h2, "success")


async def test_a_verdict_is_written_only_over_the_revision_its_decision_read(db):
    args = dict(repo=REPO, number=2, state="no", conclusion="action_required", missing=[], unlinked=0, dco=0,
                commented=False, updated_at=1.0)
    await store.pr_status(db, head_sha="1" * 40, read_revision=0, **args)            # none read: inserted
    with pytest.raises(store.StaleVerdict):
        await store.pr_status(db, head_sha="2" * 40, read_revision=0, **args)        # one written since
    with pytest.raises(store.StaleVerdict):
        await store.pr_status(db, head_sha="1" * 40, read_revision=0, **args)        # same head: as stale
    await store.pr_status(db, head_sha="2" * 40, read_revision=1, **args)
    row = await store.status_of(db, REPO, 2)
    assert (row["head_sha"], row["revision"]) == ("2" * 40, 2)
    await store.pr_status(db, head_sha="3" * 40, **args)     # a Record decided before revisions: as before
    assert (await store.status_of(db, REPO, 2))["revision"] == 3


class FlakyGitHub:
    """An installation API that records the writes the executor sends, and answers the first
    check-run write with a 502: what a process dying between a verdict's Record and its check
    run leaves behind (the Record done, the check never sent)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str, dict]] = []
        self.failing = True

    async def getiter(self, url, url_vars=None, **kw):
        return
        yield

    def __getattr__(self, method):
        async def call(url, url_vars=None, *args, data=None, **kw):
            if "check-runs" in url and self.failing:
                from bot.github import TransientGitHubError

                self.failing = False
                raise TransientGitHubError("502 Bad Gateway", status=502)
            self.writes.append((method, url, dict(data or {})))
            return {"id": 1}
        return call


async def test_a_verdict_recorded_before_its_check_run_failed_gets_its_check_run(db):
    """bob signs on another issue: #2, waiting for him, is re-checked and its passing verdict
    recorded; then the check run fails (a 502, or the process dies). Deciding again, the retried
    delivery no longer finds #2 waiting for bob (the Record took it off), so nothing else would
    ever send #2 its check: the periodic re-check finds the verdict never sent and sends it."""
    from datetime import timedelta

    from bot.executor import Executor
    from bot.features.cla import FEATURE
    from bot.github import TransientGitHubError

    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    pair = "Pair\n\nCo-authored-by: Bob <102+bob@users.noreply.github.com>"
    pr, commits = await open_pr(db, commits=[api_commit("2" * 40, message=pair)])
    assert await store.waiting_for(db, REPO, 102) == [2]
    reader = reader_for({2: pr}, {2: commits})
    api = FlakyGitHub()

    async def api_for(installation):
        return api
    executor = Executor(db, api_for=api_for, dry_run=False, features={"cla": FEATURE}, bot_login="bot")
    signed = comment_payload(PHRASE, user="bob", number=7, on_pr=False)
    for attempt in range(2):      # the delivery, then its retry (decided again)
        event, ctx = make_context("issue_comment", signed, db=db, reader=reader)
        actions = await handlers.on_comment(event, ctx)
        try:
            await executor.run(delivery_id="d-sign", installation_id=1, batches=[("cla.on_comment", actions)],
                               retrying=attempt > 0)
        except TransientGitHubError:
            assert attempt == 0
    row = await store.status_of(db, REPO, 2)
    assert (row["state"], row["published"]) == ("yes", 0)
    assert not [w for w in api.writes if "check-runs" in w[1]]

    rules = cla_rules()

    async def repos():
        return [RepoHandle(REPO, 1, rules, reader, None)]
    soon = datetime.fromtimestamp(row["updated_at"], timezone.utc) + timedelta(seconds=30)
    jctx = JobContext(db=db, bot_login="bot", repos=repos, clock=lambda: soon)
    assert await handlers.recheck_signed(jctx) == []     # a delivery may still be sending it
    later = soon + timedelta(seconds=handlers.UNSENT_AFTER)
    jctx = JobContext(db=db, bot_login="bot", repos=repos, clock=lambda: later)
    actions = await handlers.recheck_signed(jctx)
    await executor.run(delivery_id="job:cla-recheck-signed:1", installation_id=1,
                       batches=[("cla-recheck-signed", actions)])
    [check] = [w for w in api.writes if "check-runs" in w[1]]
    assert (check[2]["head_sha"], check[2]["conclusion"]) == (pr["head"]["sha"], "success")
    assert (await store.status_of(db, REPO, 2))["published"] == 1
    assert await handlers.recheck_signed(jctx) == []     # sent: nothing more to do


async def test_a_waiting_pr_github_refuses_is_skipped_and_the_signature_kept(db):
    """alice signs while #2, #3 and #4 wait for her. GitHub refuses #3 (403: the repository
    blocked, access lost) and #4's commits (451: a legal takedown). Retrying would be refused
    the same way, so failing the delivery would only end in a dead delivery and a lost
    signature: the two are skipped (noted, counted), #2 is re-checked, the signature stored."""
    from bot.core.actions import Note
    from bot.github import PermanentGitHubError

    prs, listings = {}, {}
    for n in (2, 3, 4):
        pr, commits = await open_pr(db, n)
        prs[n], listings[n] = pr, commits
    assert await store.waiting_for(db, REPO, 101) == [2, 3, 4]

    def pull(v):
        if int(v["number"]) == 3:
            raise PermanentGitHubError("403 Repository access blocked", status=403)
        return prs[int(v["number"])]
    reader = reader_for(prs, listings, **{PULL_URL: pull})
    listing = reader.lists["/repos/{owner}/{repo}/pulls/{number}/commits?per_page=100"]

    def takedown(v):
        if int(v["number"]) == 4:
            raise PermanentGitHubError("451 Unavailable For Legal Reasons", status=451)
        return listing(v)
    reader.lists["/repos/{owner}/{repo}/pulls/{number}/commits?per_page=100"] = takedown
    event, ctx = make_context("issue_comment", comment_payload(PHRASE, number=2), db=db, reader=reader)
    actions = await handlers.on_comment(event, ctx)
    assert [a.args["user_id"] for a in of(actions, Record) if a.op == "sign"] == [101]
    assert [(c.head_sha, c.conclusion) for c in of(actions, UpsertCheckRun)] == [(prs[2]["head"]["sha"], "success")]
    skipped = {n.number: n.text for n in of(actions, Note) if "could not be read" in n.text}
    assert sorted(skipped) == [2, 3, 4] and "403" in skipped[3] and "451" in skipped[4]
    assert "2 of 3" in skipped[2]       # the count, on the conversation signed in
    await apply_records(db, actions)
    assert await store.signed_versions(db, "codertocat", [101], "1") == {101: "1"}
    # the refused PRs still wait for her: the periodic job tries them again (a bounded number of times)
    assert await store.waiting_for(db, REPO, 101) == [3, 4]


async def test_a_signature_recorded_by_a_maintainer_skips_a_pr_github_refuses(db):
    from bot.github import PermanentGitHubError

    pr2, c2 = await open_pr(db, 2, author="bob", commits=[api_commit("2" * 40, author="bob")])

    def pull(v):
        raise PermanentGitHubError("451 Unavailable For Legal Reasons", status=451)
    reader = reader_for({2: pr2}, {2: c2}, **{PULL_URL: pull, "/users/{username}": USERS["bob"]})
    event, ctx = make_context("issue_comment", comment_payload("/cla record @bob", user="carol", number=7),
                              db=db, reader=reader, roles={"carol": ["maintainer"]})
    actions = await handlers.cla_command(Invocation("cla", ("record", "@bob"), "/cla record @bob"), event, ctx)
    assert [a.args["user_id"] for a in of(actions, Record) if a.op == "sign"] == [102]
    assert not of(actions, UpsertCheckRun)
