"""Roles of a GitHub user on a repository, decided from GitHub and the rules, never from
what a comment claims.

Every feature asks through ``ctx.roles_of(login, item_author=...)``; the answer is a
frozenset among ``anyone, author, triager, maintainer, approver``:

- ``anyone`` always; ``author`` when ``login`` is the item's author;
- the ``commands.roles.<role>.logins`` / ``.teams`` lists of the rules;
- OWNERS (+ OWNERS_ALIASES) approvers -> approver, reviewers -> triager, read from the
  default branch; a CODEOWNERS owner (user or team member) -> approver only with write
  access or above, as GitHub itself ignores code owners without it;
- the collaborator permission endpoint: admin/maintain -> maintainer, write ->
  maintainer (or triager when ``write_access_is_maintainer`` is false), triage -> triager;
- ``maintainer`` implies ``triager``.

What GitHub grants a login is cached per (repo, login) in the TTL cache the caller
owns (cachetools.TTLCache), the parsed owner files per repo; failures are not cached.
Both are keyed by the repository's access ``generation`` too, which the caller reads from
the store once per delivery or job: a delivery saying access changed moves it (see
core/access.py), so older answers stop being used on every replica at once.
"""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Hashable, Mapping, MutableMapping

from .context import GitHubReader, RoleLookup
from .core.owners import CODEOWNERS_PATHS, Owners, parse_aliases, parse_codeowners, parse_owners
from .github.urls import file_path

log = logging.getLogger(__name__)

ANYONE, AUTHOR, TRIAGER, MAINTAINER, APPROVER = "anyone", "author", "triager", "maintainer", "approver"
ALL_ROLES = (ANYONE, AUTHOR, TRIAGER, MAINTAINER, APPROVER)

_RAW = "application/vnd.github.raw"


def _status(exc: BaseException) -> int | None:
    """HTTP status of a GitHub error, whichever client raised it."""
    for attr in ("status", "status_code"):
        value = getattr(exc, attr, None)
        if value is not None:
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
    return None


def has_write_access(data: Mapping[str, Any]) -> bool:
    """Whether the collaborator permission answer grants write or above: derived from
    ``role_from_permission`` (write counted as maintainer), so the two cannot disagree."""
    return MAINTAINER in role_from_permission(data, write_is_maintainer=True)


def role_from_permission(data: Mapping[str, Any], *, write_is_maintainer: bool) -> set[str]:
    """Roles from the collaborator permission answer. ``role_name`` is precise
    (admin, maintain, write, triage, read, or a custom role); ``permission`` folds
    maintain into write and triage into read, so it is only the fallback."""
    role_name = str(data.get("role_name") or "").lower()
    permission = str(data.get("permission") or "").lower()
    if role_name in ("admin", "maintain") or permission == "admin":
        return {MAINTAINER}
    if role_name == "write" or (role_name not in ("triage", "read") and permission == "write"):
        return {MAINTAINER} if write_is_maintainer else {TRIAGER}
    if role_name == "triage":
        return {TRIAGER}
    return set()


class _Resolver:
    """One resolution of what GitHub grants one login (uncached; the lookup caches)."""

    def __init__(self, gh: GitHubReader, repo: str, rules: Mapping[str, Any],
                 cache: MutableMapping[Any, Any], generation: Hashable = ()) -> None:
        self.gh = gh
        self.repo = repo
        # Events without a repository (ping, installation) get a lookup too: never asked.
        self.owner, _, self.name = repo.partition("/")
        self.rules = rules
        self.cache = cache
        self.generation = generation

    async def granted(self, login: str) -> frozenset[str]:
        lower = login.lower()
        roles: set[str] = set()
        for role, source in (self.rules.get("roles") or {}).items():
            if lower in {str(x).lower() for x in source.get("logins") or ()}:
                roles.add(role)
            elif await self._in_any_team(login, source.get("teams") or ()):
                roles.add(role)
        permission = await self._permission(login)
        if self.rules.get("owners_files", True):
            owners, code_owners = await self.owners()
            if lower in owners.approvers or await self._in_any_team(login, owners.approver_teams):
                roles.add(APPROVER)
            if lower in owners.reviewers:
                roles.add(TRIAGER)
            # Without write access nobody is a code owner on GitHub; asking first also
            # spares a stranger one team lookup per CODEOWNERS team.
            if has_write_access(permission) and (
                    lower in code_owners.approvers
                    or await self._in_any_team(login, code_owners.approver_teams)):
                roles.add(APPROVER)
        roles |= role_from_permission(permission, write_is_maintainer=bool(
            self.rules.get("write_access_is_maintainer", True)))
        if MAINTAINER in roles:
            roles.add(TRIAGER)
        return frozenset(roles)

    async def _permission(self, login: str) -> Mapping[str, Any]:
        try:
            data = await self.gh.getitem("/repos/{owner}/{repo}/collaborators/{username}/permission",
                                         {"owner": self.owner, "repo": self.name, "username": login})
        except Exception as exc:
            if _status(exc) == 404:  # not a user (or a ghost): no access
                return {}
            raise
        return data or {}

    async def _in_any_team(self, login: str, teams: Any) -> bool:
        for team in teams:
            org, _, slug = str(team).rpartition("/")
            if await self._in_team(org or self.owner, slug, login):
                return True
        return False

    async def _in_team(self, org: str, slug: str, login: str) -> bool:
        try:
            data = await self.gh.getitem("/orgs/{org}/teams/{team_slug}/memberships/{username}",
                                         {"org": org, "team_slug": slug, "username": login})
        except Exception as exc:
            status = _status(exc)
            if status == 404:
                return False
            if status == 403:  # the App may lack members:read; a role cannot come from there
                log.warning("cannot read membership of team %s/%s (403); check the App's "
                            "organization members permission", org, slug)
                return False
            raise
        return (data or {}).get("state") == "active"

    async def owners(self) -> tuple[Owners, Owners]:
        """(OWNERS with its aliases, CODEOWNERS): the latter count only with write access."""
        key = ("owners-files", self.repo, self.generation)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        aliases, problems = parse_aliases(await self._file("OWNERS_ALIASES"))
        owners = parse_owners(await self._file("OWNERS"), aliases)
        code_owners = Owners()
        for path in CODEOWNERS_PATHS:
            text = await self._file(path)
            if text is not None:
                code_owners = parse_codeowners(text)
                break
        for problem in (*problems, *owners.problems, *code_owners.problems):
            log.warning("%s: %s", self.repo, problem)
        self.cache[key] = (owners, code_owners)
        return owners, code_owners

    async def _file(self, path: str) -> str | None:
        """A file of the default branch, or None when absent."""
        try:
            return await self.gh.get_text("/repos/{owner}/{repo}/contents/{+path}",
                                          {"owner": self.owner, "repo": self.name, "path": file_path(path)},
                                          accept=_RAW)
        except Exception as exc:
            if _status(exc) == 404:
                return None
            raise


def _fingerprint(rules: Mapping[str, Any]) -> str:
    """The part of the rules that decides roles: a changed override must not hit the cache."""
    relevant = {k: rules.get(k) for k in ("roles", "owners_files", "write_access_is_maintainer")}
    return hashlib.sha1(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:12]


def make_role_lookup(gh_reader: GitHubReader, repo: str, rules_section: Mapping[str, Any],
                     cache: MutableMapping[Any, Any], generation: Hashable = ()) -> RoleLookup:
    """``roles_of(login, item_author=None) -> frozenset[str]`` for one repository.

    ``rules_section`` is the repository's ``commands`` section (plain dict); ``cache`` is a
    long-lived TTL cache shared across deliveries (e.g. ``TTLCache(4096, ttl=300)``);
    ``generation`` the repository's access generation as the store has it now (answers
    cached under another one are not used)."""
    resolver = _Resolver(gh_reader, repo, rules_section, cache, generation)
    fingerprint = _fingerprint(rules_section)

    async def roles_of(login: str, *, item_author: str | None = None) -> frozenset[str]:
        roles = {ANYONE}
        if item_author and login and login.lower() == item_author.lower():
            roles.add(AUTHOR)
        if not login:
            return frozenset(roles)
        key = ("roles", repo, login.lower(), fingerprint, generation)
        granted = cache.get(key)
        if granted is None:
            granted = await resolver.granted(login)
            cache[key] = granted
        return frozenset(roles | granted)

    return roles_of
