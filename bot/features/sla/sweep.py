"""The periodic sweep: warn at the warning point, mark breaches, once each.

It keeps no timers: every run recomputes every open clock from the store at
``now``, and the ``warned_at`` / ``breached_at`` marks (written by the same batch)
make a second run a no-op. The comments are ``UpsertComment``s with one marker per
policy and purpose, so even a run whose marks were lost makes no second comment.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from ...core import sla
from ...core.actions import Action, AddLabels, Note, Record, UpsertComment
from ...store.db import Database
from . import store
from .policy import Policy, matching, mentions, other_section, policies_for, rotation_members

if TYPE_CHECKING:  # pragma: no cover
    from ...context import JobContext
    from ...rules.loader import Rules

log = logging.getLogger("bot.features.sla")

# A kind label the bot put on within this long of processing the opening means "in the
# policy since it was opened" (the classifier labels during the opening delivery, which
# may itself run late after an outage: hence processing time, not creation time).
AT_OPENING = 600.0


def audience(section: Mapping[str, Any], policy: Policy | None, routing: Mapping[str, Any] | None) -> list[str]:
    """Whom a warning mentions: the policy's own team, else the triage rotation, else
    the section's team."""
    if policy is not None and policy.team:
        return [policy.team]
    members = rotation_members(routing, policy.kinds if policy else ())
    if members:
        return members
    return [section["team"]] if section["team"] else []


async def reconcile(db: Database, repo: str, rules: "Rules") -> list[Action]:
    """Labels the bot added itself (the classifier's kind labels, a triage command's
    needs-info) never come back as webhooks, since the bot's own events are ignored:
    read them from the executor's ledger instead."""
    rows = await db.fetchall(
        "SELECT b.number, b.label, b.added_at, i.is_pr, i.opened_at, i.first_response_at,"
        " COALESCE(i.seen_at, i.opened_at) AS seen_at"
        " FROM bot_labels b JOIN sla_items i ON i.repo = b.repo AND i.number = b.number"
        " WHERE b.repo = ? AND i.closed_at IS NULL"
        # An item answered before the sweep saw its opening label still gets its clock
        # (answered), or fast answers would be missing from the figures.
        " AND (i.first_response_at IS NULL OR (b.added_at - COALESCE(i.seen_at, i.opened_at) <= ?"
        "   AND NOT EXISTS"
        "   (SELECT 1 FROM sla_clocks c WHERE c.repo = b.repo AND c.number = b.number)))"
        " AND NOT EXISTS (SELECT 1 FROM sla_events e WHERE e.repo = b.repo AND e.number = b.number"
        "   AND e.kind = 'unlabeled' AND e.detail = LOWER(b.label) AND e.at >= b.added_at)",
        (repo, AT_OPENING))
    by_item: dict[int, list[dict]] = {}
    for row in rows:
        by_item.setdefault(row["number"], []).append(row)
    section = rules.section("sla")
    policies = policies_for(rules)
    pause_labels = {p.casefold() for p in section["pause_labels"]}
    have = await store.policies_with_clocks(db, repo)
    actions: list[Action] = []
    for number, labels in by_item.items():
        opened, seen = float(labels[0]["opened_at"]), float(labels[0]["seen_at"])
        for policy in matching(policies, is_pr=bool(labels[0]["is_pr"]), labels=[r["label"] for r in labels]):
            if policy.name in have.get(number, ()):
                continue
            added = min(float(r["added_at"]) for r in labels if r["label"].casefold() in policy.labels)
            start = opened if added - seen <= AT_OPENING else added
            answered = labels[0]["first_response_at"]
            if answered is not None and float(answered) < start:
                continue  # answered before it entered the policy: nothing owed
            actions.append(Record(repo, feature="sla", op="start_clock", args={
                "repo": repo, "number": number, "policy": policy.name, "started_at": start,
                "target": policy.target, "warn": policy.warn, "calendar": policy.calendar}))
        if labels[0]["first_response_at"] is not None:
            continue  # the clocks are stopped: pauses change nothing
        for row in labels:
            reason = f"label:{row['label'].casefold()}"
            if row["label"].casefold() in pause_labels and not await db.fetchval(
                    "SELECT 1 FROM sla_pauses WHERE repo = ? AND number = ? AND reason = ?"
                    " AND started_at >= ?", (repo, number, reason, float(row["added_at"]) - 1)):
                actions.append(Record(repo, feature="sla", op="open_pause", args={
                    "repo": repo, "number": number, "reason": reason, "at": float(row["added_at"])}))
    return actions


def _warning(clock: store.StoredClock, who: list[str], due: datetime | None) -> str:
    kind = "pull request" if clock.is_pr else "issue"
    when = due.strftime("%Y-%m-%d %H:%M UTC") if due else "soon"
    lead = f"{mentions(who)}: this" if who else "This"
    return (f"{lead} {kind} has had no response from the project yet. Its first response is due "
            f"by {when} ({clock.clock.target / 3600:g} h policy `{clock.policy}`).")


def _breach(clock: store.StoredClock, who: list[str]) -> str:
    kind = "pull request" if clock.is_pr else "issue"
    lead = f"{mentions(who)}: this" if who else "This"
    return (f"{lead} {kind} has waited longer than {clock.clock.target / 3600:g} h for a first "
            f"response (policy `{clock.policy}`). Please answer the author, or pause the clock "
            f"with `/sla pause` if it waits on them.")


async def sweep_repo(db: Database, repo: str, rules: "Rules", now: datetime) -> list[Action]:
    section = rules.section("sla")
    actions = await reconcile(db, repo, rules)
    # The reconciled clocks start with this batch; the next run enforces them.
    routing = other_section(rules, "routing")
    policies = {p.name: p for p in policies_for(rules)}
    for clock in await store.clocks(db, repo, unanswered=True, open_items=True):
        state = sla.state(clock.clock, now)
        who = audience(section, policies.get(clock.policy), routing)
        args = {"repo": repo, "number": clock.number, "policy": clock.policy, "at": now.timestamp()}
        if state == sla.BREACHED and clock.breached_at is None:
            due = sla.due_at(clock.clock, now)
            escalate = [section["escalate_to"]] if section["escalate_to"] else who
            actions += [
                AddLabels(repo, number=clock.number, labels=(section["breach_label"],)),
                UpsertComment(repo, number=clock.number, marker=f"contributor-flow:sla-breach:{clock.policy}",
                              body=_breach(clock, escalate)),
                Record(repo, feature="sla", op="mark_breached",
                       args={**args, "due": due.timestamp() if due else now.timestamp()}),
                Record(repo, feature="sla", op="mark_warned", args=args),
                Note(repo, feature="sla", number=clock.number, text=f"SLA breached ({clock.policy})"),
            ]
        elif state == sla.WARNING and clock.warned_at is None:
            actions += [
                UpsertComment(repo, number=clock.number, marker=f"contributor-flow:sla-warning:{clock.policy}",
                              body=_warning(clock, who, sla.due_at(clock.clock, now))),
                Record(repo, feature="sla", op="mark_warned", args=args),
                Note(repo, feature="sla", number=clock.number, text=f"SLA warning ({clock.policy})"),
            ]
    return actions


async def run_sweep(jctx: "JobContext") -> list[Action]:
    now = jctx.now()
    actions: list[Action] = []
    for handle in await jctx.repos():
        if not handle.rules.enabled("sla"):
            continue
        try:
            actions += await sweep_repo(jctx.db, handle.repo, handle.rules, now)
        except Exception:  # one repository's bad state must not stop the others
            log.exception("SLA sweep failed for %s", handle.repo)
    return actions
