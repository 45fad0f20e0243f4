"""Group commit: one row the database refuses fails that request alone; the rest of its
batch is stored. An unavailable database still answers the whole batch at once."""
from __future__ import annotations

import asyncio

import pytest

from bot.store import deliveries, group_commit
from bot.store.db import DatabaseUnavailable
from bot.store.group_commit import GroupCommitter


def _item(did: str, *, event: str = "issues", repo: str = "o/r") -> deliveries.NewDelivery:
    return deliveries.NewDelivery(did, event, "opened", repo, f"{repo}#1", 1, '{"id": "%s"}' % did)


async def test_a_row_the_database_refuses_fails_alone(db):
    committer = GroupCommitter(db, timeout=10)
    try:
        items = [_item(f"ok-{i}") for i in range(20)]
        items.insert(7, _item("bad-event", event="issu\udcffes"))   # not encodable as UTF-8
        items.insert(13, _item("bad-repo", repo="o/r\x00x"))          # NUL: PostgreSQL refuses it
        answers = await asyncio.gather(*(committer.submit(i) for i in items), return_exceptions=True)
        by_id = dict(zip((i.delivery_id for i in items), answers))
        assert isinstance(by_id.pop("bad-event"), UnicodeEncodeError)
        bad_repo = by_id.pop("bad-repo")
        if db.dialect == "postgresql":
            assert isinstance(bad_repo, Exception)
        assert all(getattr(a, "stored", False) for a in by_id.values()), by_id
        stored = {row["delivery_id"] for row in await deliveries.listing(db, limit=100)}
        assert set(by_id) <= stored and "bad-event" not in stored
        # The writer is still running: the next batch goes through.
        assert (await committer.submit(_item("later"))).stored
    finally:
        await committer.close()


async def test_an_unavailable_database_fails_the_batch_once_without_splitting(db, monkeypatch):
    calls = []

    async def down(database, items, now=None):
        calls.append(len(items))
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr(group_commit.deliveries, "insert_many", down)
    committer = GroupCommitter(db, timeout=10)
    try:
        answers = await asyncio.gather(*(committer.submit(_item(f"d{i}")) for i in range(8)),
                                       return_exceptions=True)
        assert all(isinstance(a, DatabaseUnavailable) for a in answers)
        assert calls == [8]
    finally:
        await committer.close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_duplicates_still_answered_after_a_split(db):
    committer = GroupCommitter(db, timeout=10)
    try:
        assert (await committer.submit(_item("seen"))).stored
        items = [_item("seen"), _item("bad", event="\udcff"), _item("fresh"), _item("fresh")]
        answers = await asyncio.gather(*(committer.submit(i) for i in items), return_exceptions=True)
        assert answers[0].stored is False and answers[0].status == "pending"
        assert isinstance(answers[1], UnicodeEncodeError)
        assert answers[2].stored is True and answers[3].stored is False
    finally:
        await committer.close()
