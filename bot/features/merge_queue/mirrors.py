"""Which of the bot's pull-request checks a merge group gets, and with what verdict.

Each check belongs to a feature, which exports the names it reports and a read of the verdict
it holds (``check_names`` / ``held_check`` / ``held_checks`` / ``held_at``); this module only
puts them together. A check counts as reported on the queued pull request when the executor
reported it on the pull request's head, or when its feature holds a verdict for the pull
request (the CLA's, whatever head it is for: a verdict for another head is a failure here).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable, Mapping, Sequence

from ...context import GitHubReader
from ...core.actions import Action
from ...core.merge_group import Ahead, GroupCheck, HeldCheck, Pull, behind, decide
from ...store import state
from ...store.db import Database
from .. import cla, config_check, patch_pipeline


@dataclass
class Env:
    repo: str
    rules: Any
    db: Database
    group_sha: str
    gh: GitHubReader | None = None   # None: decide from the store only (a periodic job)
    clock: Callable[[], datetime] | None = None   # the deciding event's clock, with ``gh``
    # What the features learned deciding (their HeldChecks' records), for the caller to return.
    learned: list[Action] = field(default_factory=list)


Held = Callable[[Env, Pull], Awaitable[dict[str, HeldCheck]]]


@dataclass(frozen=True)
class Mirror:
    names: Callable[[Any], tuple[str, ...]]
    held: Held
    # Decided again from GitHub for the group's own commit (once, when its checks are requested)
    # rather than read from the store (and then followed while the group is queued).
    asks_github: bool = False


async def _cla(env: Env, pull: Pull) -> dict[str, HeldCheck]:
    names = cla.check_names(env.rules)
    if not names:
        return {}
    # GitHub, where there is one, answers organisation and team memberships as the pull
    # request's re-check would ask them; the answers are kept (the HeldCheck's records), so the
    # follow job, reading the store alone, says the same (see cla.standing). So is who opened
    # the pull request, for a verdict recorded without them: read with the pull request. One
    # that cannot be weighed again gets the pull request checked again (its actions are the
    # records then).
    held = await cla.held_check(env.db, env.repo, env.rules.section("cla"), pull.number, gh=env.gh,
                                opener=pull.opener if env.gh is not None else None, clock=env.clock)
    return {names[0]: held} if held is not None else {}


async def _config(env: Env, pull: Pull) -> dict[str, HeldCheck]:
    assert env.gh is not None
    path = env.rules.section("core")["config_path"]
    return {config_check.CHECK_NAME: await config_check.held_at(env.gh, env.repo, path, env.group_sha)}


async def _patches(env: Env, pull: Pull) -> dict[str, HeldCheck]:
    return await patch_pipeline.held_checks(env.db, env.repo, pull.head_sha, env.rules.section("pipeline"))


MIRRORS: tuple[Mirror, ...] = (
    Mirror(cla.check_names, _cla),
    Mirror(config_check.check_names, _config, asks_github=True),
    Mirror(patch_pipeline.check_names, _patches),
)


def all_names(rules: Any, mirrors: Sequence[Mirror] = MIRRORS) -> list[str]:
    return [name for m in mirrors for name in m.names(rules)]


async def group_checks(env: Env, pull: Pull, *, ahead: Mapping[str, Ahead] | None = None,
                       mirrors: Sequence[Mirror] = MIRRORS) -> list[GroupCheck]:
    """The group checks for an identified, usable pull request. Without GitHub (``env.gh`` None)
    only the checks read from the store are decided. ``ahead``: what the group this one is
    stacked on reported, by name; a check carried from the pull request passes only when it
    passes there too (one decided on the group's own commit already holds what is ahead)."""
    on_head = await state.check_names_on(env.db, env.repo, pull.head_sha)
    found: dict[str, HeldCheck | None] = {}
    followed: set[str] = set()
    for mirror in mirrors:
        names = mirror.names(env.rules)
        if not names:
            continue
        if mirror.asks_github:
            if env.gh is None or not any(n in on_head for n in names):
                continue
        else:
            followed.update(names)
        held = await mirror.held(env, pull)
        env.learned += [record for h in held.values() for record in h.records]
        for name in names:
            if name in held or name in on_head:
                found[name] = held.get(name)
    checks = decide(pull, found, frozenset(followed))
    return [behind(c, (ahead or {}).get(c.name), pull.number) if c.name in followed else c for c in checks]
