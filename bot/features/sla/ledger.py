"""Labels the bot puts on and takes off itself, read from the executor's ledger
(``bot_labels``) by the sweep.

The bot's own ``labeled`` webhooks never reach the features: the sweep starts the
clocks of the kind labels the bot added (the classifier's), lets a clock count again when
the bot puts a policy's label back on an item that had left the policy, and opens the
pauses of its waiting labels (``needs-info`` from ``/triage``). Its ``unlabeled`` webhooks
do reach the SLA (``handlers.ANY_SENDER``), but a delivery may be lost or still queued; the bot
forgets a label when it takes it off, so a label the SLA acted on that has left the
ledger, with no ``unlabeled`` seen since, was taken off by the bot unseen. It is
handled as that webhook would have been, dated by the item's latest activity (the bot
changes labels in answer to a comment, an edit or a label) and never after ``now``.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping

from ...core.actions import Action, Note, Record
from ...store.db import Database
from . import store
from .policy import Policy, label_names, matching, pause_labels, policies_for

if TYPE_CHECKING:  # pragma: no cover
    from ...rules.loader import Rules

# Reads an item as GitHub has it now: its JSON, or None when it cannot be read.
ItemReader = Callable[[int], Awaitable["Mapping[str, Any] | None"]]

# A kind label the bot put on within this long of processing the opening means "in the
# policy since it was opened" (the classifier labels during the opening delivery, which
# may itself run late after an outage: hence processing time, not creation time).
AT_OPENING = 600.0

_REMOVED_SINCE = ("EXISTS (SELECT 1 FROM sla_events e WHERE e.repo = {t}.repo AND e.number = {t}.number"
                  " AND e.kind = 'unlabeled' AND e.detail = LOWER({t}.label) AND e.at >= {t}.added_at)")


def _record(repo: str, op: str, **args: Any) -> Record:
    return Record(repo, feature="sla", op=op, args={"repo": repo, **args})


# --- writers ------------------------------------------------------------------------

async def ledger_seen(db: Database, *, repo: str, labels: list[list[Any]]) -> None:
    """Remember bot labels ([number, label, added_at]) the SLA acted on."""
    async with db.transaction():
        for number, label, added_at in labels:
            await db.execute(
                "INSERT INTO sla_ledger (repo, number, label, added_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (repo, number, label) DO UPDATE SET added_at = excluded.added_at",
                (repo, int(number), str(label), float(added_at)))


async def ledger_forget(db: Database, *, repo: str, labels: list[list[Any]]) -> None:
    """Forget bot labels ([number, label]): taken off and handled, or of an answered item."""
    async with db.transaction():
        for number, label in labels:
            await db.execute("DELETE FROM sla_ledger WHERE repo = ? AND number = ? AND label = ?",
                             (repo, int(number), str(label)))


WRITERS = {"ledger_seen": ledger_seen, "ledger_forget": ledger_forget}


# --- the sweep's part ---------------------------------------------------------------

async def reconcile(db: Database, repo: str, rules: "Rules", now: datetime,
                    read_item: ItemReader | None = None) -> list[Action]:
    """What the ledger says that no webhook told the SLA: clocks and pauses of labels the
    bot added, then labels the bot took off."""
    return [*await _added(db, repo, rules), *await _taken_off(db, repo, rules, now, read_item)]


async def _added(db: Database, repo: str, rules: "Rules") -> list[Action]:
    rows = await db.fetchall(
        "SELECT b.number, b.label, b.added_at, i.is_pr, i.opened_at, i.first_response_at,"
        " COALESCE(i.seen_at, i.opened_at) AS seen_at"
        " FROM bot_labels b JOIN sla_items i ON i.repo = b.repo AND i.number = b.number"
        " WHERE b.repo = ? AND b.removed_at IS NULL AND i.closed_at IS NULL"
        # An item answered before the sweep saw its opening label still gets its clock
        # (answered), or fast answers would be missing from the figures.
        " AND (i.first_response_at IS NULL OR (b.added_at - COALESCE(i.seen_at, i.opened_at) <= ?"
        "   AND NOT EXISTS"
        "   (SELECT 1 FROM sla_clocks c WHERE c.repo = b.repo AND c.number = b.number)))"
        " AND NOT " + _REMOVED_SINCE.format(t="b"),  # a person took it off since
        (repo, AT_OPENING))
    by_item: dict[int, list[dict]] = {}
    for row in rows:
        by_item.setdefault(row["number"], []).append(row)
    policies = policies_for(rules)
    waiting = pause_labels(rules)
    have = await store.policies_with_clocks(db, repo)
    known = {(r["number"], r["label"], float(r["added_at"])) for r in await db.fetchall(
        "SELECT number, label, added_at FROM sla_ledger WHERE repo = ?", (repo,))}
    actions: list[Action] = []
    seen: list[list[Any]] = []
    for number, labels in by_item.items():
        opened, seen_at = float(labels[0]["opened_at"]), float(labels[0]["seen_at"])
        for policy in matching(policies, is_pr=bool(labels[0]["is_pr"]), labels=[r["label"] for r in labels]):
            if policy.name in have.get(number, ()):
                actions += await _back_in(db, repo, number, policy, labels)
                continue
            added = min(float(r["added_at"]) for r in labels if r["label"].casefold() in policy.labels)
            start = opened if added - seen_at <= AT_OPENING else added
            answered = labels[0]["first_response_at"]
            if answered is not None and float(answered) < start:
                continue  # answered before it entered the policy: nothing owed
            actions.append(_record(repo, "start_clock", number=number, policy=policy.name, started_at=start,
                                   target=policy.target, warn=policy.warn, calendar=policy.calendar))
        if labels[0]["first_response_at"] is not None:
            continue  # the clocks are stopped: pauses change nothing
        for row in labels:
            label, added = row["label"], float(row["added_at"])
            if _relevant(label, policies, waiting) and (number, label, added) not in known:
                seen.append([number, label, added])
            reason = f"label:{label.casefold()}"
            if label.casefold() in waiting and not await db.fetchval(
                    "SELECT 1 FROM sla_pauses WHERE repo = ? AND number = ? AND reason = ?"
                    " AND started_at >= ?", (repo, number, reason, added - 1)):
                # From the label's own instant; an answer by the author since ends it
                # (store.open_pause).
                actions.append(_record(repo, "open_pause", number=number, reason=reason, at=added))
    if seen:
        actions.append(_record(repo, "ledger_seen", labels=seen))
    return actions


async def _back_in(db: Database, repo: str, number: int, policy: Policy, labels: list[dict]) -> list[Action]:
    """The item left the policy (its label went: an open ``policy`` pause) and the bot has put
    a label of the policy back on since (``/kind bug`` after ``/kind feature``): the clock
    counts again from that label's instant, as a person's ``labeled`` would have made it."""
    left = await db.fetchval(
        "SELECT MIN(started_at) FROM sla_pauses WHERE repo = ? AND number = ? AND policy = ?"
        " AND reason = 'policy' AND ended_at IS NULL", (repo, number, policy.name))
    if left is None:
        return []
    back = [float(r["added_at"]) for r in labels
            if r["label"].casefold() in policy.labels and float(r["added_at"]) >= float(left)]
    if not back:
        return []
    # An existing clock's start_clock is its re-entry: it ends the pause leaving had opened.
    return [_record(repo, "start_clock", number=number, policy=policy.name, started_at=min(back),
                    target=policy.target, warn=policy.warn, calendar=policy.calendar),
            Note(repo, feature="sla", number=number,
                 text=f"back in {policy.name}: the bot put a label of it on again (seen in its ledger)")]


def _relevant(label: str, policies: list[Policy], pause_labels: set[str]) -> bool:
    folded = label.casefold()
    return folded in pause_labels or any(folded in p.labels for p in policies)


async def _taken_off(db: Database, repo: str, rules: "Rules", now: datetime,
                     read_item: ItemReader | None) -> list[Action]:
    rows = await db.fetchall(
        "SELECT l.number, l.label, l.added_at, i.is_pr, i.activity_at, i.first_response_at,"
        " " + _REMOVED_SINCE.format(t="l") + " AS seen_removed"
        " FROM sla_ledger l JOIN sla_items i ON i.repo = l.repo AND i.number = l.number"
        " WHERE l.repo = ? AND (i.first_response_at IS NOT NULL OR NOT EXISTS (SELECT 1 FROM bot_labels b"
        "   WHERE b.repo = l.repo AND b.number = l.number AND b.label = l.label AND b.removed_at IS NULL))", (repo,))
    by_item: dict[int, list[dict]] = {}
    for row in rows:
        by_item.setdefault(row["number"], []).append(row)
    waiting = pause_labels(rules)
    policies = policies_for(rules)
    actions: list[Action] = []
    forget: list[list[Any]] = []
    for number, gone in by_item.items():
        forget += [[number, r["label"]] for r in gone]
        unseen = [r["label"] for r in gone if not r["seen_removed"] and r["first_response_at"] is None]
        put_on = {r["label"]: float(r["added_at"]) for r in gone}
        if not unseen:
            continue  # answered, or its unlabeled webhook was handled
        first = gone[0]
        at = now.timestamp()
        if first["activity_at"] is not None:
            at = min(float(first["activity_at"]), at)
        labels = await _labels_now(db, repo, number, read_item)
        still_in = {p.name for p in matching(policies, is_pr=bool(first["is_pr"]), labels=labels)}
        for label in unseen:
            actions.append(_record(repo, "label_removed", number=number, label=label, at=at))
            if label.casefold() in waiting:
                # Never before the label went on: the activity that dates the removal may
                # come before it, and a wait that began after an undo is not ended by it.
                actions.append(_record(repo, "end_pauses", number=number,
                                       reasons=[f"label:{label.casefold()}"], at=max(at, put_on[label])))
        folded = {label.casefold() for label in unseen}
        for clock in await store.clocks(db, repo, number=number, unanswered=True):
            policy = next((p for p in policies if p.name == clock.policy), None)
            if policy is not None and policy.labels & folded and policy.name not in still_in:
                # Out of the policy: its clock stops counting until the item comes back.
                actions.append(_record(repo, "open_pause", number=number, reason="policy",
                                       policy=clock.policy, at=at))
        actions.append(Note(repo, feature="sla", number=number,
                            text=f"the bot took off {', '.join(unseen)} (seen in its ledger)"))
    if forget:
        actions.append(_record(repo, "ledger_forget", labels=forget))
    return actions


async def _labels_now(db: Database, repo: str, number: int, read_item: ItemReader | None) -> list[str]:
    """The item's labels: GitHub's when it can be read, else the bot's own ledger (the
    labels people put on are not stored)."""
    item = await read_item(number) if read_item is not None else None
    if item:
        return label_names(item)
    rows = await db.fetchall(
        "SELECT b.label FROM bot_labels b WHERE b.repo = ? AND b.number = ? AND b.removed_at IS NULL AND NOT "
        + _REMOVED_SINCE.format(t="b"), (repo, number))
    return [r["label"] for r in rows]
