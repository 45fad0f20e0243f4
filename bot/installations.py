"""Which repositories the App is installed on, as GitHub's installation events say.

The periodic jobs (SLA sweep, weekly report, CLA re-checks...) walk ``repo_installations``,
which every delivery naming a repository fills in. Without following the App's own lifecycle
events an uninstalled repository stayed there for good: each job run minted a token for it,
was answered 404 and logged it, forever. So:

- ``installation.deleted``: every repository of the installation is forgotten;
- ``installation_repositories.removed``: those repositories are forgotten;
- ``installation.created`` / ``installation_repositories.added``: the repositories are known
  at once (with their visibility), before any event of theirs arrives, so a job such as the
  weekly report already counts them.

A delivery queued before the removal and processed after it does not bring the repository back
(``state.forget_*`` records when it left). ``installation.suspend`` keeps the repositories but
records the suspension: no token can be minted until ``unsuspend``, so the jobs leave them out
quietly (``Runtime.repo_handles``) instead of failing for each at every run.

Repositories themselves: ``repository.deleted`` forgets one; an archived one (read-only: every
write refused) is left out of the jobs until unarchived, as the ``repository.archived`` field of
the newest delivery naming it says.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

from .core.events import Event
from .store import state
from .store.db import Database

log = logging.getLogger(__name__)

EVENTS = frozenset({"installation", "installation_repositories"})


def _names(repos: Any) -> list[tuple[str, bool | None]]:
    """``(full_name, private)`` of a payload's repository list; entries GitHub would not send
    (no full name) are passed over."""
    out = []
    for repo in repos if isinstance(repos, list) else ():
        name = repo.get("full_name") if isinstance(repo, Mapping) else None
        if isinstance(name, str) and "/" in name:
            private = repo.get("private")
            out.append((name, private if isinstance(private, bool) else None))
    return out


async def follow(db: Database, event: Event, received_at: float) -> None:
    """Apply what a delivery says of the installation or of its repository."""
    if event.repo and event.installation_id:
        await _repository(db, event, int(event.installation_id), received_at)
    if event.name not in EVENTS or not event.installation_id:
        return
    inst, p, action = int(event.installation_id), event.payload, event.payload.get("action")
    if event.name == "installation" and action == "deleted":
        gone = await state.forget_installation(db, inst, at=received_at)
        log.info("installation %d removed: %d repositories forgotten", inst, len(gone))
        return
    if event.name == "installation" and action in ("suspend", "unsuspend"):
        await state.set_suspended(db, inst, action == "suspend", at=received_at)
        log.info("installation %d %sed: the periodic jobs %s its repositories", inst, action,
                 "leave out" if action == "suspend" else "take up again")
        return
    if event.name == "installation":
        added = _names(p.get("repositories")) if action in ("created", "new_permissions_accepted") else []
        removed: list[tuple[str, bool | None]] = []
    else:
        added, removed = _names(p.get("repositories_added")), _names(p.get("repositories_removed"))
    if removed:
        await state.forget_repos(db, inst, (name for name, _ in removed), at=received_at)
        log.info("installation %d: %d repositories removed", inst, len(removed))
    await _remember(db, inst, added, received_at)


async def _remember(db: Database, inst: int, repos: Iterable[tuple[str, bool | None]],
                    received_at: float) -> None:
    for name, private in repos:
        await state.remember_installation(db, name, inst, private, private_at=received_at)


async def _repository(db: Database, event: Event, inst: int, received_at: float) -> None:
    if event.qualified == "repository.deleted":
        await state.forget_repos(db, inst, [event.repo], at=received_at)
        log.info("repository %s deleted: forgotten", event.repo)
        return
    archived = (event.payload.get("repository") or {}).get("archived")
    if isinstance(archived, bool):
        await state.set_archived(db, event.repo, archived, at=received_at)
