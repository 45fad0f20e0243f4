"""Webhook handlers: classify on opened / edited / reopened / transferred; a human's
change of a kind label overrides the bot."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from ...context import Context
from ...core.actions import Action, Note, Record
from ...core.events import Event
from ...store.state import bot_added
from ..route import store as route_store
from . import store
from .decide import FEATURE, apply_bot_decision, apply_human_kind, bot_decision, rules_of


def target(event: Event) -> tuple[str, Mapping[str, Any] | None]:
    """(repo, issue) the event is about; a transfer is about the issue in its new home."""
    if event.action == "transferred":
        changes = event.payload.get("changes") or {}
        new_repo = (changes.get("new_repository") or {}).get("full_name")
        new_issue = changes.get("new_issue")
        if new_repo and new_issue:
            return str(new_repo), new_issue
    return event.repo, event.payload.get("issue")


async def in_new_home(ctx: Context, repo: str) -> Context | None:
    """The context for a transferred issue: its new repository's rules (kinds, routing,
    boards), or None if that repository has the bot or classification switched off."""
    if ctx.rules_for is None or repo.casefold() == ctx.repo.casefold():
        return ctx
    rules = await ctx.rules_for(repo)
    if not (rules.enabled("core") and rules.enabled("classify")):
        return None
    return dataclasses.replace(ctx, rules=rules, memo={}, rules_problems=())


async def on_issue(event: Event, ctx: Context) -> list[Action]:
    repo, issue = target(event)
    if not issue or issue.get("pull_request") or issue.get("state") == "closed":
        return []
    home = await in_new_home(ctx, repo)
    if home is None:
        return []
    ctx = home
    number = int(issue["number"])
    previous = await store.item(ctx.db, repo, number)
    if previous and previous["source"] == "human":
        return []  # a human's word wins
    if previous and await _rfc_in_maintainers_hands(ctx, repo, number):
        return []  # a maintainer moved its RFC on (/rfc review...): that settles it as a feature
    if event.action == "edited" and await _human_kind_label(ctx, repo, issue):
        return []  # someone set a kind label by hand before the bot decided anything
    decision = await bot_decision(ctx, repo, issue)
    if previous and previous.get("kind") == decision.kind and event.action == "edited":
        return []  # nothing changed that matters (still the same kind, or still asked)
    return await apply_bot_decision(ctx, repo, issue, decision, previous)


async def _rfc_in_maintainers_hands(ctx: Context, repo: str, number: int) -> bool:
    rfc = await route_store.rfc(ctx.db, repo, number)
    return rfc is not None and rfc["state"] not in ("draft", "withdrawn")


async def _human_kind_label(ctx: Context, repo: str, issue: Mapping[str, Any]) -> bool:
    _, rules = rules_of(ctx)
    for label in issue.get("labels") or []:
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
    "issues.transferred": [on_issue],
    "issues.labeled": [on_label_change],
    "issues.unlabeled": [on_label_change],
}
