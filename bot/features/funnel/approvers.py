"""Who the approver files name, read through a GitHub reader, as user ids.

Used by the live recorder (a push that changed OWNERS or CODEOWNERS) and the backfill
(the same files at each commit that changed them).
"""
from __future__ import annotations

import logging
import posixpath
from typing import Any, Iterable, Mapping

from ...core.owners import parse_codeowners, parse_owners
from ...github.urls import file_path
from ...store.db import Database

log = logging.getLogger("bot.funnel")
RAW = "application/vnd.github.raw"


def is_owners_file(path: str, section: Mapping[str, Any]) -> bool:
    return posixpath.basename(path) in section["owners_files"]


def is_codeowners_file(path: str, section: Mapping[str, Any]) -> bool:
    return path in section["codeowners_files"]


def approver_paths(paths: Iterable[str], section: Mapping[str, Any]) -> list[str]:
    return sorted({p for p in paths if is_owners_file(p, section) or is_codeowners_file(p, section)})


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status", None) or getattr(exc, "status_code", None)


async def names_in(gh: Any, repo: str, path: str, ref: str, section: Mapping[str, Any]
                   ) -> tuple[set[str], set[str]]:
    """(logins, org/team slugs) named as approvers by ``path`` at ``ref``; empty if absent."""
    owner, name = repo.split("/", 1)
    try:
        text = await gh.get_text("/repos/{owner}/{repo}/contents/{+path}{?ref}",
                                 {"owner": owner, "repo": name, "path": file_path(path), "ref": ref}, accept=RAW)
    except Exception as exc:
        if _status(exc) in (404, 403):
            return set(), set()
        raise
    parsed = parse_owners(text) if is_owners_file(path, section) else parse_codeowners(text)
    return set(parsed.approvers), set(parsed.approver_teams)


async def team_members(gh: Any, team: str) -> list[Mapping[str, Any]]:
    org, slug = team.split("/", 1)
    try:
        return [m async for m in gh.getiter("/orgs/{org}/teams/{team_slug}/members{?per_page}",
                                            {"org": org, "team_slug": slug, "per_page": 100})]
    except Exception as exc:
        if _status(exc) in (404, 403):
            log.warning("team %s unreadable: %s", team, exc)
            return []
        raise


async def resolve(db: Database, gh: Any, logins: Iterable[str]) -> dict[str, tuple[int, str]]:
    """login (lower case) -> (user id, login): from the stored users, else the API."""
    wanted = sorted({l.lower() for l in logins})
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(wanted), 200):
        chunk = wanted[start:start + 200]
        # Logins change hands: two stored users may hold the same name, the one who renamed
        # away still under it. The name belongs to the one last seen with it (oldest first,
        # so the newest is written last).
        rows = await db.fetchall(
            f"SELECT user_id, login FROM funnel_users WHERE lower(login) IN ({', '.join('?' * len(chunk))})"
            " ORDER BY seen_at, user_id", chunk)
        found.update({r["login"].lower(): (int(r["user_id"]), r["login"]) for r in rows})
    for login in wanted:
        if login in found:
            continue
        try:
            user = await gh.getitem("/users/{username}", {"username": login})
        except Exception as exc:
            if _status(exc) == 404:
                continue  # a name that is no account (typo, alias without a definition)
            raise
        found[login] = (int(user["id"]), str(user["login"]))
    return found


async def approver_ids(db: Database, gh: Any, repo: str, paths: Iterable[str], ref: str,
                       section: Mapping[str, Any]) -> dict[int, tuple[str, str]]:
    """user id -> (login, source) for everyone the files name at ``ref`` (teams expanded)."""
    out: dict[int, tuple[str, str]] = {}
    for path in paths:
        source = "owners" if is_owners_file(path, section) else "codeowners"
        logins, teams = await names_in(gh, repo, path, ref, section)
        for team in sorted(teams):
            for m in await team_members(gh, team):
                out.setdefault(int(m["id"]), (str(m["login"]), source))
        for uid, login in (await resolve(db, gh, logins)).values():
            out.setdefault(uid, (login, source))
    return out
