"""This feature's tables: writers (run by the executor through Record) and reads.

Every writer is idempotent: a retried delivery may run it again.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Sequence

from bot.core import actions as A
from bot.core.retry import RetryLater
from bot.store import state

from .rules import CARD_MARKER

if TYPE_CHECKING:  # pragma: no cover
    from bot.store.db import Database

FEATURE = "pr_context"


async def remember_first_timer(db: "Database", *, repo: str, number: int, author_id: int,
                               first_timer: bool, reason: str = "") -> None:
    await db.execute(
        "INSERT INTO pr_context_prs (repo, number, author_id, first_timer, reason, decided_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repo, number) DO NOTHING",
        (repo, number, author_id, 1 if first_timer else 0, reason[:300], time.time()))


async def record_merged(db: "Database", *, repo: str, owner: str, number: int, user_id: int,
                        login: str, merged_at: float) -> None:
    await db.execute(
        "INSERT INTO pr_context_merged (repo, owner, number, user_id, login, merged_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repo, number) DO NOTHING",
        (repo, owner.lower(), number, user_id, login, merged_at))


async def record_review_requests(db: "Database", *, repo: str, number: int,
                                 logins: Sequence[str]) -> None:
    """Run after the RequestReviewers action it follows, whatever that action's fate: only
    those GitHub accepted (the executor's ledger says so) are recorded as asked. Logins
    are kept in lower case: GitHub's ignore case."""
    now = time.time()
    accepted = await state.review_request_results(db, repo, number, logins)
    for login in logins:
        if accepted.get(login.lower()) != "requested":
            continue
        await db.execute(
            "INSERT INTO pr_context_review_requests (repo, number, login, requested_at, active)"
            " VALUES (?, ?, ?, ?, 1) ON CONFLICT (repo, number, login) DO NOTHING",
            (repo, number, login.lower(), now))


async def review_finished(db: "Database", *, repo: str, number: int, login: str | None = None) -> None:
    """A request stops counting as load once answered, withdrawn, or its PR closed
    (``login`` None: every request of the PR)."""
    if login is None:
        await db.execute("UPDATE pr_context_review_requests SET active = 0 WHERE repo = ? AND number = ?",
                         (repo, number))
    else:
        await db.execute("UPDATE pr_context_review_requests SET active = 0"
                         " WHERE repo = ? AND number = ? AND lower(login) = ?", (repo, number, login.lower()))


async def pr_closed(db: "Database", *, repo: str, number: int, at: float) -> None:
    """A close ends every request of the PR as load, unless the PR was seen reopened after
    ``at`` (a late delivery): then it is open and they still count. See ``_state_change``."""
    async with db.transaction():
        if await _state_change(db, repo, number, "closed_at", "reopened_at", at):
            await db.execute("UPDATE pr_context_review_requests SET active = 0 WHERE repo = ? AND number = ?",
                             (repo, number))


async def sync_review_requests(db: "Database", *, repo: str, number: int, requested: Sequence[str],
                               at: float | None = None) -> None:
    """On reopening (a close ended them all): the bot's requests GitHub lists on the PR
    (``requested``: logins and ``org/team`` slugs) count again, the others stay ended.
    A reopen at ``at`` from before the latest close seen (a late delivery) changes nothing:
    the PR is closed. (``at`` None: a Record queued before reopens were ordered.)"""
    listed = {name.lower() for name in requested}
    async with db.transaction():
        if at is not None and not await _state_change(db, repo, number, "reopened_at", "closed_at", at):
            return
        rows = await db.fetchall(
            "SELECT login, active FROM pr_context_review_requests WHERE repo = ? AND number = ?", (repo, number))
        for row in rows:
            active = row["login"].lower() in listed
            if bool(row["active"]) != active:
                await db.execute("UPDATE pr_context_review_requests SET active = ?"
                                 " WHERE repo = ? AND number = ? AND login = ?",
                                 (1 if active else 0, repo, number, row["login"]))


async def _state_change(db: "Database", repo: str, number: int, column: str, other: str, at: float) -> bool:
    """Remember a close or reopen (``column``) at ``at``, and say whether it is the PR's state
    now: not if the other kind was seen strictly later. At one instant the one processed last
    wins, as in the SLA clocks (two changes within one second cannot be ordered)."""
    await db.execute(
        f"INSERT INTO pr_context_open_state (repo, number, {column}) VALUES (?, ?, ?)"
        f" ON CONFLICT (repo, number) DO UPDATE SET {column} = excluded.{column}"
        f" WHERE pr_context_open_state.{column} IS NULL OR pr_context_open_state.{column} < excluded.{column}",
        (repo, number, at))
    later = await db.fetchval(f"SELECT {other} FROM pr_context_open_state WHERE repo = ? AND number = ?",
                              (repo, number))
    return later is None or float(later) <= at


async def remember_head(db: "Database", *, repo: str, number: int, head_sha: str) -> None:
    await db.execute(
        "INSERT INTO pr_context_heads (repo, number, head_sha, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (repo, number) DO UPDATE SET head_sha = excluded.head_sha,"
        " updated_at = excluded.updated_at",
        (repo, number, head_sha, time.time()))


async def card_written(db: "Database", *, repo: str, number: int) -> bool:
    """Guard: the PR's card comment exists, as the executor recorded it once it made or found
    it. A check's completion only edits that card; the PR's own events create it, one at a
    time (a check run's delivery runs beside the PR's, and both would post one)."""
    key = state.created_key(A.UpsertComment(repo, number=number, marker=CARD_MARKER), FEATURE)
    return key is not None and await state.created_object(db, key) is not None


GUARDS = {"card_written": card_written}

# How long a check's refresh waits for a card whose first posting is under way (the PR's
# delivery posts it within seconds; one that failed is retried and renders the news itself).
CARD_WAIT = 60.0
CARD_WAIT_STEP = 2.0


def _posting_key(repo: str, number: int) -> str:
    return f"{FEATURE}:card-posting:{repo}#{number}"


async def card_posting(db: "Database", *, repo: str, number: int) -> None:
    """Writer, just before the PR's delivery posts its first card: a check's completion
    decided meanwhile (its delivery runs beside the PR's) waits for it (await_card)."""
    # The time of writing, not of the event: the wait is for this posting, whenever it runs.
    await state.replace_created(db, _posting_key(repo, number), repo, "card-posting", str(time.time()))


async def await_card(db: "Database", *, repo: str, number: int) -> None:
    """Writer, before a check's edit of the card: while the card is being posted for the
    first time (noted less than CARD_WAIT ago) and is not there yet, the check's delivery is
    decided again shortly (RetryLater), then on the posted card, so the card shows what the
    check brought without waiting for the PR's next event. Otherwise nothing: no card is
    coming (another bot's PR), and the guarded edit is skipped."""
    if await card_written(db, repo=repo, number=number):
        return
    noted = await state.created_object(db, _posting_key(repo, number))
    now = time.time()
    if noted is not None and now - float(noted) < CARD_WAIT:
        # Bounded by CARD_WAIT, not by the delivery's attempts (core.max_attempts 6 would end it
        # dead after 12 s): these waits are no attempts.
        raise RetryLater(f"the card of {repo}#{number} is being posted", retry_at=now + CARD_WAIT_STEP,
                         counted=False)


WRITERS = {
    "remember_first_timer": remember_first_timer,
    "record_merged": record_merged,
    "record_review_requests": record_review_requests,
    "review_finished": review_finished,
    "sync_review_requests": sync_review_requests,
    "pr_closed": pr_closed,
    "remember_head": remember_head,
    "card_posting": card_posting,
    "await_card": await_card,
}


# --- reads -----------------------------------------------------------------------

async def first_timer_decision(db: "Database", repo: str, number: int) -> dict[str, Any] | None:
    return await db.fetchone(
        "SELECT author_id, first_timer, reason FROM pr_context_prs WHERE repo = ? AND number = ?",
        (repo, number))


async def requested_before(db: "Database", repo: str, number: int) -> set[str]:
    """Everyone the bot asked on this PR, in lower case (rows from before logins were
    lowered may differ in case)."""
    rows = await db.fetchall(
        "SELECT login FROM pr_context_review_requests WHERE repo = ? AND number = ?", (repo, number))
    return {r["login"].lower() for r in rows}


async def review_requests(db: "Database", repo: str, number: int) -> dict[str, bool]:
    """The bot's requests on this PR, in lower case, and whether each still counts as load."""
    rows = await db.fetchall(
        "SELECT login, active FROM pr_context_review_requests WHERE repo = ? AND number = ?", (repo, number))
    return {r["login"].lower(): bool(r["active"]) for r in rows}


async def changed_state_after(db: "Database", repo: str, number: int, column: str, at: float) -> bool:
    """Whether a close (``column`` "closed_at") or reopen ("reopened_at") of the PR was seen
    strictly after ``at``."""
    if column not in ("closed_at", "reopened_at"):
        raise ValueError(column)
    later = await db.fetchval(f"SELECT {column} FROM pr_context_open_state WHERE repo = ? AND number = ?",
                              (repo, number))
    return later is not None and float(later) > at


async def prs_with_head(db: "Database", repo: str, head_sha: str) -> list[int]:
    rows = await db.fetchall(
        "SELECT number FROM pr_context_heads WHERE repo = ? AND head_sha = ? ORDER BY number",
        (repo, head_sha))
    return [int(r["number"]) for r in rows]


async def head_of(db: "Database", repo: str, number: int) -> str | None:
    return await db.fetchval(
        "SELECT head_sha FROM pr_context_heads WHERE repo = ? AND number = ?", (repo, number))


async def area_labels_added(db: "Database", repo: str, number: int, prefix: str) -> tuple[set[str], set[str]]:
    """Area labels this feature added (the executor's ledger; others' labels stay theirs):
    those still the bot's, and those someone else took off since. The ledger names the
    batch, which is the feature or "<feature>.<handler>"."""
    rows = await db.fetchall(
        "SELECT label, removed_at FROM bot_labels WHERE repo = ? AND number = ? AND (feature = ? OR feature LIKE ?)",
        (repo, number, FEATURE, FEATURE + ".%"))
    area = [r for r in rows if r["label"].casefold().startswith(prefix.casefold())]
    return ({r["label"] for r in area if r["removed_at"] is None},
            {r["label"] for r in area if r["removed_at"] is not None})
