"""Backfill of reviews: every pull request the issues list gave is visited, also one whose
author was deleted (``ghost``, no act of its own), so its reviewers are not missed; and the
repository is stored under the name the API gives now."""
from __future__ import annotations

from datetime import datetime, timezone

from bot.features.funnel import store
from bot.features.funnel.backfill import Backfill
from tests.helpers import RecordingReader, bundled_rules

UTC = timezone.utc
ISSUES = "/repos/{owner}/{repo}/issues{?state,sort,direction,since,per_page,page}"
REVIEWS = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews{?per_page}"
GHOST = {"login": "ghost", "id": 10137, "type": "User"}
AMY = {"login": "amy", "id": 21, "type": "User"}


def pr(number: int, author: dict) -> dict:
    return {"number": number, "user": author, "created_at": "2026-01-05T00:00:00Z",
            "pull_request": {"url": "x", "merged_at": None}}


def reviews(v: dict) -> list[dict]:
    reviewer = {5: ("rev-of-ghost", 55), 6: ("rev-of-amy", 56)}.get(v["pull_number"])
    if reviewer is None:
        return []
    return [{"id": 9000 + v["pull_number"], "user": {"login": reviewer[0], "id": reviewer[1], "type": "User"},
             "submitted_at": "2026-01-06T00:00:00Z"}]


async def test_reviews_of_every_listed_pr_are_read_whoever_opened_it(db):
    issue = {"number": 4, "user": AMY, "created_at": "2026-01-04T00:00:00Z"}
    reader = RecordingReader(lists={ISSUES: [issue, pr(5, GHOST), pr(6, AMY)]})
    reader.lists[REVIEWS] = reviews  # type: ignore[assignment]
    job = Backfill(db, reader, "oldorg/widgets", 77, datetime(2026, 1, 1, tzinfo=UTC),
                   bundled_rules().section("funnel"), full_name="neworg/widgets")
    await job.issues()
    await job.reviews()
    assert sorted(v["pull_number"] for u, v in reader.calls if u == REVIEWS) == [5, 6]   # not the issue
    people = {c.login for c in await store.contributors(db, "neworg/widgets")}
    assert people == {"amy", "rev-of-ghost", "rev-of-amy"}
    # The name the API gave (after a rename, --repo may name the old one).
    assert await store.repo_ids(db, "neworg/widgets") == [77]
    assert await store.repo_ids(db, "oldorg/widgets") == []
