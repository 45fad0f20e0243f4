"""Which deliveries say that what GitHub grants people changed, and on which repositories.

Roles are cached for a few minutes per replica (bot/permissions.py). Each replica keys them by
an "access generation" kept in the store per repository and per owner (see
store/access.py): a delivery saying access changed moves the generation of the repositories
it may affect, and every replica's next delivery or job there reads the new one, so no
replica goes on with roles cached before the change, whichever of them got the webhook.

Scopes. A ``member`` event names one repository (and one user: the whole repository is
dropped, one permission look-up per person asking again). A team taken off or put on one
repository affects that repository. A team's membership, a team deleted or edited (its slug
is what the rules' ``teams`` lists name), or somebody leaving or joining the organisation
may change roles on every repository of the organisation: its owner scope moves. A transfer
gives the repository another owner and other people. A push to the default branch changing
OWNERS, OWNERS_ALIASES or CODEOWNERS changes who is approver or triager there; one changing
the rules file may change its role lists (``commands.roles``), and the generation also tells
the other replicas to read the rules again (rules/repo.py), not after their cache's minute.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .events import Event
from .owners import CODEOWNERS_PATHS

# Event -> the actions that change access (those GitHub sends that do not are left out:
# ``team.created`` has no members or repositories yet, ``organization.member_invited`` grants
# nothing until accepted, which ``member_added`` says).
_CHANGING = {
    "member": frozenset({"added", "removed", "edited"}),
    "membership": frozenset({"added", "removed"}),
    "team": frozenset({"added_to_repository", "removed_from_repository", "edited", "deleted"}),
    "organization": frozenset({"member_added", "member_removed"}),
    "repository": frozenset({"transferred"}),
}
# The events the core itself hears for this (the App's manifest must subscribe to them).
EVENTS = frozenset(_CHANGING)
OWNER_FILES = ("OWNERS", "OWNERS_ALIASES", *CODEOWNERS_PATHS)


def repo_scope(repo: str) -> str:
    return f"repo:{repo.lower()}"  # GitHub's names are case-insensitive


def owner_scope(owner: str) -> str:
    return f"owner:{owner.lower()}"


def scopes_of(repo: str) -> tuple[str, str]:
    """The two scopes whose generations key the roles cached on ``repo``."""
    return repo_scope(repo), owner_scope(repo.partition("/")[0])


def generation_of(repo: str, known: Mapping[str, int]) -> tuple[int, int]:
    """``repo``'s generation from the generations stored (missing: never moved, 0)."""
    return tuple(int(known.get(scope, 0)) for scope in scopes_of(repo))  # type: ignore[return-value]


def changed_scopes(event: Event, config_path: str | None = None) -> tuple[str, ...]:
    """The scopes whose cached roles ``event`` makes stale (none for most events).
    ``config_path``: the repository's rules file, whose role lists grant roles too."""
    if event.name == "push":
        files = (*OWNER_FILES, config_path) if config_path else OWNER_FILES
        return (repo_scope(event.repo),) if event.repo and touches_default_branch(event, files) else ()
    if event.action not in _CHANGING.get(event.name, ()):
        return ()
    org = str((event.payload.get("organization") or {}).get("login") or "")
    if event.name in ("member", "repository") or (event.name == "team" and event.repo):
        # A team event names a repository when it is about that repository's access only.
        return (repo_scope(event.repo),) if event.repo else ()
    return (owner_scope(org),) if org else ()


def touches_default_branch(event: Event, paths: Iterable[str]) -> bool:
    """A push to the default branch that changed one of ``paths`` (or whose commit list is not
    one GitHub would send: then it may have)."""
    if event.name != "push":
        return False
    repo = event.payload.get("repository") or {}
    if event.payload.get("ref") != f"refs/heads/{repo.get('default_branch')}":
        return False
    wanted = set(paths)
    commits: Any = event.payload.get("commits")
    if not isinstance(commits, list):
        return True
    for c in commits:
        lists = [c.get(k) for k in ("added", "modified", "removed")] if isinstance(c, dict) else [None]
        if not all(isinstance(names, list) for names in lists) or any(n in wanted for names in lists for n in names if isinstance(n, str)):
            return True
    return False
