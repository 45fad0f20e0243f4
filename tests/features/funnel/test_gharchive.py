"""GH Archive import: the 2015 wrapper shape, streaming from .json and .json.gz, only the
funnel's event types, idempotent on re-import; and the CLI over the imported data."""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from bot.features.funnel.gharchive import import_files
from bot.features.funnel.query import funnel_for
from tests.helpers import bundled_rules

UTC = timezone.utc
ROOT = Path(__file__).resolve().parents[3]
REPO = {"id": 26730195, "name": "cachethq/Cachet", "url": "https://api.github.com/repos/cachethq/Cachet"}


def user(login: str, uid: int, kind: str = "User") -> dict:
    return {"login": login, "id": uid, "type": kind}


def actor(login: str, uid: int) -> dict:
    return {"id": uid, "login": login, "gravatar_id": "", "url": f"https://api.github.com/users/{login}"}


def line(eid: int, kind: str, who: tuple[str, int], payload: dict, at: str) -> str:
    return json.dumps({"id": str(eid), "type": kind, "actor": actor(*who), "repo": REPO,
                       "payload": payload, "public": True, "created_at": at})


ISSUE = {"id": 53217929, "number": 188, "user": user("graham", 1), "created_at": "2015-01-01T11:28:14Z",
         "state": "open"}
PR = {"id": 26743766, "number": 190, "user": user("joe", 2), "created_at": "2015-01-01T12:05:00Z",
      "merged": False, "merged_at": None}
EVENTS = [
    line(1, "IssuesEvent", ("graham", 1), {"action": "opened", "issue": ISSUE}, "2015-01-01T11:28:14Z"),
    line(2, "IssueCommentEvent", ("joe", 2), {"action": "created", "issue": ISSUE, "comment": {
        "id": 68485195, "user": user("joe", 2), "created_at": "2015-01-01T12:00:17Z"}},
        "2015-01-01T12:00:17Z"),
    line(3, "PushEvent", ("graham", 1), {"push_id": 1, "size": 1, "commits": []}, "2015-01-01T12:01:00Z"),
    line(4, "PullRequestEvent", ("joe", 2), {"action": "opened", "number": 190, "pull_request": PR},
         "2015-01-01T12:05:00Z"),
    line(5, "PullRequestEvent", ("graham", 1), {"action": "closed", "number": 190, "pull_request": {
        **PR, "merged": True, "merged_at": "2015-01-01T14:05:00Z"}}, "2015-01-01T14:05:00Z"),
    line(6, "PullRequestReviewCommentEvent", ("ci", 3), {"action": "created", "pull_request": PR,
         "comment": {"id": 22496123, "user": user("travis", 3, "Bot"), "created_at": "2015-01-01T12:06:00Z"}},
         "2015-01-01T12:06:00Z"),
    line(7, "IssueCommentEvent", ("ghost", 10137), {"action": "created", "issue": ISSUE, "comment": {
        "id": 68485196, "user": user("ghost", 10137), "created_at": "2015-01-01T12:07:00Z"}},
        "2015-01-01T12:07:00Z"),
    line(8, "MemberEvent", ("graham", 1), {"action": "added", "member": user("joe", 2)},
         "2015-01-01T16:05:00Z"),
    line(9, "WatchEvent", ("eve", 5), {"action": "started"}, "2015-01-01T12:09:00Z"),
    '{"id": "10", "type": "IssuesEvent", "truncated',
]


def write_hour(path: Path, lines: list[str], gz: bool) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


async def test_import_is_idempotent_and_counts_stages(db, tmp_path):
    gz = write_hour(tmp_path / "2015-01-01-12.json.gz", EVENTS, gz=True)
    plain = write_hour(tmp_path / "again.json", EVENTS[:5], gz=False)
    stats = await import_files(db, [gz], batch_events=3)
    assert (stats.lines, stats.relevant, stats.bad_lines) == (10, 7, 1)
    acts = await db.fetchval("SELECT COUNT(*) FROM funnel_acts")
    milestones = await db.fetchall("SELECT * FROM funnel_milestones ORDER BY user_id")
    await import_files(db, [gz, plain])  # the same events again, also from a plain .json file
    assert await db.fetchval("SELECT COUNT(*) FROM funnel_acts") == acts == 5   # the ghost comment is not stored
    assert await db.fetchall("SELECT * FROM funnel_milestones ORDER BY user_id") == milestones

    f = await funnel_for(db, "CachetHQ/cachet", datetime(2015, 1, 1, tzinfo=UTC),
                         datetime(2015, 1, 2, tzinfo=UTC), bundled_rules().section("funnel"))
    assert [s.contributors for s in f.stages] == [2, 1, 1, 1]   # graham; joe all the way; no bot/ghost
    assert f.newcomers == ("graham", "joe")
    assert f.stage("first_pr").median_hours_from_previous == 0.08   # comment 12:00:17, PR 12:05
    assert f.stage("first_merge").median_hours_from_previous == 2.0
    assert f.stage("approver").median_hours_from_previous == 2.0


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_import_and_funnel_formats(tmp_path):
    hour = write_hour(tmp_path / "hour.json.gz", EVENTS, gz=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    done = _cli("import-gharchive", str(hour), env=env)
    assert done.returncode == 0, done.stderr
    assert "10 events read, 7 relevant" in done.stdout

    window = ("--repo", "cachethq/Cachet", "--since", "2015-01-01", "--until", "2015-01-01")
    data = json.loads(_cli("funnel", *window, "--format", "json", env=env).stdout)
    assert [s["name"] for s in data["stages"]] == ["first_contact", "first_pr", "first_merge", "approver"]
    assert [s["contributors"] for s in data["stages"]] == [2, 1, 1, 1]
    assert data["stages"][1]["rate_from_first"] == 0.5
    assert [c["month"] for c in data["cohorts"]] == ["2015-01"]
    assert data["cohorts"][0]["stages"][0]["contributors"] == 2

    rows = list(csv.DictReader(io.StringIO(_cli("funnel", *window, "--format", "csv", env=env).stdout)))
    assert [(r["cohort"], r["stage"], r["contributors"]) for r in rows][:2] == [
        ("all", "first_contact", "2"), ("all", "first_pr", "1")]
    md = _cli("funnel", *window, env=env).stdout
    assert "| First merge | 1 | 50% | 100% |" in md
    org = json.loads(_cli("funnel", "--repo", "cachethq", "--since", "2015-01-01", "--until",
                          "2015-01-01", "--format", "json", env=env).stdout)
    assert org["stages"][0]["contributors"] == 2
    unknown = _cli("funnel", "--repo", "nobody/here", env=env)
    assert unknown.returncode == 0 and "no stored history for nobody/here" in unknown.stderr
    bad = _cli("funnel", "--repo", "x/y", "--since", "yesterday", env=env)
    assert bad.returncode == 2 and "not an ISO 8601 date" in bad.stderr


def test_cli_funnel_counts_under_the_repositorys_stored_rules(tmp_path):
    import sqlite3

    database = tmp_path / "cli.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    assert _cli("import-gharchive", str(write_hour(tmp_path / "h.json", EVENTS, gz=False)), env=env).returncode == 0
    with sqlite3.connect(database) as conn:    # as the bot holds them: installed name, last good override
        conn.execute("INSERT INTO repo_installations (repo, installation_id, updated_at) VALUES ('CachetHQ/Cachet', 1, 0)")
        conn.execute("INSERT INTO repo_config (repo, text, sha, saved_at) VALUES"
                     " ('CachetHQ/Cachet', 'funnel:\n  bots:\n    deny: [joe]\n', 'x', 0)")
    window = ("--since", "2015-01-01", "--until", "2015-01-01", "--format", "json")
    data = json.loads(_cli("funnel", "--repo", "cachethq/cachet", *window, env=env).stdout)
    assert data["newcomers"] == ["graham"]                   # joe is a bot by the repository's rules
    org = json.loads(_cli("funnel", "--repo", "cachethq", *window, env=env).stdout)
    assert org["newcomers"] == ["graham", "joe"]             # an organisation: the bundled rules


# GitHub's Events API (and so GH Archive) has sent pull-request events trimmed since 2025-10-07:
# the PR is url, id, node_id, number, head and base; no user, created_at, merged or merged_at.
def slim_pr(number: int) -> dict:
    return {"url": f"https://api.github.com/repos/cachethq/Cachet/pulls/{number}", "id": 26743000 + number,
            "node_id": "PR_x", "number": number, "head": {"ref": "f", "sha": "a" * 40},
            "base": {"ref": "main", "sha": "b" * 40}}


TRIMMED = [
    line(11, "PullRequestEvent", ("joe", 2), {"action": "opened", "number": 190, "pull_request": slim_pr(190)},
         "2025-11-03T12:05:00Z"),
    line(12, "PullRequestEvent", ("graham", 1), {"action": "closed", "number": 190, "pull_request": slim_pr(190)},
         "2025-11-03T14:05:00Z"),
    line(13, "PullRequestEvent", ("graham", 1), {"action": "labeled", "number": 191, "pull_request": slim_pr(191)},
         "2025-11-03T14:06:00Z"),
    line(14, "IssueCommentEvent", ("ann", 7), {"action": "created", "issue": {
         **ISSUE, "number": 192, "user": user("ann", 7), "created_at": "2025-11-03T14:30:00Z"},
         "comment": {"id": 99, "user": user("ann", 7), "created_at": "2025-11-03T15:00:00Z"}},
         "2025-11-03T15:00:00Z"),
]


async def test_trimmed_pull_requests_give_what_they_still_say_and_are_counted(db, tmp_path):
    stats = await import_files(db, [write_hour(tmp_path / "2025-11-03-12.json", TRIMMED, gz=False)])
    # The opening by its actor at its time; the close and the label name no author: counted.
    assert (stats.relevant, stats.bad_lines, stats.trimmed, stats.trimmed_repos) == (4, 0, 2, ["cachethq/Cachet"])
    f = await funnel_for(db, REPO["name"], datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC),
                         bundled_rules().section("funnel"))
    assert [s.contributors for s in f.stages] == [2, 1, 0, 0] and f.newcomers == ("joe", "ann")
    # The same PR seen whole (live, backfill, an older hour) is the same act: stored once.
    full = line(15, "PullRequestEvent", ("joe", 2), {"action": "opened", "number": 190, "pull_request": {
        **PR, "created_at": "2025-11-03T12:05:00Z"}}, "2025-11-03T12:05:00Z")
    again = await import_files(db, [write_hour(tmp_path / "full.json", [full], gz=False)])
    assert again.acts == 1 and again.trimmed == 0
    assert await db.fetchval("SELECT COUNT(*) FROM funnel_acts WHERE kind = 5") == 1


def test_cli_import_names_the_trimmed_lines_and_the_way_out(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    done = _cli("import-gharchive", str(write_hour(tmp_path / "h.json", TRIMMED, gz=False)), env=env)
    assert done.returncode == 0, done.stderr
    assert "2 pull-request event(s) in the trimmed form" in done.stdout
    assert "(cachethq/Cachet)" in done.stdout and "python -m bot backfill" in done.stdout


# --- archive data that is not clean -------------------------------------------------------

def comment_event(eid: int, number: int, who: tuple[str, int], at: str = "2015-01-01T12:00:00Z",
                  repo: dict = REPO) -> dict:
    issue = {"number": number, "user": user(*who), "created_at": at}
    return {"id": str(eid), "type": "IssueCommentEvent", "actor": actor(*who), "repo": repo,
            "payload": {"action": "created", "issue": issue,
                        "comment": {"id": 70000 + eid, "user": user(*who), "created_at": at}},
            "public": True, "created_at": at}


def _with(event: dict, path: tuple, value) -> dict:
    out = json.loads(json.dumps(event))
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


GOOD = comment_event(1, 1, ("joe", 2))
# Lines that parse as JSON but have shapes GitHub never sends; each must be skipped.
MALFORMED = {
    "payload is a string": _with(GOOD, ("payload",), "oops"),
    "repo is a string": _with(GOOD, ("repo",), "a/b"),
    "repo id is text": _with(GOOD, ("repo", "id"), "x"),
    "issue number is text": _with(GOOD, ("payload", "issue", "number"), "abc"),
    "issue created_at is not a time": _with(GOOD, ("payload", "issue", "created_at"), "yesterday"),
    "comment id is text": _with(GOOD, ("payload", "comment", "id"), "c1"),
    "user id is text": _with(GOOD, ("payload", "issue", "user", "id"), "abc"),
    "event created_at is a list": _with(GOOD, ("created_at",), [2015]),
    "comment id too big for a key": _with(GOOD, ("payload", "comment", "id"), 1 << 70),
    "login with a NUL": _with(GOOD, ("payload", "comment", "user", "login"), "jo\u0000e"),
    "a list, not an event": [{"type": "IssuesEvent"}],
}


async def test_malformed_lines_are_skipped_and_counted_and_the_rest_is_written(db, tmp_path):
    lines = [json.dumps(comment_event(1, 1, ("amy", 21)))]
    lines += [json.dumps(bad) for bad in MALFORMED.values()]
    lines += ['{"id": "99", "type": "IssuesEvent", "trunc', json.dumps(comment_event(2, 2, ("bea", 22)))]
    hour = write_hour(tmp_path / "dirty.json", lines, gz=False)
    stats = await import_files(db, [hour], batch_events=2)
    assert stats.bad_lines == len(MALFORMED) + 1 and stats.relevant == 2 and stats.unreadable == []
    assert stats.bad_examples[0] == f"{hour}:2: payload is not an object: 'oops'"
    assert [int(e.split(":")[1]) for e in stats.bad_examples] == list(range(2, 12))  # the rest: counted
    users = await db.fetchall("SELECT login FROM funnel_users ORDER BY login")
    assert [u["login"] for u in users] == ["amy", "bea"]       # both sides of the bad lines
    again = await import_files(db, [hour])                    # a re-run goes past them too
    assert again.bad_lines == stats.bad_lines and again.relevant == 2


ODD_VALUES = ["text", "", [1], {"a": 1}, -1, 1 << 70, 1.5, True, "2015-13-45T99:00:00Z", "a\u0000b"]


def _leaves(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    yield path


def test_no_odd_value_anywhere_in_an_event_escapes_the_importer():
    """Every field of real event shapes (a comment, a merged PR, a review, a member added),
    replaced by each odd value: ``fold`` adds the acts or raises Malformed, leaving the batch
    untouched; nothing else gets out."""
    from bot.features.funnel.extract import Malformed
    from bot.features.funnel.gharchive import fold
    from bot.features.funnel.store import Batch

    pr = {**PR, "merged": True, "merged_at": "2015-01-01T14:05:00Z"}
    events = [
        ("issue_comment", GOOD),
        ("pull_request", json.loads(line(5, "PullRequestEvent", ("joe", 2), {
            "action": "closed", "number": 190, "pull_request": pr}, "2015-01-01T14:05:00Z"))),
        ("pull_request_review", json.loads(line(6, "PullRequestReviewEvent", ("amy", 21), {
            "action": "created", "pull_request": pr, "review": {
                "id": 5, "user": user("amy", 21), "submitted_at": "2015-01-01T13:00:00Z"}},
            "2015-01-01T13:00:00Z"))),
        ("member", json.loads(line(8, "MemberEvent", ("graham", 1), {
            "action": "added", "member": user("joe", 2), "changes": {"permission": {"to": "write"}}},
            "2015-01-01T16:05:00Z"))),
    ]
    tried = 0
    for name, event in events:
        for path in _leaves(event):
            for value in ODD_VALUES if path else ():
                batch = Batch()
                try:
                    fold(batch, _with(event, path, value), name)
                except Malformed:
                    assert len(batch) == 0 and not batch.repos and not batch.users
                tried += 1
    assert tried > 400


async def test_a_truncated_gz_imports_what_it_holds_and_the_next_file_too(db, tmp_path):
    lines = [json.dumps(comment_event(n, n, (f"user{n}", 100 + n))) for n in range(1, 3001)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(data[: len(data) // 2])
    whole_hour = write_hour(tmp_path / "whole.json", EVENTS[:2], gz=False)
    stats = await import_files(db, [cut, tmp_path / "missing.json.gz", whole_hour], batch_events=500)
    read = stats.lines - 2                                      # whole.json has 2
    assert 1000 < read < 3000 and stats.relevant == read + 2 and stats.bad_lines == 0
    assert stats.files == [str(cut), str(whole_hour)]
    assert stats.unreadable[0] == (f"{cut}: unreadable after line {read} (Compressed file ended before the "
                                   "end-of-stream marker was reached)")
    assert stats.unreadable[1] == f"{tmp_path / 'missing.json.gz'}: No such file or directory"
    # Every whole line before the cut was written, the last (unfilled) batch included.
    users = await db.fetchval("SELECT COUNT(*) FROM funnel_users WHERE login LIKE 'user%'")
    assert users == read
    assert await db.fetchval("SELECT COUNT(*) FROM funnel_users WHERE login = 'graham'") == 1


def test_cli_names_skipped_lines_and_fails_only_when_a_file_could_not_be_read(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    mixed = write_hour(tmp_path / "mixed.json", [json.dumps(GOOD), json.dumps(MALFORMED["payload is a string"])],
                       gz=False)
    done = _cli("import-gharchive", str(mixed), env=env)
    assert done.returncode == 0, done.stderr
    assert "2 events read, 1 relevant, 2 acts, 1 malformed line skipped" in done.stdout
    assert f"{mixed}:2: payload is not an object" in done.stdout

    data = gzip.compress(("\n".join(json.dumps(comment_event(n, n, ("joe", 2))) for n in range(1, 2001))
                          + "\n").encode())
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(data[: len(data) // 2])
    done = _cli("import-gharchive", str(cut), env=env)
    assert done.returncode == 1
    assert f"could not read all of: {cut}: unreadable after line" in done.stderr
    assert "events read" in done.stdout                       # the summary of what was imported


async def test_a_repository_keeps_the_name_of_its_newest_event(db, tmp_path):
    from bot.features.funnel.store import repo_ids

    def hour(repo_id: int, name: str, eid: int, at: str, who: tuple[str, int]) -> Path:
        event = comment_event(eid, eid, who, at, repo={"id": repo_id, "name": name})
        return write_hour(tmp_path / f"{repo_id}-{eid}.json", [json.dumps(event)], gz=False)

    newer, older = hour(77, "neworg/tool", 2, "2016-06-01T10:00:00Z", ("bob", 2)), \
        hour(77, "oldorg/tool", 1, "2015-01-01T10:00:00Z", ("amy", 1))
    await import_files(db, [newer])
    await import_files(db, [older])            # an older hour, imported later
    assert await repo_ids(db, "neworg/tool") == [77] and await repo_ids(db, "oldorg/tool") == []
    f = await funnel_for(db, "neworg/tool", datetime(2015, 1, 1, tzinfo=UTC), datetime(2017, 1, 1, tzinfo=UTC),
                         bundled_rules().section("funnel"))
    assert f.newcomers == ("amy", "bob")       # both hours' contributors, under the current name

    # Both names in one run (one batch), the newer first.
    await import_files(db, [hour(78, "b/new", 4, "2016-06-01T10:00:00Z", ("bob", 2)),
                            hour(78, "b/old", 3, "2015-01-01T10:00:00Z", ("amy", 1))])
    assert await repo_ids(db, "b/new") == [78]
    # A name seen later still wins.
    await import_files(db, [hour(77, "third/tool", 5, "2017-01-01T00:00:00Z", ("cy", 3))])
    assert await repo_ids(db, "third/tool") == [77] and await repo_ids(db, "neworg/tool") == []
