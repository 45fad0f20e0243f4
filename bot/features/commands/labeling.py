"""/label, /remove-label, /priority and /triage.

/label only adds labels the repository already has (GitHub would otherwise create any
name typed). Removal is limited to labels the bot added (the executor's ledger), so a
label put by hand is never taken away by a comment. All or nothing: when one name is
wrong, nothing changes and the reply says why.
"""
from __future__ import annotations

from typing import Sequence

from ...context import Context
from ...core.actions import Action, AddLabels, Close, Comment, RemoveLabel
from ...core.events import Event
from ...github.errors import PermanentGitHubError
from ..base import CommandSpec, Invocation
from . import common
from .common import shown
from .errors import CommandError

MAX_LABELS = 10


async def _repo_label(ctx: Context, name: str) -> str | None:
    """The label's name as the repository spells it, or None if it has no such label."""
    owner, repo = ctx.repo.split("/", 1)
    try:
        data = await ctx.gh.getitem("/repos/{owner}/{repo}/labels/{name}",
                                    {"owner": owner, "repo": repo, "name": name})
    except PermanentGitHubError as exc:
        if exc.status == 404:
            return None
        raise
    return str(data.get("name") or name)


async def label(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    if not inv.args:
        raise CommandError("name at least one label: `/label NAME ...`")
    if len(inv.args) > MAX_LABELS:
        raise CommandError(f"at most {MAX_LABELS} labels at a time")
    found: list[str] = []
    missing: list[str] = []
    for name in dict.fromkeys(inv.args):
        real = await _repo_label(ctx, name) if name else None
        (found if real else missing).append(real or name)
    if missing:
        raise CommandError("this repository has no label " + ", ".join(shown(m) for m in missing)
                           + "; nothing was changed")
    new = tuple(n for n in found if not common.has_label(event, n))
    return [AddLabels(repo=ctx.repo, number=common.number(event), labels=new)] if new else []


async def label_removals(ctx: Context, event: Event, names: Sequence[str], *,
                         strict: bool) -> list[Action]:
    """RemoveLabel for each name on the item. ``strict``: a name the bot may not remove
    (absent, or added by a person) is an error; otherwise it is skipped."""
    bot_added = await common.bot_added(ctx, event)
    on_item = {n.lower(): n for n in common.item_labels(event)}
    actions: list[Action] = []
    for name in dict.fromkeys(names):
        real = on_item.get(name.lower())
        if real is None:
            if strict:
                raise CommandError(f"{shown(name)} is not on this item; nothing was changed")
            continue
        if real.lower() not in bot_added:
            if strict:
                raise CommandError(f"{shown(real)} was not added by me, and I only remove labels I "
                                   "added; please remove it by hand. Nothing was changed")
            continue
        actions.append(RemoveLabel(repo=ctx.repo, number=common.number(event), label=real))
    return actions


async def remove_label(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    if not inv.args:
        raise CommandError("name at least one label: `/remove-label NAME ...`")
    return await label_removals(ctx, event, inv.args[:MAX_LABELS], strict=True)


async def _set_exclusive(ctx: Context, event: Event, wanted: str, family: Sequence[str]) -> list[Action]:
    """Add ``wanted`` and take off the other labels of its family that the bot added."""
    others = [n for n in common.item_labels(event)
              if n.lower() != wanted.lower() and n.lower() in {f.lower() for f in family}]
    actions = await label_removals(ctx, event, others, strict=False)
    if not common.has_label(event, wanted):
        actions.insert(0, AddLabels(repo=ctx.repo, number=common.number(event), labels=(wanted,)))
    return actions


async def priority(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    rules = common.rules(ctx)
    allowed = list(rules["priorities"])
    if len(inv.args) != 1 or inv.args[0].lower() not in {p.lower() for p in allowed}:
        raise CommandError("use `/priority " + "|".join(allowed) + "`")
    name = next(p for p in allowed if p.lower() == inv.args[0].lower())
    prefix = rules["priority_prefix"]
    family = [prefix + p for p in allowed]
    return await _set_exclusive(ctx, event, prefix + name, family)


async def triage(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    rules = common.rules(ctx)
    states: dict = rules["triage"]
    usage = "use `/triage " + "|".join(states) + "` (duplicate needs the original: `/triage duplicate #N`)"
    if not inv.args or inv.args[0].lower() not in states:
        raise CommandError(usage)
    state = inv.args[0].lower()
    conf = states[state]
    original: int | None = None
    if state == "duplicate":
        arg = inv.args[1] if len(inv.args) == 2 else ""
        if not (arg.startswith("#") and arg[1:].isdigit()) or int(arg[1:]) == common.number(event):
            raise CommandError("name the original issue: `/triage duplicate #N`")
        original = int(arg[1:])
    elif len(inv.args) != 1:
        raise CommandError(usage)
    n = common.number(event)
    family = [s["label"] for s in states.values()]
    actions = await _set_exclusive(ctx, event, conf["label"], family)
    actions += await label_removals(ctx, event, rules["triage_clears"], strict=False)
    if original is not None:
        # GitHub marks an issue as a duplicate from this exact phrase in a comment.
        actions.append(Comment(repo=ctx.repo, number=n, body=f"Duplicate of #{original}"))
    if conf["close"] != "no" and common.is_open(event):
        actions.append(Close(repo=ctx.repo, number=n, reason=conf["close"]))
    return actions


COMMANDS = (
    CommandSpec("label", "/label NAME ...", "Adds existing labels (quote names with spaces).",
                ("triager", "maintainer"), label),
    CommandSpec("remove-label", "/remove-label NAME ...",
                "Removes labels (only those the bot added).", ("triager", "maintainer"), remove_label),
    CommandSpec("priority", "/priority NAME", "Sets the priority label, replacing the previous one.",
                ("triager", "maintainer"), priority),
    CommandSpec("triage", "/triage accepted|needs-info|duplicate #N|wontfix",
                "Records the triage decision (label; duplicate and wontfix close the issue).",
                ("triager", "maintainer"), triage),
)
