"""The periodic re-check (``cla-recheck-signed``): each pull request on its own, and a bound on
how often one whose re-check keeps failing is tried. Real database, both back ends."""
from __future__ import annotations

from datetime import datetime, timezone

from bot.context import JobContext, RepoHandle
from bot.core.actions import Note, Record, UpsertCheckRun
from bot.features.cla import handlers, store
from bot.github import PermanentGitHubError

from .conftest import PULL_URL, REPO, api_commit, apply_records, cla_rules, pr_payload, reader_for

OTHER = "Codertocat/Other"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


async def unsent(db, repo: str, pr: dict) -> None:
    """A verdict stored for ``pr``'s head but never sent (the process died in between)."""
    await store.pr_status(db, repo=repo, number=int(pr["number"]), head_sha=pr["head"]["sha"], state="no",
                          conclusion="action_required", missing=[{"id": 101, "login": "alice"}], unlinked=0,
                          dco=0, commented=False, updated_at=1.0, mode="cla", version="1", read_revision=0)


def job(db, *handles: RepoHandle) -> JobContext:
    async def repos():
        return list(handles)
    return JobContext(db=db, bot_login="bot", repos=repos, clock=lambda: NOW)


def pull(number: int, commits: int = 1) -> dict:
    return pr_payload(number=number, commits=commits, head=f"{number:040x}")["pull_request"]


async def test_one_pull_request_failing_does_not_fail_the_others_nor_other_repositories(db):
    """#2: GitHub refuses it (403); #3: its commit listing is behind its head; #4 and the other
    repository's #5 re-check fine. The run keeps #4's and #5's actions and notes the others,
    instead of failing as a whole (then retried with every repository's re-checks again)."""
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    prs = {n: pull(n, commits=3 if n == 3 else 1) for n in (2, 3, 4)}
    for pr in prs.values():
        await unsent(db, REPO, pr)

    def refusing(v):
        if int(v["number"]) == 2:
            raise PermanentGitHubError("403 Forbidden", status=403)
        return prs[int(v["number"])]
    listings = {2: [api_commit("2" * 40)], 3: [api_commit("8" * 40), api_commit("9" * 40)], 4: [api_commit("4" * 40)]}
    here = reader_for(prs, listings, **{PULL_URL: refusing})     # #3: 2 commits listed, 3 reported
    other_pr = pull(5)
    await unsent(db, OTHER, other_pr)
    there = reader_for({5: other_pr}, {5: [api_commit("5" * 40)]})
    rules = cla_rules()

    actions = await handlers.recheck_signed(job(db, RepoHandle(REPO, 1, rules, here, None),
                                                RepoHandle(OTHER, 1, rules, there, None)))
    checks = {(c.repo, c.head_sha): c.conclusion for c in of(actions, UpsertCheckRun)}
    assert checks == {(REPO, prs[4]["head"]["sha"]): "success", (OTHER, other_pr["head"]["sha"]): "success"}
    failed = {n.number: n.text for n in of(actions, Note) if "re-check failed" in n.text}
    assert sorted(failed) == [2, 3]
    assert "PermanentGitHubError" in failed[2] and "RetryLater" in failed[3]
    await apply_records(db, actions)
    assert [(await store.status_of(db, REPO, n))["published"] for n in (2, 3, 4)] == [0, 0, 1]
    assert (await store.status_of(db, OTHER, 5))["published"] == 1


async def test_a_re_check_that_keeps_failing_is_given_up_after_a_bounded_number_of_tries(db):
    """A big pull request whose commit walk keeps coming up short writes no verdict, so its
    unsent verdict would be walked again, page by page, every 10 minutes forever: the job tries
    it MAX_JOB_TRIES times, notes that it gives up, and leaves it; a new head is tried again."""
    pr = pull(6, commits=300)
    await unsent(db, REPO, pr)
    reader = reader_for({6: pr}, {6: [api_commit("a" * 40)]})       # 1 of 300 commits walked
    jctx = job(db, RepoHandle(REPO, 1, cla_rules(), reader, None))
    for attempt in range(1, handlers.MAX_JOB_TRIES + 1):
        actions = await handlers.recheck_signed(jctx)
        assert [n.text for n in of(actions, Note) if "postponed" in n.text], attempt
        given_up = [n for n in of(actions, Note) if "given up" in n.text]
        assert bool(given_up) == (attempt == handlers.MAX_JOB_TRIES)
        await apply_records(db, actions)
    walks = len(reader.calls)
    assert await handlers.recheck_signed(jctx) == []
    assert len(reader.calls) == walks                                # nothing read from GitHub
    row = await store.status_of(db, REPO, 6)
    assert (row["published"], row["job_tries"]) == (0, handlers.MAX_JOB_TRIES)
    # a push: the new head's verdict, unsent too, is tried again from the start
    newer = {**pr, "head": {**pr["head"], "sha": "7" * 40}}
    await store.pr_status(db, repo=REPO, number=6, head_sha="7" * 40, state="no", conclusion="action_required",
                          missing=[], unlinked=0, dco=0, commented=False, updated_at=2.0, mode="cla", version="1",
                          read_revision=int(row["revision"]))
    reader.items[PULL_URL] = lambda v: newer
    actions = await handlers.recheck_signed(jctx)
    [tried] = [a for a in of(actions, Record) if a.op == "job_tried"]
    assert tried.args["head_sha"] == "7" * 40


async def test_a_verdict_sent_starts_the_tries_again(db):
    pr = pull(2)
    await unsent(db, REPO, pr)
    for _ in range(2):
        await store.job_tried(db, repo=REPO, number=2, head_sha=pr["head"]["sha"])
    assert (await store.status_of(db, REPO, 2))["job_tries"] == 2
    await store.job_tried(db, repo=REPO, number=2, head_sha="0" * 40)   # an older head's try: not this one's
    assert (await store.status_of(db, REPO, 2))["job_tries"] == 2
    await store.published(db, repo=REPO, number=2, revision=1)
    assert (await store.status_of(db, REPO, 2))["job_tries"] == 0


async def test_a_verdict_overtaken_before_the_job_stores_it_holds_up_no_other_pull_request(db):
    """The job re-checks #2 and #3 (both unsent). Before its actions run, a push to #2 is
    decided (a newer verdict, written since the job read #2's). #2's re-check stops there: no
    check run, label or comment for the old head, and the push's verdict is not marked sent by
    it; #3's actions in the same run go out all the same, rather than the whole run failing and
    waiting for its lease to end."""
    from bot.executor import Executor
    from bot.features.cla import FEATURE
    from .test_races import RacingGitHub

    prs = {n: pull(n) for n in (2, 3)}
    for pr in prs.values():
        await unsent(db, REPO, pr)
    reader = reader_for(prs, {n: [api_commit(f"{n}" * 40)] for n in prs})
    actions = await handlers.recheck_signed(job(db, RepoHandle(REPO, 1, cla_rules(), reader, None)))
    assert {c.head_sha for c in of(actions, UpsertCheckRun)} == {prs[2]["head"]["sha"], prs[3]["head"]["sha"]}

    pushed = "f" * 40
    row = await store.status_of(db, REPO, 2)
    await store.pr_status(db, repo=REPO, number=2, head_sha=pushed, state="no", conclusion="action_required",
                          missing=[{"id": 101, "login": "alice"}], unlinked=0, dco=0, commented=False,
                          updated_at=2.0, mode="cla", version="1", read_revision=int(row["revision"]))
    api = RacingGitHub(None)

    async def api_for(installation):
        return api
    executor = Executor(db, api_for=api_for, dry_run=False, features={"cla": FEATURE}, bot_login="bot")
    outcome = await executor.run(delivery_id="job:cla-recheck-signed:1", installation_id=1,
                                 batches=[("cla-recheck-signed", actions)])
    assert outcome.failed == []
    sent = [a for a in actions if isinstance(a, UpsertCheckRun) and a.describe() in outcome.done]
    assert [c.head_sha for c in sent] == [prs[3]["head"]["sha"]]
    assert not [s for s in outcome.done if "#2" in s and not s.startswith(("Record", "Note"))]
    two, three = await store.status_of(db, REPO, 2), await store.status_of(db, REPO, 3)
    assert (two["head_sha"], two["published"]) == (pushed, 0)
    assert three["published"] == 1
    # /explain: the dropped verdict left no "CLA check on ..." note for #2; #3's verdict did
    from bot.store.state import decisions_for
    notes = {n: [d["summary"] for d in await decisions_for(db, REPO, n)] for n in (2, 3)}
    assert not [t for t in notes[2] if t.startswith("CLA check on")], notes[2]
    assert [t for t in notes[3] if t.startswith(f"CLA check on {prs[3]['head']['sha'][:7]}")], notes[3]
