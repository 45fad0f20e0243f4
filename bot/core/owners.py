"""Who a repository's OWNERS and CODEOWNERS files name (pure parsing, no I/O).

OWNERS follows Kubernetes/Prow: ``approvers`` and ``reviewers`` lists, either at the
top level or under ``filters: {regex: {...}}``, with names that may be aliases from
``OWNERS_ALIASES`` (``aliases: {name: [logins]}``). CODEOWNERS lines are
``pattern @user @org/team email``. Logins are compared case-insensitively by GitHub, so
everything is lower-cased here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import yaml

# Enterprise Managed Users' logins end in "_SHORTCODE" (as in bot.core.markdown.is_login).
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:_[A-Za-z0-9]{1,20})?")
_TEAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+")
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's search order


@dataclass(frozen=True)
class Owners:
    approvers: frozenset[str] = frozenset()
    reviewers: frozenset[str] = frozenset()
    approver_teams: frozenset[str] = frozenset()   # "org/slug", lower case
    problems: tuple[str, ...] = field(default=(), compare=False)


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip().lstrip("@").lower() for v in value if isinstance(v, (str, int))]
    return []


def parse_aliases(text: str | None) -> tuple[dict[str, list[str]], list[str]]:
    if not text:
        return {}, []
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        return {}, [f"OWNERS_ALIASES is not valid YAML: {exc}"]
    aliases = data.get("aliases") if isinstance(data, dict) else None
    if not isinstance(aliases, dict):
        return {}, []
    return {str(k).lower(): _names(v) for k, v in aliases.items()}, []


def _expand(names: Iterable[str], aliases: dict[str, list[str]]) -> frozenset[str]:
    out: set[str] = set()
    for name in names:
        out.update(aliases.get(name, [name]))
    return frozenset(n for n in out if _LOGIN.fullmatch(n))


def parse_owners(text: str | None, aliases: dict[str, list[str]] | None = None) -> Owners:
    if not text:
        return Owners()
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        return Owners(problems=(f"OWNERS is not valid YAML: {exc}",))
    if not isinstance(data, dict):
        return Owners(problems=("OWNERS is not a mapping",))
    blocks = [data]
    filters = data.get("filters")
    if isinstance(filters, dict):
        blocks += [b for b in filters.values() if isinstance(b, dict)]
    approvers: list[str] = []
    reviewers: list[str] = []
    for block in blocks:
        approvers += _names(block.get("approvers"))
        reviewers += _names(block.get("reviewers"))
    aliases = aliases or {}
    return Owners(approvers=_expand(approvers, aliases), reviewers=_expand(reviewers, aliases))


def parse_codeowners(text: str | None) -> Owners:
    users: set[str] = set()
    teams: set[str] = set()
    for raw in (text or "").splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("\\#") else raw.strip()
        parts = line.split()
        for owner in parts[1:]:
            if not owner.startswith("@"):
                continue  # an e-mail address: not resolvable to a login here
            name = owner[1:].lower()
            if _TEAM.fullmatch(name):
                teams.add(name)
            elif _LOGIN.fullmatch(name):
                users.add(name)
    return Owners(approvers=frozenset(users), approver_teams=frozenset(teams))
