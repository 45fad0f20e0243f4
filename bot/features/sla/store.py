"""SLA state: writers (run by the executor through ``Record``) and reads.

Every writer is idempotent and order-tolerant: a retried delivery runs it again,
and deliveries may arrive out of order, so "first response" keeps the earliest
instant seen and flags are only set when still empty.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from ...core import sla
from ...store.db import Database

FEATURE = "sla"
ITEM_WIDE = ""  # pauses of every clock of the item
AUTHOR_WAIT = ("label:*", "command")  # pause reasons the author's answer ends


def ts(t: datetime) -> float:
    return t.timestamp()


def dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), timezone.utc)


async def _event(db: Database, repo: str, number: int, policy: str, kind: str, at: float,
                 detail: str = "") -> None:
    """Remember an event once. The detail (the label, the pause's reason) is part of what
    it is: two labels taken off in one edit are two events of one instant, and a
    redelivery, which writes the same detail again, adds nothing."""
    await db.execute(
        "INSERT INTO sla_events (repo, number, policy, kind, at, detail) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (repo, number, policy, kind, at, detail) DO NOTHING",
        (repo, number, policy, kind, at, detail[:500]))


# --- writers ------------------------------------------------------------------------

async def track_item(db: Database, *, repo: str, number: int, is_pr: bool, author_id: int,
                     author_login: str, opened_at: float, seen_at: float | None = None) -> None:
    await db.execute(
        "INSERT INTO sla_items (repo, number, is_pr, author_id, author_login, opened_at, seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo, number) DO NOTHING",
        (repo, number, int(is_pr), author_id, author_login, opened_at, seen_at))


async def start_clock(db: Database, *, repo: str, number: int, policy: str, started_at: float,
                      target: float, warn: float, calendar: dict | None = None) -> None:
    """Start a clock once; entering the policy again keeps the first start and ends
    the pause that leaving it had opened."""
    async with db.transaction():
        inserted = await db.execute(
            "INSERT INTO sla_clocks (repo, number, policy, started_at, target_seconds, warn_seconds,"
            " calendar) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo, number, policy) DO NOTHING",
            (repo, number, policy, started_at, target, warn, json.dumps(calendar or {})))
        if inserted:
            await _event(db, repo, number, policy, "started", started_at)
            # Started late from the label ledger, for an item answered in the meantime.
            await db.execute(
                "UPDATE sla_clocks SET answered_at = (SELECT first_response_at FROM sla_items i"
                "  WHERE i.repo = sla_clocks.repo AND i.number = sla_clocks.number)"
                " WHERE repo = ? AND number = ? AND policy = ? AND EXISTS (SELECT 1 FROM sla_items i"
                "  WHERE i.repo = sla_clocks.repo AND i.number = sla_clocks.number"
                "  AND i.first_response_at >= sla_clocks.started_at)", (repo, number, policy))
        else:
            # In the policy at this instant: remembered, so a departure delivered late
            # (an earlier ``unlabeled``) ends here rather than pausing for good. At the
            # clock's own start (a redelivered opening) its ``started`` says so already.
            started = await db.fetchval("SELECT started_at FROM sla_clocks WHERE repo = ? AND number = ?"
                                        " AND policy = ?", (repo, number, policy))
            if float(started) != started_at:
                await _event(db, repo, number, policy, "entered", started_at)
            await _end_pauses(db, repo, number, ["policy"], started_at, policy=policy)


def waits_on_author(reason: str) -> bool:
    return any(reason.startswith(r[:-1]) if r.endswith("*") else reason == r for r in AUTHOR_WAIT)


async def _undone_after(db: Database, repo: str, number: int, policy: str, reason: str,
                        at: float) -> float | None:
    """The earliest instant after ``at`` at which what causes this pause was seen undone
    (its label taken off, the item reopened, back in the policy): deliveries arrive out
    of order, and a redelivered one may come long after the undo. Strictly after: two
    changes within one second cannot be ordered by their timestamps."""
    if reason.startswith("label:"):
        kind, where, args = "unlabeled", "policy = ? AND detail = ?", [ITEM_WIDE, reason[len("label:"):]]
    elif reason == "closed":
        kind, where, args = "reopened", "policy = ?", [ITEM_WIDE]
    elif reason == "policy":
        kind, where, args = "entered", "policy = ?", [policy]
    else:
        return None
    undone = await db.fetchval(
        f"SELECT MIN(at) FROM sla_events WHERE repo = ? AND number = ? AND kind = ? AND {where} AND at > ?",
        (repo, number, kind, *args, at))
    return None if undone is None else float(undone)


async def open_pause(db: Database, *, repo: str, number: int, reason: str, at: float,
                     policy: str = ITEM_WIDE) -> None:
    """Open a pause unless one with the same reason is already open. A wait on the
    author that is recorded after the author has answered since (a label the bot put
    on, read by a later sweep; a late delivery) ends at that answer; a pause whose cause
    was already seen undone later (label off, reopened, back in the policy) ends then.

    Every cause is remembered as a ``paused`` event, also one that finds its pause open:
    an undo from before it, delivered late, ends the pause there and it starts again at
    that cause (see ``_end_pauses``)."""
    async with db.transaction():
        open_since = await db.fetchval(
            "SELECT MIN(started_at) FROM sla_pauses WHERE repo = ? AND number = ? AND policy = ? AND reason = ?"
            " AND ended_at IS NULL", (repo, number, policy, reason))
        if open_since is None:
            await _insert_pause(db, repo, number, policy, reason, at)
        elif float(open_since) > at:
            # A cause older than the open pause, delivered late: paused from it until it
            # was undone, or until the open pause began.
            await _insert_pause(db, repo, number, policy, reason, at, until=float(open_since))
        else:
            await _event(db, repo, number, policy, "paused", at, reason)


async def _insert_pause(db: Database, repo: str, number: int, policy: str, reason: str, at: float,
                        until: float | None = None) -> None:
    replied = await db.fetchval(
        "SELECT author_replied_at FROM sla_items WHERE repo = ? AND number = ?",
        (repo, number)) if waits_on_author(reason) else None
    ends = [float(replied)] if replied is not None and float(replied) > at else []
    undone = await _undone_after(db, repo, number, policy, reason, at)
    ends += [undone] if undone is not None else []
    ended = min([*ends, *([until] if until is not None else [])], default=None)
    inserted = await db.execute(
        "INSERT INTO sla_pauses (repo, number, policy, reason, started_at, ended_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repo, number, policy, reason, started_at) DO NOTHING",
        (repo, number, policy, reason, at, ended))
    await _event(db, repo, number, policy, "paused", at, reason)
    # A pause already there (a redelivery) had its end recorded when it ended.
    if inserted and ended is not None and ended != until:
        await _event(db, repo, number, policy, "resumed", ended,
                     "the author had answered" if ended != undone else "already undone")


async def _end_pauses(db: Database, repo: str, number: int, reasons: Sequence[str], at: float,
                      policy: str = ITEM_WIDE) -> int:
    """End, at ``at``, the pauses with these reasons that had begun by then: open ones, and
    (an undo delivered late) ones that ended later. One that began after ``at`` is a newer
    wait this older undo does not end. A cause of the pause seen again after ``at`` (a
    label put back, remembered as a ``paused`` event) starts it again there."""
    ended = 0
    for reason in reasons:
        match = "reason LIKE ?" if reason.endswith("*") else "reason = ?"
        value = reason[:-1] + "%" if reason.endswith("*") else reason
        rows = await db.fetchall(
            "SELECT reason, started_at, ended_at FROM sla_pauses WHERE repo = ? AND number = ? AND policy = ?"
            f" AND {match} AND started_at <= ? AND (ended_at IS NULL OR ended_at > ?)",
            (repo, number, policy, value, at, at))
        for row in rows:
            was_until = None if row["ended_at"] is None else float(row["ended_at"])
            ended += await db.execute(
                "UPDATE sla_pauses SET ended_at = ? WHERE repo = ? AND number = ? AND policy = ? AND reason = ?"
                " AND started_at = ?", (at, repo, number, policy, row["reason"], row["started_at"]))
            again = await db.fetchval(
                "SELECT MIN(at) FROM sla_events WHERE repo = ? AND number = ? AND policy = ? AND kind = 'paused'"
                " AND detail = ? AND at > ?" + ("" if was_until is None else " AND at < ?"),
                (repo, number, policy, row["reason"], at, *(() if was_until is None else (was_until,))))
            if again is not None:
                await _insert_pause(db, repo, number, policy, row["reason"], float(again), until=was_until)
    if ended:
        await _event(db, repo, number, policy, "resumed", at, ",".join(reasons))
    return ended


async def end_pauses(db: Database, *, repo: str, number: int, reasons: Sequence[str], at: float,
                     policy: str = ITEM_WIDE) -> None:
    """End the open pauses with these reasons (``label:*`` ends every label pause)."""
    async with db.transaction():
        await _end_pauses(db, repo, number, reasons, at, policy)


async def record_response(db: Database, *, repo: str, number: int, at: float, responder: str,
                          kind: str) -> None:
    """The first qualifying response stops every clock of the item; the earliest wins."""
    async with db.transaction():
        await db.execute(
            "UPDATE sla_items SET first_response_at = ?, first_responder = ?, first_response_kind = ?"
            " WHERE repo = ? AND number = ? AND (first_response_at IS NULL OR first_response_at > ?)",
            (at, responder, kind, repo, number, at))
        clocks = await db.fetchall(
            "SELECT policy, started_at FROM sla_clocks WHERE repo = ? AND number = ?"
            " AND (answered_at IS NULL OR answered_at > ?)", (repo, number, at))
        for row in clocks:
            answered = max(at, float(row["started_at"]))
            await db.execute(
                "UPDATE sla_clocks SET answered_at = ? WHERE repo = ? AND number = ? AND policy = ?",
                (answered, repo, number, row["policy"]))
            await _event(db, repo, number, row["policy"], "answered", answered, f"{kind} by {responder}")


async def set_closed(db: Database, *, repo: str, number: int, closed: bool, at: float) -> None:
    """Closing pauses the clocks (nobody owes a closed item an answer); reopening
    resumes them with their original start.

    Deliveries come late and out of order: the item's state is that of its latest close
    or reopen by their own instants, not of the last one processed. ``closed_at`` keeps
    the latest close; a reopen from before it leaves the item closed, a close from before
    a reopen seen (a ``reopened`` event) leaves it open. At one instant the one processed
    last wins (two changes within one second cannot be ordered by their timestamps)."""
    async with db.transaction():
        if closed:
            if await _undone_after(db, repo, number, ITEM_WIDE, "closed", at) is None:
                await db.execute("UPDATE sla_items SET closed_at = ? WHERE repo = ? AND number = ?"
                                 " AND (closed_at IS NULL OR closed_at < ?)", (at, repo, number, at))
        else:
            await db.execute("UPDATE sla_items SET closed_at = NULL WHERE repo = ? AND number = ?"
                             " AND closed_at <= ?", (repo, number, at))
        if closed:
            await open_pause(db, repo=repo, number=number, reason="closed", at=at)
        else:
            await _event(db, repo, number, ITEM_WIDE, "reopened", at)
            await _end_pauses(db, repo, number, ["closed"], at)


# The clock is unanswered and its item open: the sweep's calls are still owed.
_OWED = (" AND answered_at IS NULL AND NOT EXISTS (SELECT 1 FROM sla_items i WHERE i.repo = sla_clocks.repo"
         " AND i.number = sla_clocks.number AND i.closed_at IS NOT NULL)")


async def mark_warned(db: Database, *, repo: str, number: int, policy: str, at: float) -> None:
    """Only while still owed (``still_owed``): an answer or close recorded since the sweep
    decided withdrew its warning, and a reopened item is warned in its turn."""
    async with db.transaction():
        if await db.execute(
                "UPDATE sla_clocks SET warned_at = ? WHERE repo = ? AND number = ? AND policy = ?"
                " AND warned_at IS NULL" + _OWED, (at, repo, number, policy)):
            await _event(db, repo, number, policy, "warned", at)


async def mark_breached(db: Database, *, repo: str, number: int, policy: str, at: float,
                        due: float) -> None:
    async with db.transaction():
        if await db.execute(
                "UPDATE sla_clocks SET breached_at = ?, due_at = ? WHERE repo = ? AND number = ?"
                " AND policy = ? AND breached_at IS NULL" + _OWED, (at, due, repo, number, policy)):
            await _event(db, repo, number, policy, "breached", at, f"due {dt(due).isoformat()}")


async def still_owed(db: Database, *, repo: str, number: int, policy: str) -> bool:
    """Guard of the sweep's warning and breach calls, asked just before each is sent: the
    sweep decides every due clock at once and its calls go out paced, so an answer or a
    close the worker records meanwhile must withdraw those not sent yet."""
    return bool(await db.fetchval("SELECT 1 FROM sla_clocks WHERE repo = ? AND number = ? AND policy = ?"
                                  + _OWED, (repo, number, policy)))


GUARDS = {"still_owed": still_owed}


async def note_activity(db: Database, *, repo: str, number: int, at: float, by_author: bool = False) -> None:
    """The latest activity on the item, and the author's latest answer; the latest
    instant wins whatever the delivery order."""
    async with db.transaction():
        await db.execute(
            "UPDATE sla_items SET activity_at = ? WHERE repo = ? AND number = ?"
            " AND (activity_at IS NULL OR activity_at < ?)", (at, repo, number, at))
        if by_author:
            await db.execute(
                "UPDATE sla_items SET author_replied_at = ? WHERE repo = ? AND number = ?"
                " AND (author_replied_at IS NULL OR author_replied_at < ?)", (at, repo, number, at))


async def label_removed(db: Database, *, repo: str, number: int, label: str, at: float) -> None:
    """Remembered so the sweep does not take a bot-added label a person removed since
    (the bot's ledger keeps it) as still there."""
    await _event(db, repo, number, "", "unlabeled", at, label.casefold())


WRITERS = {
    "label_removed": label_removed,
    "note_activity": note_activity,
    "track_item": track_item,
    "start_clock": start_clock,
    "open_pause": open_pause,
    "end_pauses": end_pauses,
    "record_response": record_response,
    "set_closed": set_closed,
    "mark_warned": mark_warned,
    "mark_breached": mark_breached,
}


# --- reads --------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredClock:
    repo: str
    number: int
    policy: str
    clock: sla.Clock
    warned_at: float | None
    breached_at: float | None
    is_pr: bool
    closed: bool

    @property
    def started(self) -> datetime:
        return self.clock.started


async def item(db: Database, repo: str, number: int) -> dict[str, Any] | None:
    return await db.fetchone("SELECT * FROM sla_items WHERE repo = ? AND number = ?", (repo, number))


async def _pauses(db: Database, repo: str, numbers: Sequence[int]) -> dict[tuple, list]:
    found: dict[tuple, list] = {}
    numbers = sorted(set(numbers))
    for i in range(0, len(numbers), 500):  # bounded IN lists
        chunk = numbers[i:i + 500]
        rows = await db.fetchall(
            "SELECT number, policy, started_at, ended_at FROM sla_pauses WHERE repo = ?"
            f" AND number IN ({', '.join('?' * len(chunk))})", [repo, *chunk])
        for row in rows:
            found.setdefault((row["number"], row["policy"]), []).append(
                sla.Pause(dt(row["started_at"]), dt(row["ended_at"])))
    return found


async def clocks(db: Database, repo: str, *, number: int | None = None, unanswered: bool = False,
                 open_items: bool = False, started_before: float | None = None) -> list[StoredClock]:
    """Clocks with their pauses. ``unanswered``: still running (or paused);
    ``open_items``: of items not closed now (the sweep's working set)."""
    sql = ("SELECT c.*, i.is_pr, i.closed_at FROM sla_clocks c LEFT JOIN sla_items i"
           " ON i.repo = c.repo AND i.number = c.number WHERE c.repo = ?")
    params: list[Any] = [repo]
    if number is not None:
        sql += " AND c.number = ?"
        params.append(number)
    if unanswered:
        sql += " AND c.answered_at IS NULL"
    if open_items:
        sql += " AND i.closed_at IS NULL"
    if started_before is not None:
        sql += " AND c.started_at < ?"
        params.append(started_before)
    rows = await db.fetchall(sql + " ORDER BY c.number, c.policy", params)
    pauses = await _pauses(db, repo, [row["number"] for row in rows])
    out = []
    for row in rows:
        item_pauses = pauses.get((row["number"], ITEM_WIDE), []) + pauses.get((row["number"], row["policy"]), [])
        clock = sla.Clock(
            started=dt(row["started_at"]), target=float(row["target_seconds"]),
            warn=float(row["warn_seconds"]), calendar=sla.calendar_from_spec(json.loads(row["calendar"] or "{}")),
            pauses=tuple(item_pauses), answered=dt(row["answered_at"]))
        out.append(StoredClock(row["repo"], row["number"], row["policy"], clock, row["warned_at"],
                               row["breached_at"], bool(row["is_pr"]), row["closed_at"] is not None))
    return out


async def pause_rows(db: Database, repo: str, number: int) -> list[dict[str, Any]]:
    """The item's pauses as stored (with their reasons), oldest first."""
    return await db.fetchall(
        "SELECT policy, reason, started_at, ended_at FROM sla_pauses WHERE repo = ? AND number = ?"
        " ORDER BY started_at", (repo, number))


async def policies_with_clocks(db: Database, repo: str) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for row in await db.fetchall("SELECT number, policy FROM sla_clocks WHERE repo = ?", (repo,)):
        found.setdefault(row["number"], set()).add(row["policy"])
    return found


async def open_pause_reasons(db: Database, repo: str, number: int) -> set[str]:
    rows = await db.fetchall(
        "SELECT reason FROM sla_pauses WHERE repo = ? AND number = ? AND ended_at IS NULL",
        (repo, number))
    return {r["reason"] for r in rows}


async def events(db: Database, repo: str, number: int) -> list[dict[str, Any]]:
    return await db.fetchall(
        "SELECT policy, kind, at, detail FROM sla_events WHERE repo = ? AND number = ? ORDER BY at",
        (repo, number))
