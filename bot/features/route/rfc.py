"""``/rfc review|accept|reject|postpone``: move a feature request through the RFC states,
updating its labels and its board status."""
from __future__ import annotations

from typing import Sequence

from ...context import Context
from ...core.actions import Action, AddLabels, Close, Note, RemoveLabel
from ...core.events import Event
from ...store.db import Database
from ...store.state import bot_labels
from ..base import CommandSpec, Invocation
from ..commands.errors import CommandError
from . import store
from .plan import FEATURE, board_actions, rfc_record

VERBS = {"review": "review", "accept": "accepted", "reject": "rejected", "postpone": "postponed"}


def rfc_board(section) -> dict:
    """The RFC board: ``rfc.board`` when set, else the board of the first RFC route."""
    if section["rfc"]["board"]["number"]:
        return section["rfc"]["board"]
    for spec in (section.get("routes") or {}).values():
        if spec["rfc"] and spec["board"]["number"]:
            return spec["board"]
    return section["rfc"]["board"]


async def plan_rfc(verb: str, event: Event, ctx: Context) -> list[Action]:
    if verb not in VERBS:
        raise CommandError(f"`/rfc` takes one of: {', '.join(VERBS)}.")
    section = ctx.rules.section("routing")
    rfc = section["rfc"]
    issue = event.payload.get("issue") or {}
    repo, number = ctx.repo, int(issue["number"])
    state = VERBS[verb]
    known = await store.rfc(ctx.db, repo, number)
    rfc_labels = {label.casefold(): name for name, label in rfc["labels"].items()}
    present = [label["name"] for label in issue.get("labels") or []]
    if known is None and not any(label.casefold() in rfc_labels for label in present):
        raise CommandError("This issue is not an RFC (it has no RFC label); classify it as a feature request first.")
    if known is not None and known["state"] == state:
        raise CommandError(f"This RFC is already {state}.")
    actions: list[Action] = []
    label = rfc["labels"].get(state)
    if label and label.casefold() not in {p.casefold() for p in present}:
        actions.append(AddLabels(repo, number=number, labels=(label,)))
    ours = {name.casefold() for name in await bot_labels(ctx.db, repo, number)}
    kept = []
    for existing in present:
        if existing.casefold() in rfc_labels and existing.casefold() != (label or "").casefold():
            if existing.casefold() in ours:
                actions.append(RemoveLabel(repo, number=number, label=existing))
            else:
                kept.append(existing)  # a human put it there: only a human takes it off
    status = rfc["statuses"].get(state, "")
    actions += await board_actions(ctx, repo, number, rfc_board(section), status, section)
    if state in rfc["close_on"] and issue.get("state") == "open":
        actions.append(Close(repo, number=number, reason="not_planned"))
    actions.append(rfc_record(repo, number, state, issue, known))
    note = f"RFC {state} by @{event.sender_login}"
    if kept:
        note += f"; left labels a human added: {', '.join(kept)}"
    actions.append(Note(repo, feature=FEATURE, number=number, text=note))
    return actions


async def rfc_command(inv: Invocation, event: Event, ctx: Context) -> Sequence[Action]:
    if len(inv.args) != 1:
        raise CommandError(f"Usage: /rfc {'|'.join(VERBS)}")
    return await plan_rfc(inv.args[0].lower(), event, ctx)


def _label_on_issue(event: Event) -> tuple[dict, str] | None:
    """(issue, label name) of a labeled/unlabeled event on an issue (not a PR), else None."""
    issue = event.payload.get("issue") or {}
    label = str((event.payload.get("label") or {}).get("name") or "")
    return None if not issue or issue.get("pull_request") or not label else (issue, label)


async def on_rfc_label(event: Event, ctx: Context) -> list[Action]:
    """A maintainer put an RFC state label on an issue by hand: the RFC record and the
    board status follow, so the weekly agenda lists what people moved without ``/rfc``.
    The labels are left as the person set them."""
    if (found := _label_on_issue(event)) is None:
        return []
    issue, label = found
    section = ctx.rules.section("routing")
    rfc = section["rfc"]
    state = next((s for s, name in rfc["labels"].items() if name and name.casefold() == label.casefold()), None)
    if state is None:
        return []
    repo, number = ctx.repo, int(issue["number"])
    known = await store.rfc(ctx.db, repo, number)
    if known is not None and known["state"] == state:
        return []
    author = (issue.get("user") or {}).get("login")
    if "maintainer" not in await ctx.roles_of(event.sender_login, item_author=author):
        return []
    actions = await board_actions(ctx, repo, number, rfc_board(section), rfc["statuses"].get(state, ""), section)
    return actions + [
        rfc_record(repo, number, state, issue, known),
        Note(repo, feature=FEATURE, number=number, text=f"RFC {state}: label {label} added by @{event.sender_login}"),
    ]


async def on_rfc_unlabel(event: Event, ctx: Context) -> list[Action]:
    """A maintainer took off the label of the RFC's state (``rfc/review`` ...): the RFC is
    back to draft, off the weekly agenda, and its board status follows. As with adding
    one, only a maintainer's change moves the RFC; the labels stay as the person left them."""
    if (found := _label_on_issue(event)) is None:
        return []
    issue, label = found
    section = ctx.rules.section("routing")
    rfc = section["rfc"]
    repo, number = ctx.repo, int(issue["number"])
    known = await store.rfc(ctx.db, repo, number)
    state = known["state"] if known is not None else None
    if state in (None, "draft", "withdrawn") or (rfc["labels"].get(state) or "").casefold() != label.casefold():
        return []
    who = event.sender_login
    if "maintainer" not in await ctx.roles_of(who, item_author=(issue.get("user") or {}).get("login")):
        return [Note(repo, feature=FEATURE, number=number,
                     text=f"label {label} removed by @{who}, not a maintainer: the RFC stays {state}")]
    actions = await board_actions(ctx, repo, number, rfc_board(section), rfc["statuses"].get("draft", ""), section)
    return actions + [
        rfc_record(repo, number, "draft", issue, known),
        Note(repo, feature=FEATURE, number=number, text=f"RFC back to draft: label {label} removed by @{who}"),
    ]


async def moved_on(db: Database, repo: str, number: int) -> str | None:
    """The state of an RFC a maintainer has moved on from draft (review, accepted, rejected,
    postponed), else None. From then on only maintainers change the issue's kind."""
    known = await store.rfc(db, repo, number)
    return known["state"] if known is not None and known["state"] not in ("draft", "withdrawn") else None


async def undone_by_kind(ctx: Context, repo: str, number: int, kind: str) -> str | None:
    """The state of the RFC that making the issue ``kind`` would undo: one moved on from
    draft, unless the issue is already routed as an RFC of that very kind (nothing changes)."""
    state = await moved_on(ctx.db, repo, number)
    if state is None:
        return None
    routes = ctx.rules.section("routing").get("routes") or {}
    if (routes.get(kind) or {}).get("rfc") and any(r["kind"] == kind for r in await store.routings(ctx.db, repo, number)):
        return None
    return state


COMMANDS = (
    CommandSpec(name="rfc", usage="/rfc review|accept|reject|postpone",
                help="Move this RFC: to review (listed on the weekly agenda), accepted, rejected or postponed.",
                roles=("maintainer",), handler=rfc_command, on_prs=False),
)
