"""Webhook handlers: classify on opened / edited / reopened (a transferred issue arrives in
its new repository as opened); a human's change of a kind label overrides the bot."""
from __future__ import annotations

from typing import Any, Mapping

from ...context import Context
from ...core.actions import Action, Note, Record
from ...core.events import Event
from ...store.state import bot_added
from ..route.plan import route
from ..route.rfc import moved_on
from . import store
from .commands import kind_in_new_body
from .decide import FEATURE, apply_bot_decision, apply_human_kind, bot_decision, refused_by_rfc, rules_of


async def on_issue(event: Event, ctx: Context) -> list[Action]:
    issue = event.payload.get("issue")
    if not issue or issue.get("pull_request") or issue.get("state") == "closed":
        return []
    repo, number = ctx.repo, int(issue["number"])
    previous = await store.item(ctx.db, repo, number)
    if previous and previous["source"] in ("human", "removed"):
        # A human's word wins. Given while the issue was closed, it is routed on reopening
        # (routing is done once per kind: nothing again for an issue routed before). A
        # maintainer who took the kind label off has taken the kind into their hands too:
        # no other guess, no question to the author, until a person gives a kind.
        if event.action == "reopened" and previous["kind"]:
            return await route(previous["kind"], repo, issue, ctx)
        return []
    if previous and await moved_on(ctx.db, repo, number):
        return []  # a maintainer moved its RFC on (/rfc review...): that settles it as a feature
    came_from = event.transferred_from
    if came_from and not previous:
        carried = await _kind_from_old_home(ctx, issue, *came_from)
        if carried:
            return carried
    if event.action == "edited" and await _human_kind_label(ctx, repo, issue):
        return []  # someone set a kind label by hand before the bot decided anything
    if event.action == "opened" and (said := await kind_in_new_body(event, ctx)):
        return [Note(repo, feature=FEATURE, number=number,
                     text=f"not classified: the author's /kind {said} in the issue decides")]
    decision = await bot_decision(ctx, repo, issue)
    if previous and previous.get("kind") == decision.kind and event.action == "edited":
        return []  # nothing changed that matters (still the same kind, or still asked)
    return await apply_bot_decision(ctx, repo, issue, decision, previous)


async def _kind_from_old_home(ctx: Context, issue: Mapping[str, Any], old_repo: str, old_number: int) -> list[Action]:
    """The kind a human gave the issue before its transfer still stands (if this repository
    has that kind): the author is not asked again."""
    said = await store.human_kind(ctx.db, old_repo, old_number)
    _, rules = rules_of(ctx)
    number = int(issue["number"])
    if said is None:
        return await _removal_from_old_home(ctx, number, old_repo, old_number)
    if rules.label_of(said["kind"]) is None:
        return []
    return [Note(ctx.repo, feature=FEATURE, number=number,
                 text=f"transferred from {old_repo}#{old_number}, where @{said['who']} said {said['kind']}"),
            *await apply_human_kind(ctx, ctx.repo, issue, said["kind"], said["who"], said["how"], add_label=True)]


async def _removal_from_old_home(ctx: Context, number: int, old_repo: str, old_number: int) -> list[Action]:
    """A kind label a person took off in the old repository (and no kind given since) leaves
    the kind to people here too: not added back, no other guess, no question to the author."""
    removed = await store.removed_kind(ctx.db, old_repo, old_number)
    if removed is None:
        return []
    repo = ctx.repo
    return [
        Note(repo, feature=FEATURE, number=number,
             text=f"transferred from {old_repo}#{old_number}, where @{removed['who']} took the kind label "
                  f"{removed['label']!r} off; the kind is left to people"),
        *(Record(repo, feature=FEATURE, op="removed_label",
                 args={"repo": repo, "number": number, "label": label, "removed_by": removed["who"]})
          for label in removed["labels"]),
        Record(repo, feature=FEATURE, op="decision", args={
            "repo": repo, "number": number, "delivery_id": ctx.event.delivery_id, "kind": None, "best": None,
            "confidence": 0.0, "source": "removed",
            "signals": [{"kind": None, "source": "transferred", "detail": f"{old_repo}#{old_number}",
                         "weight": 0}]}),
    ]


async def _human_kind_label(ctx: Context, repo: str, issue: Mapping[str, Any]) -> bool:
    _, rules = rules_of(ctx)
    for label in issue.get("labels") or []:
        # bot_added ignores case, as GitHub does: the bot's "bug" may show as the repository's "Bug".
        if rules.kind_of_label(label["name"]) and not await bot_added(ctx.db, repo, int(issue["number"]), label["name"]):
            return True
    return False


async def on_label_change(event: Event, ctx: Context) -> list[Action]:
    """A maintainer added or removed a kind label."""
    issue = event.payload.get("issue") or {}
    label = (event.payload.get("label") or {}).get("name") or ""
    if not issue or issue.get("pull_request") or not label or event.sender_login == ctx.bot_login:
        return []
    section, rules = rules_of(ctx)
    kind = rules.kind_of_label(label)
    if kind is None:
        return []
    roles = await ctx.roles_of(event.sender_login, item_author=(issue.get("user") or {}).get("login"))
    if not roles & set(section["label_maintainer_roles"]):
        return []
    repo, number, who = ctx.repo, int(issue["number"]), event.sender_login
    if event.action == "labeled":
        state = await refused_by_rfc(ctx, repo, issue, kind, who)
        if state:
            return [Note(repo, feature=FEATURE, number=number,
                         text=f"kind label {label!r} added by @{who} not taken as the kind: the RFC is {state}, "
                              "and only maintainers change its kind now")]
        return await apply_human_kind(ctx, repo, issue, kind, who, "label", add_label=False)
    # unlabeled: never put it back; stop counting it as the issue's kind.
    previous = await store.item(ctx.db, repo, number)
    actions: list[Action] = [Record(repo, feature=FEATURE, op="removed_label",
                                    args={"repo": repo, "number": number, "label": label, "removed_by": who})]
    if previous and previous.get("kind") == kind:
        actions.append(Record(repo, feature=FEATURE, op="decision", args={
            "repo": repo, "number": number, "delivery_id": event.delivery_id, "kind": None, "best": None,
            "confidence": 0.0, "source": "removed",
            "signals": [{"kind": kind, "source": "label_removed", "detail": who, "weight": 0}]}))
    actions.append(Note(repo, feature=FEATURE, number=number,
                        text=f"@{who} removed the kind label {label!r}; the bot will not add it again"))
    return actions


HANDLERS = {
    "issues.opened": [on_issue],
    "issues.edited": [on_issue],
    "issues.reopened": [on_issue],
    "issues.labeled": [on_label_change],
    "issues.unlabeled": [on_label_change],
}
