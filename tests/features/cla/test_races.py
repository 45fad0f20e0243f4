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
