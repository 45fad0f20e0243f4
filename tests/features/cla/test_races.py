"""Decisions about one pull request that race each other or the pull request itself: a close
under a re-check, a commit count that changed since the payload, GitHub actions of a verdict
overtaken by a newer one."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.core.actions import Note, Record, UpsertCheckRun
from bot.core.retry import RetryLater
from bot.features.cla import check, handlers, store
from .conftest import REPO, api_commit, make_context, pr_payload, reader_for

AT = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)   # the delivery's arrival, and the tests' clock


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]

VERDICT = dict(repo=REPO, number=2, state="no", conclusion="action_required",
               missing=[{"id": 102, "login": "bob"}], unlinked=0, dco=0, commented=True, updated_at=1.0)


async def test_a_close_refuses_a_recheck_that_read_the_verdict_before_it(db):
    await store.pr_status(db, head_sha="1" * 40, read_revision=0, **VERDICT)
    read = await store.status_of(db, REPO, 2)       # a re-check reads the verdict ...
    await store.pr_closed(db, repo=REPO, number=2)  # ... the PR is closed meanwhile ...
    with pytest.raises(store.StaleVerdict):         # ... and its verdict is refused
        await store.pr_status(db, head_sha="1" * 40, read_revision=int(read["revision"]), **VERDICT)
    row = await store.status_of(db, REPO, 2)
    assert row["is_open"] == 0
    assert await store.waiting_for(db, REPO, 102) == []
    # a reopen's check reads the row after the close and writes over it
    await store.pr_status(db, head_sha="1" * 40, read_revision=int(row["revision"]), **VERDICT)
    assert (await store.status_of(db, REPO, 2))["is_open"] == 1
    assert await store.waiting_for(db, REPO, 102) == [2]


# --- a payload's commit count that is no longer true --------------------------------------------

async def test_a_commit_count_that_dropped_since_the_payload_is_decided_with_the_pull_request_now(db):
    """The synchronize payload said 3 commits; since then the base moved (a stacked PR below
    merged) and GitHub lists 2 for the same head. Every retry would read the same payload: the
    check is decided with the pull request as GitHub reports it now instead."""
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    head = "9" * 40
    payload = pr_payload("synchronize", head=head, commits=3)
    fresh = {**payload["pull_request"], "commits": 2}
    reader = reader_for({2: fresh}, {2: [api_commit("8" * 40), api_commit(head)]}, head_last=False)
    event, ctx = make_context("pull_request", payload, db=db, reader=reader, received=AT)
    actions = await handlers.on_pull_request(event, ctx)
    [check] = of(actions, UpsertCheckRun)
    assert (check.head_sha, check.conclusion) == (head, "success")
    [verdict] = [a for a in of(actions, Record) if a.op == "pr_status"]
    assert verdict.args["head_sha"] == head and verdict.args["state"] == "yes"
    assert "2 commits" in [n for n in of(actions, Note) if n.text.startswith("CLA check on")][0].text


async def test_a_listing_that_keeps_disagreeing_is_retried_only_within_the_grace(db):
    """GitHub's pull request and its commit listing disagree whichever is read (the listing is
    catching up with the push): retried shortly, then, LISTING_GRACE after the event, a note
    instead of a retry, so the delivery (every feature's actions with it) does not go dead."""
    head = "9" * 40
    payload = pr_payload("synchronize", head=head, commits=3)
    reader = reader_for({2: payload["pull_request"]}, {2: [api_commit("8" * 40), api_commit(head)]},
                        head_last=False)
    soon = AT + timedelta(seconds=check.LISTING_GRACE - 1)
    event, ctx = make_context("pull_request", payload, db=db, reader=reader, received=AT, now=soon)
    with pytest.raises(RetryLater):
        await handlers.on_pull_request(event, ctx)
    late = AT + timedelta(seconds=check.LISTING_GRACE)
    event, ctx = make_context("pull_request", payload, db=db, reader=reader, received=AT, now=late)
    actions = await handlers.on_pull_request(event, ctx)
    [note] = actions
    assert isinstance(note, Note) and "left undecided" in note.text and "2 commits listed for 3" in note.text
    assert await store.status_of(db, REPO, 2) is None


# --- a verdict's GitHub actions overtaken by a newer verdict -------------------------------------

class RacingGitHub:
    """An installation API recording the writes the executor sends; ``meanwhile`` runs once,
    as the first write is sent: another decision stored while this one's actions wait for
    their turn (mutations are sent about a second apart)."""

    def __init__(self, meanwhile) -> None:
        self.writes: list[tuple[str, str]] = []
        self.meanwhile = meanwhile

    async def getiter(self, url, url_vars=None, **kw):
        return
        yield

    async def getitem(self, url, url_vars=None, **kw):
        return {}

    def __getattr__(self, method):
        async def call(url, url_vars=None, *args, data=None, **kw):
            self.writes.append((method, url))
            if self.meanwhile is not None:
                run, self.meanwhile = self.meanwhile, None
                await run()
            return {"id": len(self.writes), "html_url": "https://example/1"}
        return call


async def test_a_verdict_overtaken_while_its_actions_are_sent_sends_no_more_of_them(db):
    """The job's re-check of H1 stores its verdict and sends its check run; before its label
    and comment go out, H2's synchronize stores H2's verdict (and sends its own). The job's
    label and comment for H1 are not sent on top of H2's: each is sent only while its verdict is
    still the pull request's."""
    from bot.executor import Executor
    from bot.features.cla import FEATURE

    h1, h2 = "1" * 40, "2" * 40
    payload = pr_payload("synchronize", head=h1, commits=1)
    reader = reader_for({2: payload["pull_request"]}, {2: [api_commit(h1)]})
    event, ctx = make_context("pull_request", payload, db=db, reader=reader, received=AT)
    stale = await handlers.on_pull_request(event, ctx)          # alice has not signed: cla: no + comment
    assert [type(a).__name__ for a in stale if not isinstance(a, (Record, Note))] == [
        "UpsertCheckRun", "AddLabels", "UpsertComment"]

    async def h2_decided():
        row = await store.status_of(db, REPO, 2)
        await store.pr_status(db, head_sha=h2, read_revision=int(row["revision"]),
                              **{**VERDICT, "missing": [], "state": "yes", "conclusion": "success"})
    api = RacingGitHub(h2_decided)

    async def api_for(installation):
        return api
    executor = Executor(db, api_for=api_for, dry_run=False, features={"cla": FEATURE}, bot_login="bot")
    outcome = await executor.run(delivery_id="d-h1", installation_id=1, batches=[("cla.on_pull_request", stale)])
    assert [url for _, url in api.writes] == ["/repos/{owner}/{repo}/check-runs"]
    assert {s.split("(")[0] for s in outcome.skipped} == {"AddLabels", "UpsertComment"}
    row = await store.status_of(db, REPO, 2)
    assert (row["head_sha"], row["state"], row["published"]) == (h2, "yes", 0)   # H1's never marks it sent
    # H1's verdict was stored (and its check run sent) before H2's overtook it: /explain tells of it
    from bot.store.state import decisions_for
    assert [d for d in await decisions_for(db, REPO, 2) if d["summary"].startswith("CLA check on 1111111")]


async def test_a_verdict_not_overtaken_sends_all_its_actions(db):
    from bot.executor import Executor
    from bot.features.cla import FEATURE

    payload = pr_payload("synchronize", head="1" * 40, commits=1)
    reader = reader_for({2: payload["pull_request"]}, {2: [api_commit("1" * 40)]})
    event, ctx = make_context("pull_request", payload, db=db, reader=reader, received=AT)
    actions = await handlers.on_pull_request(event, ctx)
    api = RacingGitHub(None)

    async def api_for(installation):
        return api
    executor = Executor(db, api_for=api_for, dry_run=False, features={"cla": FEATURE}, bot_login="bot")
    outcome = await executor.run(delivery_id="d-h1", installation_id=1, batches=[("cla.on_pull_request", actions)])
    assert outcome.skipped == [] and outcome.failed == []
    assert len(api.writes) == 3        # check run, label, comment
    assert (await store.status_of(db, REPO, 2))["published"] == 1


async def test_a_late_event_processed_after_the_close_does_not_open_the_pull_request_again(db):
    """GitHub delivers out of order: #2's last synchronize (its payload says open) is handled
    after its close. Its listing is the head's own, so nothing else stops it: it must not
    store #2 open again with its waiting list, nor send a check, labels and a comment pinging
    people on a closed pull request."""
    head = "1" * 40
    payload = pr_payload("synchronize", head=head)
    reader = reader_for({2: payload["pull_request"]}, {2: [api_commit(head)]})
    event, ctx = make_context("pull_request", pr_payload("opened", head=head), db=db, reader=reader, received=AT)
    for action in await handlers.on_pull_request(event, ctx):
        if isinstance(action, Record):
            await store.WRITERS[action.op](db, **action.args)
    await store.pr_closed(db, repo=REPO, number=2)
    reader = reader_for({2: {**payload["pull_request"], "state": "closed"}}, {2: [api_commit(head)]})
    event, ctx = make_context("pull_request", payload, db=db, reader=reader, received=AT)
    actions = await handlers.on_pull_request(event, ctx)
    assert not of(actions, UpsertCheckRun)
    assert not [a for a in actions if not isinstance(a, (Record, Note))]
    assert not [a for a in of(actions, Record) if a.op == "pr_status"]
    # reopened, it is checked (and waits) again
    reopened = pr_payload("reopened", head=head)
    reader = reader_for({2: reopened["pull_request"]}, {2: [api_commit(head)]})
    event, ctx = make_context("pull_request", reopened, db=db, reader=reader, received=AT)
    assert of(await handlers.on_pull_request(event, ctx), UpsertCheckRun)


async def test_a_comment_overtaken_before_it_was_posted_does_not_count_as_posted(db):
    """H1's failing verdict (alice has not signed) is stored and its check run sent; before its
    comment goes out, alice signs and H2's synchronize is decided: passing. No CLA comment was
    ever posted (H1's is skipped as superseded), so H2's verdict posts no "everyone signed"
    comment either. Once a failing comment was really posted, a passing verdict edits it."""
    from bot.core.actions import UpsertComment
    from bot.executor import Executor
    from bot.features.cla import FEATURE

    h1, h2 = "1" * 40, "2" * 40

    async def decide(head):
        payload = pr_payload("synchronize", head=head, commits=1)
        reader = reader_for({2: payload["pull_request"]}, {2: [api_commit(head)]})
        event, ctx = make_context("pull_request", payload, db=db, reader=reader, received=AT)
        return await handlers.on_pull_request(event, ctx)

    first = await decide(h1)
    assert of(first, UpsertComment)
    later: list = []

    async def h2_decided():
        await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
        later.extend(await decide(h2))
        [stored] = [a for a in later if isinstance(a, Record) and a.op == "pr_status"]
        await store.pr_status(db, **stored.args)       # H2's verdict stored, its actions to follow
    api = RacingGitHub(h2_decided)

    async def api_for(installation):
        return api
    executor = Executor(db, api_for=api_for, dry_run=False, features={"cla": FEATURE}, bot_login="bot")
    outcome = await executor.run(delivery_id="d-h1", installation_id=1, batches=[("cla.on_pull_request", first)])
    assert "UpsertComment" in {s.split("(")[0] for s in outcome.skipped}
    assert of(later, UpsertCheckRun)[0].conclusion == "success"
    assert not of(later, UpsertComment)

    # the same, with H1's comment posted: H2's passing verdict edits it
    await db.execute("DELETE FROM cla_signatures")
    await db.execute("DELETE FROM cla_pr_status")
    api.meanwhile = None
    first = await decide(h1)
    outcome = await executor.run(delivery_id="d-h1b", installation_id=1, batches=[("cla.on_pull_request", first)])
    assert outcome.skipped == [] and outcome.failed == []
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    later = await decide(h2)
    assert of(later, UpsertCheckRun)[0].conclusion == "success" and of(later, UpsertComment)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_listing_grace_is_not_cut_short_by_few_delivery_attempts(database_url, tmp_path):
    """core.max_attempts: 2. The listing is behind for the whole grace: the worker tries the
    delivery again each time the check asks (every LISTING_RETRY seconds), and those waits are
    no attempts of the delivery's, so it ends with the grace's note, not dead after two tries
    (the check undecided and every other feature's actions of the delivery lost with it)."""
    import shutil
    import time
    from pathlib import Path

    import yaml

    from bot.runtime import open_runtime
    from bot.settings import BUNDLED_RULES, Settings
    from bot.store import deliveries
    from bot.worker import handle

    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    shutil.copy(Path(BUNDLED_RULES) / "cla.yml", rules_dir / "cla.yml")
    core = yaml.safe_load((Path(BUNDLED_RULES) / "core.yml").read_text())
    (rules_dir / "core.yml").write_text(yaml.safe_dump({**core, "max_attempts": 2}))
    head = "9" * 40
    payload = pr_payload("synchronize", head=head, commits=3)
    reader = reader_for({2: payload["pull_request"]}, {2: [api_commit("8" * 40), api_commit(head)]},
                        head_last=False)
    settings = Settings(webhook_secret="s", database_url=database_url, retry_base=0.05, rules_dir=str(rules_dir))
    async with open_runtime(settings, with_github=False) as rt:
        assert int(rt.bundled["core"]["max_attempts"]) == 2
        await deliveries.insert(rt.db, delivery_id="d", event="pull_request", action="synchronize", repo="",
                                subject=f"{REPO}#2", installation_id=None, body="{}")
        decided: list = []
        statuses: list[str] = []
        for attempt in range(6):
            now = AT + timedelta(seconds=attempt * check.LISTING_RETRY)

            async def process(runtime, d):
                event, ctx = make_context("pull_request", payload, db=runtime.db, reader=reader,
                                          received=AT, now=now)
                decided.extend(await handlers.on_pull_request(event, ctx))
            row = await deliveries.get(rt.db, "d")
            taken = (await deliveries.claim(rt.db, worker="w", busy_subjects=set(), limit=1,
                                            now=time.time() + 10 ** 6))[0]
            assert taken.seq == row.seq
            statuses.append((await handle(rt, taken, process)).status)
            if statuses[-1] != "failed":
                break
    assert statuses == ["failed", "failed", "failed", "done"]
    [note] = decided
    assert isinstance(note, Note) and "left undecided" in note.text
