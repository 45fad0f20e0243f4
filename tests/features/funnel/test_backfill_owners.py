"""Backfill of approver files: a name's first appearance in the file's history dates the
grant; names in force when the window starts count from just before it."""
from __future__ import annotations

from datetime import datetime, timezone

from bot.features.funnel.backfill import Backfill
from tests.helpers import RecordingReader, bundled_rules

UTC = timezone.utc
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
IDS = {"alice": 1, "bob": 2, "carol": 3, "dana": 4}


async def test_owners_history_dates_each_grant(db):
    versions = {"old": "approvers: [alice]", "c1": "approvers: [alice, bob]",
                "c2": "approvers: [bob, carol]\nreviewers: [dana]"}

    def commits(v):
        if "until" in v:
            return [{"sha": "old"}]
        # Newest first, as the API lists them.
        return [{"sha": "c2", "commit": {"committer": {"date": "2026-02-01T00:00:00Z"}}},
                {"sha": "c1", "commit": {"committer": {"date": "2026-01-15T00:00:00Z"}}}]

    def contents(v):
        if v["path"] != "OWNERS":
            from bot.github import PermanentGitHubError
            raise PermanentGitHubError("404", status=404)
        return versions[v["ref"]]

    reader = RecordingReader(
        items={"/repos/{owner}/{repo}/contents/{+path}{?ref}": contents,
               "/users/{username}": lambda v: {"id": IDS[v["username"]], "login": v["username"]}})
    reader.lists["/repos/{owner}/{repo}/commits{?path,since,until,per_page}"] = commits  # type: ignore[assignment]
    job = Backfill(db, reader, "octo/widgets", 77, SINCE, bundled_rules().section("funnel"))
    grants = await job._file_history("OWNERS", int(SINCE.timestamp()) - 1)
    assert sorted((g.login, g.source, g.at) for g in grants) == [
        ("alice", "owners", int(SINCE.timestamp()) - 1),
        ("bob", "owners", int(datetime(2026, 1, 15, tzinfo=UTC).timestamp())),
        ("carol", "owners", int(datetime(2026, 2, 1, tzinfo=UTC).timestamp())),
    ]   # dana is only a reviewer
    refs = [v["ref"] for u, v in reader.calls if "contents" in u]
    assert refs == ["old", "c1", "c2"]   # oldest first
