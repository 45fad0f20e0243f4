"""From a decision (the bot's or a human's) to actions: the kind label, the
needs-triage question, the records, and routing once the kind is known."""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Mapping

from ...classify import ClassifierRules, Decision, IssueText, classify
from ...context import Context
from ...core.actions import Action, AddLabels, Note, Record, RemoveLabel, UpsertComment
from ...store.state import bot_labels
from ..route.plan import route
from ..route.rfc import undone_by_kind
from . import models, store

FEATURE = "classify"
log = logging.getLogger("bot.classify")
ASK_MARKER = "classify:ask-kind"


def rules_of(ctx: Context) -> tuple[dict, ClassifierRules]:
    section = ctx.rules.section("classify")
    return section, ClassifierRules.from_section(section)


def issue_text(issue: Mapping[str, Any], ignore: set[str] = frozenset()) -> IssueText:
    """``ignore``: labels (folded) that are not signals, e.g. the bot's own earlier guess."""
    return IssueText.of(issue.get("title"), issue.get("body"),
                        tuple(label["name"] for label in issue.get("labels") or []
                              if label["name"].casefold() not in ignore))


async def bot_decision(ctx: Context, repo: str, issue: Mapping[str, Any]) -> Decision:
    section, rules = rules_of(ctx)
    removed = await store.removed_labels(ctx.db, repo, int(issue["number"]))
    if removed:  # a kind whose label a human took off is not a candidate any more
        rules = replace(rules, kinds=tuple(k for k in rules.kinds if k.label.casefold() not in removed))
    model, name = await models.model_for(ctx.db, repo, section)
    ours = {label.casefold() for label in await bot_labels(ctx.db, repo, int(issue["number"]))}
    return classify(issue_text(issue, ours), rules, model, model_name=name)


def _signals(decision: Decision) -> list[dict]:
    return [{"kind": s.kind, "source": s.source, "detail": s.detail, "weight": round(s.weight, 4)}
            for s in decision.signals]


async def _tidy_labels(ctx: Context, repo: str, number: int, issue: Mapping[str, Any], keep: str | None,
                       rules: ClassifierRules, section: Mapping[str, Any]) -> list[Action]:
    """Remove the bot's own kind labels other than ``keep`` and its needs-triage label."""
    ours = {label.casefold() for label in await bot_labels(ctx.db, repo, number)}
    actions: list[Action] = []
    for label in issue.get("labels") or []:
        name = label["name"]
        if name.casefold() not in ours or (keep and name.casefold() == keep.casefold()):
            continue
        if rules.kind_of_label(name) or name.casefold() == section["needs_triage_label"].casefold():
            actions.append(RemoveLabel(repo, number=number, label=name))
    return actions


async def apply_bot_decision(ctx: Context, repo: str, issue: Mapping[str, Any], decision: Decision,
                             previous: Mapping[str, Any] | None) -> list[Action]:
    section, rules = rules_of(ctx)
    number = int(issue["number"])
    log.info("classified %s#%s: %s", repo, number, decision.explain())
    present = {label["name"].casefold() for label in issue.get("labels") or []}
    actions: list[Action] = [
        Record(repo, feature=FEATURE, op="decision", args={
            "repo": repo, "number": number, "delivery_id": ctx.event.delivery_id, "kind": decision.kind,
            "best": decision.best, "confidence": decision.confidence, "source": "bot",
            "signals": _signals(decision),
            # Below the threshold an earlier kind stands (no flapping on edits).
            "set_item": decision.kind is not None or not (previous and previous.get("kind"))}),
        Note(repo, feature=FEATURE, number=number, text=decision.explain()
             + (f" [model {decision.model}]" if decision.model else "")),
    ]
    if decision.kind is None:
        if previous and previous.get("kind"):
            return actions
        label = section["needs_triage_label"]
        if label and label.casefold() not in present:
            actions.append(AddLabels(repo, number=number, labels=(label,)))
        commands = ", ".join(f"`/kind {k.name}`" for k in rules.kinds)
        actions.append(UpsertComment(repo, number=number, marker=ASK_MARKER,
                                     body=section["ask_comment"].replace("{commands}", commands)))
        return actions
    label = rules.label_of(decision.kind) or decision.kind
    # A form may have applied an alias of the kind label already: that says it.
    if not any(name.casefold() in present for name in (label, *rules.labels_of(decision.kind))):
        actions.append(AddLabels(repo, number=number, labels=(label,)))
    actions += await _tidy_labels(ctx, repo, number, issue, label, rules, section)
    actions += await route(decision.kind, repo, issue, ctx)
    return actions


async def apply_human_kind(ctx: Context, repo: str, issue: Mapping[str, Any], kind: str, who: str,
                           how: str, *, add_label: bool) -> list[Action]:
    """A human chose ``kind``: it wins, becomes a training example, and the issue is routed."""
    section, rules = rules_of(ctx)
    number = int(issue["number"])
    label = rules.label_of(kind) or kind
    previous = await store.item(ctx.db, repo, number)
    present = {entry["name"].casefold() for entry in issue.get("labels") or []}
    actions: list[Action] = []
    if add_label and label.casefold() not in present:
        actions.append(AddLabels(repo, number=number, labels=(label,)))
    actions += await _tidy_labels(ctx, repo, number, issue, label, rules, section)
    bot_kind = previous["kind"] if previous and previous["source"] == "bot" else None
    actions += [
        Record(repo, feature=FEATURE, op="decision", args={
            "repo": repo, "number": number, "delivery_id": ctx.event.delivery_id, "kind": kind, "best": kind,
            "confidence": 1.0, "source": "human", "signals": [{"kind": kind, "source": how, "detail": who, "weight": 0}]}),
        Record(repo, feature=FEATURE, op="example", args={
            "repo": repo, "number": number, "kind": kind, "title": str(issue.get("title") or ""),
            "body": str(issue.get("body") or ""), "bot_kind": bot_kind, "labelled_by": who}),
        Note(repo, feature=FEATURE, number=number, text=f"kind {kind} set by @{who} ({how})"
             + (f"; the bot had said {bot_kind}" if bot_kind and bot_kind != kind else "")),
    ]
    # A closed issue (relabelled in a clean-up) is not sent to triage or a board: it is
    # routed by this kind if it is reopened (see handlers.on_issue).
    if issue.get("state") != "closed":
        actions += await route(kind, repo, issue, ctx)
    return actions


async def refused_by_rfc(ctx: Context, repo: str, issue: Mapping[str, Any], kind: str, who: str) -> str | None:
    """The state of the issue's RFC if ``who`` may not make the issue ``kind``: a maintainer
    moved the RFC on from draft, the new kind would undo that (its labels, board and record),
    and only maintainers move RFCs. None if the change may go ahead."""
    state = await undone_by_kind(ctx, repo, int(issue["number"]), kind)
    if state is None or "maintainer" in await ctx.roles_of(who, item_author=(issue.get("user") or {}).get("login")):
        return None
    return state
