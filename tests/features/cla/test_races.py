"""Decisions about one pull request that race each other or the pull request itself: a close
under a re-check, a commit count that changed since the payload, GitHub actions of a verdict
overtaken by a newer one."""
from __future__ import annotations

import pytest

from bot.features.cla import store
from .conftest import REPO

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
