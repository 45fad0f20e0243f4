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
