"""Funnel tables: writers (idempotent, batched) and the reads the funnel needs.

Every write keeps ``funnel_milestones`` up to date with a min-upsert, so computing a
funnel reads one row per contributor however long their history is. The min-upsert
is idempotent, which makes replays, re-imports and retried deliveries harmless.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Collection, Iterable, Sequence

from ...core.funnel import Contributor
from ...store.db import Database
from .extract import Act, Grant

STAGE_COLUMNS = ("contact_at", "pr_at", "merge_at", "approver_at")


def _earliest(column: str) -> str:
    return (f"{column} = CASE WHEN excluded.{column} IS NOT NULL AND (funnel_milestones.{column} IS NULL"
            f" OR excluded.{column} < funnel_milestones.{column}) THEN excluded.{column}"
            f" ELSE funnel_milestones.{column} END")


UPSERT_MILESTONES = (
    "INSERT INTO funnel_milestones (repo_id, user_id, contact_at, pr_at, merge_at, approver_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repo_id, user_id) DO UPDATE SET "
    + ", ".join(_earliest(c) for c in STAGE_COLUMNS))
UPSERT_USER = (
    "INSERT INTO funnel_users (user_id, login, is_bot, seen_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (user_id) DO UPDATE SET"
    " login = CASE WHEN excluded.seen_at >= funnel_users.seen_at THEN excluded.login ELSE funnel_users.login END,"
    " seen_at = CASE WHEN excluded.seen_at > funnel_users.seen_at THEN excluded.seen_at ELSE funnel_users.seen_at END,"
    " is_bot = CASE WHEN excluded.is_bot > funnel_users.is_bot THEN excluded.is_bot ELSE funnel_users.is_bot END")
# A repository keeps the name of the newest event seen: an older hour imported later
# carries the name it had then, and must not rename it back.
_NEWER_NAME = "excluded.name_seen_at >= funnel_repos.name_seen_at"
UPSERT_REPO = (
    "INSERT INTO funnel_repos (repo_id, name, name_key, name_seen_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (repo_id) DO UPDATE SET"
    f" name = CASE WHEN {_NEWER_NAME} THEN excluded.name ELSE funnel_repos.name END,"
    f" name_key = CASE WHEN {_NEWER_NAME} THEN excluded.name_key ELSE funnel_repos.name_key END,"
    f" name_seen_at = CASE WHEN {_NEWER_NAME} THEN excluded.name_seen_at ELSE funnel_repos.name_seen_at END")
INSERT_ACT = ("INSERT INTO funnel_acts (act_key, repo_id, user_id, kind, at) VALUES (?, ?, ?, ?, ?)"
              " ON CONFLICT (act_key) DO NOTHING")
UPSERT_GRANT = (
    "INSERT INTO funnel_grants (repo_id, user_id, source, at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (repo_id, user_id, source) DO UPDATE SET"
    " at = CASE WHEN excluded.at < funnel_grants.at THEN excluded.at ELSE funnel_grants.at END")
UPSERT_TEAM_GRANT = (
    "INSERT INTO funnel_team_grants (org, team, user_id, at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (org, team, user_id) DO UPDATE SET"
    " at = CASE WHEN excluded.at < funnel_team_grants.at THEN excluded.at ELSE funnel_team_grants.at END")


@dataclass
class Batch:
    """Acts and grants of many events, folded so each row is written once per batch."""
    repos: dict[int, tuple[str, int]] = field(default_factory=dict)  # id -> name, seen at
    users: dict[int, tuple[str, int, int]] = field(default_factory=dict)   # id -> login, bot, seen
    acts: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)  # key -> repo, user, kind, at
    grants: dict[tuple[int, int, str], int] = field(default_factory=dict)
    milestones: dict[tuple[int, int], list[int | None]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.acts) + len(self.grants)

    def _user(self, uid: int, login: str, is_bot: bool, at: int) -> None:
        old = self.users.get(uid)
        if old is None or at >= old[2]:
            self.users[uid] = (login, int(is_bot or (old is not None and old[1])), at)

    def _stage(self, repo_id: int, uid: int, stage: int, at: int) -> None:
        row = self.milestones.setdefault((repo_id, uid), [None, None, None, None])
        if row[stage] is None or at < row[stage]:  # type: ignore[operator]
            row[stage] = at

    def add_repo(self, repo_id: int, name: str, seen_at: int = 0) -> None:
        """``name`` as of ``seen_at`` (epoch seconds; 0 when unknown: it then names the
        repository only until a dated name is seen)."""
        old = self.repos.get(int(repo_id))
        if old is None or seen_at >= old[1]:
            self.repos[int(repo_id)] = (name, int(seen_at))

    def add_acts(self, repo_id: int, acts: Iterable[Act], seen_at: int = 0) -> None:
        """``seen_at``: when the source showed these logins (a delivery's arrival, an archive
        event's time, a backfill's read). A login is current as of then, not as of the act: a
        payload about an old issue names its author as they are called now."""
        for a in acts:
            self._user(a.user_id, a.login, a.is_bot, max(a.at, seen_at))
            self.acts[a.key] = (repo_id, a.user_id, a.kind, a.at)
            self._stage(repo_id, a.user_id, a.stage, a.at)

    def add_grants(self, repo_id: int, grants: Iterable[Grant], seen_at: int = 0) -> None:
        for g in grants:
            self._user(g.user_id, g.login, False, max(g.at, seen_at))
            key = (repo_id, g.user_id, g.source)
            self.grants[key] = min(g.at, self.grants.get(key, g.at))
            self._stage(repo_id, g.user_id, 3, g.at)


async def write_batch(db: Database, batch: Batch) -> None:
    """One transaction per batch, each table written with one executemany."""
    if not batch.repos and not batch.users:
        return
    async with db.transaction():
        if batch.repos:
            await db.executemany(UPSERT_REPO, [(i, n, n.lower(), at) for i, (n, at) in batch.repos.items()])
        if batch.users:
            await db.executemany(UPSERT_USER, [(i, *u) for i, u in sorted(batch.users.items())])
        if batch.acts:
            await db.executemany(INSERT_ACT, [(k, *a) for k, a in batch.acts.items()])
        if batch.grants:
            await db.executemany(UPSERT_GRANT, [(*k, at) for k, at in batch.grants.items()])
        if batch.milestones:
            # Sorted: concurrent writers on PostgreSQL then lock rows in the same order.
            await db.executemany(UPSERT_MILESTONES,
                                 [(*k, *v) for k, v in sorted(batch.milestones.items())])


# --- writers (Record actions) --------------------------------------------------------

async def record_acts(db: Database, *, repo_id: int, repo: str, acts: Sequence[Sequence[Any]] = (),
                      grants: Sequence[Sequence[Any]] = (), seen_at: float | None = None) -> None:
    """acts: [key, kind, user_id, login, is_bot, at]; grants: [user_id, login, source, at];
    seen_at: when ``repo`` and the logins were the repository's and the people's names
    (default: now, as for a live event)."""
    batch = Batch()
    seen = int(time.time() if seen_at is None else seen_at)
    batch.add_repo(repo_id, repo, seen)
    batch.add_acts(repo_id, [Act(*a) for a in acts], seen)
    batch.add_grants(repo_id, [Grant(*g) for g in grants], seen)
    await write_batch(db, batch)


async def record_team_grants(db: Database, *, org: str, team: str,
                             members: Sequence[Sequence[Any]]) -> None:
    """members: [user_id, login, at]."""
    async with db.transaction():
        await db.executemany(UPSERT_USER, [(int(u), login, 0, int(at)) for u, login, at in members])
        await db.executemany(UPSERT_TEAM_GRANT, [(org.lower(), team.lower(), int(u), int(at))
                                                 for u, _, at in members])


async def record_report(db: Database, *, repo: str, week: str, figures: dict) -> None:
    await db.execute("INSERT INTO funnel_reports (repo, week, figures, posted_at) VALUES (?, ?, ?, ?)"
                     " ON CONFLICT (repo, week) DO NOTHING",
                     (repo, week, json.dumps(figures, sort_keys=True), time.time()))


WRITERS = {"acts": record_acts, "team_grants": record_team_grants, "report": record_report}


# --- reads ---------------------------------------------------------------------------

async def repo_ids(db: Database, scope: str, among: Collection[str] | None = None) -> list[int]:
    """Ids of the repositories named ``owner/name`` now (every id that name has had), or of
    every repository of ``owner``; with ``among`` (lower-case names), only of the
    repositories named there now.

    A repository's name now is the one the bot's id -> name mapping (core ``repo_names``,
    which a rename or transfer updates at once) has for it, and only for an id the mapping
    does not know the funnel's own name (which follows the repository's next funnel
    activity). So a repository renamed on Sunday is counted under its new name in Monday's
    report though nothing has happened there since; a private repository renamed away from
    a name a public one takes later is not counted as that public one."""
    scope = scope.lower().strip("/")
    columns = "f.repo_id, f.name_key, n.full_name AS current_name"
    if "/" in scope:
        test, arg = "= ?", scope
    else:
        test, arg = "LIKE ? ESCAPE '\\'", scope.replace("_", r"\_").replace("%", r"\%") + "/%"
    # Under the funnel's name (indexed), or under the mapping's (a table of installed
    # repositories only): the current name of each is checked below.
    rows = await db.fetchall(
        f"SELECT {columns} FROM funnel_repos f LEFT JOIN repo_names n ON n.repo_id = f.repo_id"
        f" WHERE f.name_key {test} UNION SELECT {columns} FROM repo_names n"
        f" JOIN funnel_repos f ON f.repo_id = n.repo_id WHERE lower(n.full_name) {test}", (arg, arg))

    def now_named(row: Any) -> str:
        return row["current_name"].lower() if row["current_name"] is not None else row["name_key"]

    inside = (lambda name: name == scope) if "/" in scope else (lambda name: name.startswith(scope + "/"))
    return sorted(int(r["repo_id"]) for r in rows
                  if inside(now_named(r)) and (among is None or now_named(r) in among))


FAR = 4_000_000_000_000  # after any instant: stands for "never" inside LEAST/min
_COLS = ("contact_at", "pr_at", "merge_at", "approver_at")


def _least(db: Database, exprs: Sequence[str]) -> str:
    fn = "min" if db.dialect == "sqlite" else "LEAST"  # both: the smallest of their arguments
    return f"{fn}({', '.join(f'COALESCE({e}, {FAR})' for e in exprs)})"


async def _tuples(db: Database, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
    if db.dialect == "sqlite":  # rows as they come: no dict per row on the hot path
        return await db.run_sync(lambda conn: conn.execute(sql, tuple(params)).fetchall())  # type: ignore[attr-defined]
    return [tuple(r.values()) for r in await db.fetchall(sql, params)]


async def contributors(db: Database, scope: str, approver_teams: Sequence[str] = (),
                       since: float | None = None, until: float | None = None, *,
                       among: Collection[str] | None = None) -> list[Contributor]:
    """Contributors of a repository or an organisation (earliest instants over its repos),
    with the configured approver teams' memberships counted as approver rights.

    With ``since``/``until`` (epoch seconds), only people whose earliest instant of all
    falls in that range are read: the others cannot be new in it, and the database
    drops them before Python sees a row. ``among``: as for ``repo_ids``."""
    ids = await repo_ids(db, scope, among)
    people: dict[int, list[Any]] = {}
    chunks = [ids[i:i + 500] for i in range(0, len(ids), 500)]
    for chunk in chunks:
        marks = ", ".join("?" * len(chunk))
        window = since is not None and until is not None and len(chunks) == 1
        if len(chunk) == 1:
            sql = ("SELECT m.user_id, u.login, u.is_bot, m.contact_at, m.pr_at, m.merge_at, m.approver_at"
                   " FROM funnel_milestones m JOIN funnel_users u ON u.user_id = m.user_id WHERE m.repo_id = ?")
            if window:
                sql += f" AND {_least(db, [f'm.{c}' for c in _COLS])} >= ? AND {_least(db, [f'm.{c}' for c in _COLS])} < ?"
        else:
            mins = [f"MIN(m.{c})" for c in _COLS]
            named = ", ".join(f"{m} AS {c}" for m, c in zip(mins, _COLS))  # PostgreSQL names them all "min"
            sql = (f"SELECT m.user_id, u.login, u.is_bot, {named}"
                   " FROM funnel_milestones m JOIN funnel_users u ON u.user_id = m.user_id"
                   f" WHERE m.repo_id IN ({marks}) GROUP BY m.user_id, u.login, u.is_bot")
            if window:
                sql += f" HAVING {_least(db, mins)} >= ? AND {_least(db, mins)} < ?"
        params = [*chunk, *((int(since), int(until)) if window else ())]  # type: ignore[arg-type]
        rows = await _tuples(db, sql, params)
        teams = [t.lower().split("/", 1) for t in approver_teams if "/" in t]
        if len(chunks) == 1 and not teams:  # the common case, built straight from the rows
            return [Contributor(r[0], r[1], (r[3], r[4], r[5], r[6]), bool(r[2])) for r in rows]
        for r in rows:
            _merge(people, r[0], r[1], r[2], r[3:7])
    teams = [t.lower().split("/", 1) for t in approver_teams if "/" in t]
    for org, slug in teams:
        rows = await _tuples(db, "SELECT g.user_id, u.login, u.is_bot, g.at FROM funnel_team_grants g"
                             " JOIN funnel_users u ON u.user_id = g.user_id WHERE g.org = ? AND g.team = ?",
                             (org, slug))
        missing = [r[0] for r in rows if r[0] not in people]
        for start in range(0, len(missing), 500) if ids else ():
            # Their history in the scope, unfiltered: the team may move them into the window.
            part = missing[start:start + 500]
            extra = await _tuples(
                db, "SELECT m.user_id, u.login, u.is_bot, m.contact_at, m.pr_at, m.merge_at, m.approver_at"
                " FROM funnel_milestones m JOIN funnel_users u ON u.user_id = m.user_id"
                f" WHERE m.repo_id IN ({', '.join('?' * len(ids[:500]))}) AND m.user_id IN ({', '.join('?' * len(part))})",
                [*ids[:500], *part])
            for r in extra:
                _merge(people, r[0], r[1], r[2], r[3:7])
        for r in rows:
            _merge(people, r[0], r[1], r[2], (None, None, None, r[3]))
    return [Contributor(uid, p[0], tuple(p[2]), bool(p[1])) for uid, p in people.items()]  # type: ignore[arg-type]


async def histories(db: Database, scope: str, approver_teams: Sequence[str],
                    user_ids: Iterable[int]) -> list[Contributor]:
    """The whole stored history in ``scope`` of ``user_ids`` only, approver teams included:
    the exact first instants of a few candidates, where reading everyone would cost seconds."""
    ids = await repo_ids(db, scope)
    users = sorted(set(user_ids))
    teams = [t.lower().split("/", 1) for t in approver_teams if "/" in t]
    people: dict[int, list[Any]] = {}
    for start in range(0, len(users), 500):
        part = users[start:start + 500]
        user_marks = ", ".join("?" * len(part))
        for first in range(0, len(ids), 500):
            chunk = ids[first:first + 500]
            rows = await _tuples(
                db, "SELECT m.user_id, u.login, u.is_bot, m.contact_at, m.pr_at, m.merge_at, m.approver_at"
                " FROM funnel_milestones m JOIN funnel_users u ON u.user_id = m.user_id"
                f" WHERE m.repo_id IN ({', '.join('?' * len(chunk))}) AND m.user_id IN ({user_marks})",
                [*chunk, *part])
            for r in rows:
                _merge(people, r[0], r[1], r[2], r[3:7])
        for org, slug in teams:
            rows = await _tuples(db, "SELECT g.user_id, u.login, u.is_bot, g.at FROM funnel_team_grants g"
                                 " JOIN funnel_users u ON u.user_id = g.user_id WHERE g.org = ? AND g.team = ?"
                                 f" AND g.user_id IN ({user_marks})", (org, slug, *part))
            for r in rows:
                _merge(people, r[0], r[1], r[2], (None, None, None, r[3]))
    return [Contributor(uid, p[0], tuple(p[2]), bool(p[1])) for uid, p in people.items()]  # type: ignore[arg-type]


def merge_contributors(lists: Sequence[Sequence[Contributor]]) -> list[Contributor]:
    """One contributor per user over several scopes: the earliest instant of each stage."""
    people: dict[int, list[Any]] = {}
    for contributors_ in lists:
        for c in contributors_:
            _merge(people, c.user_id, c.login, c.is_bot, c.raw)
    return [Contributor(uid, p[0], tuple(p[2]), bool(p[1])) for uid, p in people.items()]  # type: ignore[arg-type]


def _merge(people: dict[int, list[Any]], uid: int, login: str, is_bot: Any,
           raw: Sequence[int | None]) -> None:
    entry = people.get(uid)
    if entry is None:
        people[uid] = [login, bool(is_bot), list(raw)]
        return
    for i, v in enumerate(raw):
        if v is not None and (entry[2][i] is None or v < entry[2][i]):
            entry[2][i] = v


async def last_report(db: Database, repo: str, before_week: str) -> tuple[str, dict] | None:
    row = await db.fetchone("SELECT week, figures FROM funnel_reports WHERE repo = ? AND week < ?"
                            " ORDER BY week DESC LIMIT 1", (repo, before_week))
    return (row["week"], json.loads(row["figures"])) if row else None


async def report_posted(db: Database, repo: str, week: str) -> bool:
    return await db.fetchval("SELECT 1 FROM funnel_reports WHERE repo = ? AND week = ?",
                             (repo, week)) is not None
