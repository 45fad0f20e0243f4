"""Backfill of approver files: a name's first appearance in the file's history dates the
grant; names in force when the window starts, collaborators and team members are undated
(approvers, yet no window's new contributors)."""
from __future__ import annotations

from datetime import datetime, timezone

from bot.features.funnel.backfill import UNDATED, Backfill
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
    grants = await job._file_history("OWNERS", UNDATED)
    assert sorted((g.login, g.source, g.at) for g in grants) == [
        ("alice", "owners", UNDATED),
        ("bob", "owners", int(datetime(2026, 1, 15, tzinfo=UTC).timestamp())),
        ("carol", "owners", int(datetime(2026, 2, 1, tzinfo=UTC).timestamp())),
    ]   # dana is only a reviewer
    refs = [v["ref"] for u, v in reader.calls if "contents" in u]
    assert refs == ["old", "c1", "c2"]   # oldest first


class Collaborators:
    """The collaborators list, and nothing else (approver files without history, no team)."""
    rate_limit = None

    def __init__(self, people):
        self.people = people

    async def getiter(self, url, url_vars):
        for p in self.people if "collaborators" in url else ():
            yield p


async def test_undated_approvers_are_no_windows_new_contributors(db):
    from datetime import timedelta

    from bot.features.funnel import store
    from bot.features.funnel.extract import COMMENT, object_key
    from bot.features.funnel.query import funnel_for

    section = bundled_rules().section("funnel")
    job = Backfill(db, Collaborators([{"id": 100 + i, "login": f"maint{i}"} for i in range(40)]),
                   "o/r", 7, SINCE, section)
    await job.approvers()
    # maint0 answers an issue in January; stranger is new then.
    when = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp())
    await store.record_acts(db, repo_id=7, repo="o/r", acts=[[object_key(1, COMMENT), COMMENT, 100, "maint0", False, when],
                                                             [object_key(2, COMMENT), COMMENT, 9, "stranger", False, when]])
    for since, until in ((SINCE - timedelta(days=120), SINCE + timedelta(days=60)),   # holds --since - 1
                         (datetime(1, 1, 1, tzinfo=UTC), datetime(25, 1, 1, tzinfo=UTC)),  # the earliest window
                         (SINCE, SINCE + timedelta(days=31))):
        f = await funnel_for(db, "o/r", since, until, section)
        assert f.newcomers == (("stranger",) if since <= datetime.fromtimestamp(when, UTC) < until else ()), since
    people = {c.login: c for c in await store.contributors(db, "o/r")}
    assert all(people[f"maint{i}"].stages[3] == UNDATED for i in range(40))   # approvers all along


async def test_a_name_two_stored_users_have_held_goes_to_the_one_seen_with_it_last(db):
    """Logins change hands: user 5 took "alice" in 2026 after user 9 (seen as alice in a 2024
    archive hour) had renamed away. An OWNERS file naming alice makes user 5 the approver."""
    from bot.features.funnel.approvers import resolve
    from bot.features.funnel.store import UPSERT_USER

    for uid, login, seen in ((5, "alice", datetime(2026, 3, 1, tzinfo=UTC)),
                             (9, "Alice", datetime(2024, 3, 1, tzinfo=UTC))):
        await db.execute(UPSERT_USER, (uid, login, 0, int(seen.timestamp())))
    assert await resolve(db, RecordingReader(), ["ALICE"]) == {"alice": (5, "alice")}
