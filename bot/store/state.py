"""Small core tables: installations, last good config, bot-added labels, decisions,
executed actions, created objects and review requests."""
from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

from ..core import actions as A
from .db import Database


def _upsert(db: Database, table: str, key_cols: tuple[str, ...], cols: dict[str, Any]) -> str:
    names = ", ".join(cols)
    marks = ", ".join("?" * len(cols))
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in key_cols)
    return (f"INSERT INTO {table} ({names}) VALUES ({marks})"
            f" ON CONFLICT ({', '.join(key_cols)}) DO UPDATE SET {updates}")


# The events whose whole point is the visibility change: what they say of it is authoritative.
VISIBILITY_EVENTS = frozenset({"repository.privatized", "repository.publicized"})
# Deliveries are ordered by two clocks: when each was received (``private_at``, of the newest
# applied) and when GitHub took its payload's snapshot (``repository.updated_at``:
# ``private_snapshot_at``, the newest applied). A recovered delivery is received (so dated) up to
# days late, but its snapshot gives it away. Being wrongly hidden is the safe mistake, so:
# - a delivery saying private applies if it is newer on either clock (a retried or concurrent
#   delivery processed after a staler one still makes the repository private);
# - one saying public applies only if it is newer on the received clock and, where both
#   snapshots are known, not older on the payload's; and never over a privatized event or a live
#   read (``authoritative``) unless it is one itself: a publicized event or the next live read.
# Equal snapshots follow the received clock (GitHub's clock may not move between two events).
_RECEIVED_NEWER = ("(repo_installations.private_at IS NULL"
                   " OR excluded.private_at >= repo_installations.private_at)")
_BOTH_SNAPSHOTS = ("repo_installations.private_snapshot_at IS NOT NULL"
                   " AND excluded.private_snapshot_at IS NOT NULL")
_SNAPSHOT_NOT_OLDER = (f"({_BOTH_SNAPSHOTS}"
                       " AND excluded.private_snapshot_at >= repo_installations.private_snapshot_at)")
_SNAPSHOT_OLDER = f"({_BOTH_SNAPSHOTS} AND excluded.private_snapshot_at < repo_installations.private_snapshot_at)"
_PRIVATE_APPLIES = (
    f"({_RECEIVED_NEWER} OR (excluded.is_private = 1 AND {_SNAPSHOT_NOT_OLDER}))"
    f" AND NOT (repo_installations.is_private = 1 AND excluded.is_private = 0 AND {_SNAPSHOT_OLDER})"
    " AND (excluded.private_authoritative = 1 OR repo_installations.private_authoritative = 0"
    " OR repo_installations.is_private IS NULL"
    " OR NOT (repo_installations.is_private = 1 AND excluded.is_private = 0))")


def _newest(column: str) -> str:
    """The later of the stored and the delivery's ``column``, either unknown (NULL) left out."""
    return (f"CASE WHEN excluded.{column} IS NOT NULL AND (repo_installations.{column} IS NULL"
            f" OR excluded.{column} > repo_installations.{column}) THEN excluded.{column}"
            f" ELSE repo_installations.{column} END")


_REMEMBER_VISIBILITY = (
    "INSERT INTO repo_installations (repo, installation_id, updated_at, is_private, private_at,"
    " private_snapshot_at, private_authoritative) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo) DO UPDATE SET"
    " installation_id = excluded.installation_id, updated_at = excluded.updated_at,"
    f" is_private = CASE WHEN {_PRIVATE_APPLIES} THEN excluded.is_private ELSE repo_installations.is_private END,"
    # An ordinary delivery that agrees with a privatized/publicized event keeps it authoritative.
    " private_authoritative = CASE WHEN NOT ({applies}) THEN repo_installations.private_authoritative"
    " WHEN excluded.private_authoritative = 1 THEN 1"
    " WHEN repo_installations.is_private = excluded.is_private THEN repo_installations.private_authoritative"
    " ELSE 0 END,"
    # Both clocks only move forward: a delivery applied by one of them does not set the other back.
    " private_at = CASE WHEN {applies} THEN {newest_received} ELSE repo_installations.private_at END,"
    " private_snapshot_at = CASE WHEN {applies} THEN {newest_snapshot} ELSE repo_installations.private_snapshot_at END"
).format(applies=_PRIVATE_APPLIES, newest_received=_newest("private_at"),
         newest_snapshot=_newest("private_snapshot_at"))


async def remember_installation(db: Database, repo: str, installation_id: int,
                                private: bool | None = None, *, private_at: float | None = None,
                                snapshot_at: float | None = None, authoritative: bool = False) -> None:
    """``private``: the repository's visibility as the caller saw it; None keeps what is known.
    ``private_at``: when the delivery saying it was received (default now); ``snapshot_at``:
    its payload's ``repository.updated_at`` (epoch seconds), None when it has none;
    ``authoritative``: said by a repository.privatized/publicized event or read live from GitHub.
    Nothing is remembered for an installation or a repository that left it (``forget_*``) no
    earlier than ``private_at``: a delivery queued before the uninstall must not bring it back."""
    now = time.time()
    if await _departed(db, repo, installation_id, now if private_at is None else float(private_at)):
        return
    if private is None:
        cols: dict[str, Any] = {"repo": repo, "installation_id": installation_id, "updated_at": now}
        await db.execute(_upsert(db, "repo_installations", ("repo",), cols), tuple(cols.values()))
        return
    await db.execute(_REMEMBER_VISIBILITY, (repo, installation_id, now, int(private),
                                            now if private_at is None else float(private_at),
                                            None if snapshot_at is None else float(snapshot_at),
                                            int(authoritative)))


async def _departed(db: Database, repo: str, installation_id: int, seen_at: float) -> bool:
    return await db.fetchval(
        "SELECT 1 FROM installation_departures WHERE installation_id = ? AND full_name IN ('', ?)"
        " AND gone_at >= ?", (installation_id, repo, seen_at)) is not None


async def forget_installation(db: Database, installation_id: int, *, at: float | None = None) -> list[str]:
    """The App was uninstalled (as GitHub said ``at``, default now): its repositories leave
    ``installations`` for good (a reinstall is another installation id). Returns their names."""
    gone = [r["repo"] for r in await db.fetchall(
        "SELECT repo FROM repo_installations WHERE installation_id = ? ORDER BY repo", (installation_id,))]
    await _record_departure(db, installation_id, "", time.time() if at is None else at)
    await db.execute("DELETE FROM repo_installations WHERE installation_id = ?", (installation_id,))
    return gone


async def forget_repos(db: Database, installation_id: int, repos: Iterable[str], *, at: float) -> None:
    """Repositories taken out of an installation, as a delivery received ``at`` said; one put
    back later (a newer delivery) is remembered again."""
    for repo in repos:
        await _record_departure(db, installation_id, repo, at)
        await db.execute("DELETE FROM repo_installations WHERE installation_id = ? AND repo = ?",
                         (installation_id, repo))


async def _record_departure(db: Database, installation_id: int, full_name: str, at: float) -> None:
    # The latest word wins: a repository removed, added back and removed again is gone since the last.
    await db.execute("INSERT INTO installation_departures (installation_id, full_name, gone_at) VALUES (?, ?, ?)"
                     " ON CONFLICT (installation_id, full_name) DO UPDATE SET gone_at ="
                     " CASE WHEN excluded.gone_at > installation_departures.gone_at THEN excluded.gone_at"
                     " ELSE installation_departures.gone_at END", (installation_id, full_name, at))


async def set_suspended(db: Database, installation_id: int, suspended: bool, *, at: float) -> bool:
    """Record that the installation is (no longer) suspended, as said ``at``; a word older than
    the one recorded changes nothing. Returns whether the installation was recorded as
    suspended before."""
    before = await db.fetchval("SELECT suspended FROM installation_suspensions WHERE installation_id = ?",
                               (installation_id,))
    await db.execute(
        "INSERT INTO installation_suspensions (installation_id, suspended, at, probed_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (installation_id) DO UPDATE SET"
        " suspended = CASE WHEN excluded.at >= installation_suspensions.at THEN excluded.suspended"
        " ELSE installation_suspensions.suspended END,"
        " at = CASE WHEN excluded.at >= installation_suspensions.at THEN excluded.at"
        " ELSE installation_suspensions.at END,"
        " probed_at = excluded.probed_at", (installation_id, int(suspended), at, at))
    return bool(before)


async def suspended_installations(db: Database) -> dict[int, float]:
    """Installations recorded as suspended: when a job last tried each one's token."""
    rows = await db.fetchall("SELECT installation_id, probed_at FROM installation_suspensions WHERE suspended = 1")
    return {int(r["installation_id"]): float(r["probed_at"]) for r in rows}


async def set_archived(db: Database, repo: str, archived: bool, *, at: float) -> None:
    """Whether ``repo`` is archived, as a delivery received ``at`` said (its payload's
    ``repository.archived``); a delivery received before the one recorded changes nothing."""
    await db.execute("UPDATE repo_installations SET archived = ?, archived_at = ?"
                     " WHERE repo = ? AND (archived_at IS NULL OR archived_at <= ?)",
                     (int(archived), at, repo, at))


async def archived_repos(db: Database) -> set[str]:
    return {r["repo"] for r in await db.fetchall("SELECT repo FROM repo_installations WHERE archived = 1")}


async def installation_seen_at(db: Database, installation_id: int) -> float | None:
    """When a delivery last told of the installation (its newest repository row), or None."""
    return await db.fetchval("SELECT MAX(updated_at) FROM repo_installations WHERE installation_id = ?",
                             (installation_id,))


async def installations(db: Database) -> list[dict[str, Any]]:
    return await db.fetchall("SELECT repo, installation_id, is_private FROM repo_installations ORDER BY repo")


async def public_repos(db: Database) -> set[str]:
    """Lower-case names of the installed repositories known to be public: what a page or a
    post anyone can read may count of an organisation (not known counts as private)."""
    return {row["repo"].lower() for row in await installations(db) if row["is_private"] == 0}


async def installation_named(db: Database, repo: str) -> dict[str, Any] | None:
    """The installed repository ``repo`` names in any case (an operator's or a viewer's typing;
    GitHub's names ignore case), as ``installations`` gives it, or None."""
    # lower() in SQL folds ASCII only on SQLite: enough, GitHub's names are ASCII.
    return await db.fetchone("SELECT repo, installation_id, is_private FROM repo_installations"
                             " WHERE lower(repo) = ? ORDER BY repo LIMIT 1", (repo.lower(),))


async def installed_name(db: Database, repo: str) -> str:
    """``repo`` (an operator's typing, in any case) as the installed repository's rows are kept
    under, GitHub's spelling; as typed when no installed repository has that name."""
    row = await installation_named(db, repo)
    return str(row["repo"]) if row is not None else repo


async def installation_for(db: Database, repo: str) -> int | None:
    return await db.fetchval("SELECT installation_id FROM repo_installations WHERE repo = ?", (repo,))


class ConfigStore:
    """Persistence of the last good repo override (bot.rules.repo's protocol)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def load_last_good(self, repo: str) -> str | None:
        return await self.db.fetchval("SELECT text FROM repo_config WHERE repo = ?", (repo,))

    async def save_last_good(self, repo: str, text: str, sha: str | None) -> None:
        cols = {"repo": repo, "text": text, "sha": sha, "saved_at": time.time()}
        await self.db.execute(_upsert(self.db, "repo_config", ("repo",), cols), tuple(cols.values()))


# --- the bot-label ledger: labels the bot itself put on an issue ------------------------------
# GitHub matches label names ignoring case (the bot adds "bug", the repository's "Bug" is
# applied, and events then say "Bug"), so the ledger is read and cleared ignoring case too.

async def record_bot_label(db: Database, repo: str, number: int, label: str, feature: str) -> None:
    """The bot put ``label`` on: it is the bot's (again, if someone had taken it off before)."""
    cols = {"repo": repo, "number": number, "label": label, "feature": feature, "added_at": time.time(),
            "removed_at": None, "removed_by": ""}
    await db.execute(_upsert(db, "bot_labels", ("repo", "number", "label"), cols), tuple(cols.values()))


async def forget_bot_label(db: Database, repo: str, number: int, label: str) -> None:
    """The bot took the label off itself: nothing is left to remember."""
    for name in _matching(await bot_labels(db, repo, number), label):
        await db.execute("DELETE FROM bot_labels WHERE repo = ? AND number = ? AND label = ?",
                         (repo, number, name))


async def release_bot_label(db: Database, repo: str, number: int, label: str, removed_by: str = "") -> None:
    """Someone else took the label off: it is not the bot's any more, and is remembered as
    taken off (``released_bot_labels``) until the bot puts it on again."""
    for name in _matching(await bot_labels(db, repo, number), label):
        await db.execute("UPDATE bot_labels SET removed_at = ?, removed_by = ?"
                         " WHERE repo = ? AND number = ? AND label = ?", (time.time(), removed_by, repo, number, name))


async def bot_added(db: Database, repo: str, number: int, label: str) -> bool:
    return bool(_matching(await bot_labels(db, repo, number), label))


async def bot_labels(db: Database, repo: str, number: int) -> set[str]:
    """The bot's labels on the item, the names as the bot recorded them: compare them
    ignoring case (``casefold``)."""
    rows = await db.fetchall("SELECT label FROM bot_labels WHERE repo = ? AND number = ? AND removed_at IS NULL",
                             (repo, number))
    return {r["label"] for r in rows}


async def released_bot_labels(db: Database, repo: str, number: int) -> dict[str, str]:
    """Labels the bot added that someone else took off since: name -> who."""
    rows = await db.fetchall("SELECT label, removed_by FROM bot_labels WHERE repo = ? AND number = ?"
                             " AND removed_at IS NOT NULL", (repo, number))
    return {r["label"]: r["removed_by"] for r in rows}


def _matching(recorded: Iterable[str], label: str) -> list[str]:
    # In Python rather than SQL: SQLite's lower() folds ASCII only.
    wanted = label.casefold()
    return [name for name in recorded if name.casefold() == wanted]


async def add_decision(db: Database, *, repo: str, number: int, feature: str, delivery_id: str,
                       summary: str) -> None:
    await db.execute(
        "INSERT INTO decisions (repo, number, feature, delivery_id, summary, at) VALUES (?, ?, ?, ?, ?, ?)",
        (repo, number, feature, delivery_id, summary, time.time()))


async def decisions_for(db: Database, repo: str, number: int, limit: int = 20) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT feature, summary, at, delivery_id FROM decisions WHERE repo = ? AND number = ?"
        " ORDER BY id DESC LIMIT ?", (repo, number, limit))
    return list(reversed(rows))


async def action_result(db: Database, delivery_id: str, fingerprint: str) -> str | None:
    """What the ledger holds for an action already handled in this delivery ("" when it
    stored no result), or None if it has not been handled yet."""
    row = await db.fetchone("SELECT result FROM executed_actions WHERE delivery_id = ? AND fingerprint = ?",
                            (delivery_id, fingerprint))
    return None if row is None else row["result"] or ""


async def mark_action_done(db: Database, delivery_id: str, fingerprint: str, kind: str,
                           result: str | None) -> None:
    await db.execute(
        "INSERT INTO executed_actions (delivery_id, fingerprint, kind, result, done_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (delivery_id, fingerprint) DO NOTHING",
        (delivery_id, fingerprint, kind, result, time.time()))


def marker_line(marker: str) -> str:
    """A sticky comment's marker as it stands in the comment: a bare name becomes an HTML comment."""
    return marker if marker.startswith("<!--") else f"<!-- {marker} -->"


def created_key(action: A.Action, feature: str) -> str | None:
    """The key under which the executor records what ``action`` made for ``feature`` (a
    feature, or the job that asked), so a job can tell whether its post exists without
    knowing the executor's bookkeeping: a sticky comment by its marker, a Discussion by its
    dedupe key. None for actions recorded by no such key."""
    if isinstance(action, A.UpsertComment):
        return f"comment:{action.repo}#{action.number}:{marker_line(action.marker)}"
    if isinstance(action, A.CreateDiscussion) and action.dedupe_key:
        return f"discussion:{action.repo}:{feature}:{action.category}:{action.dedupe_key}"
    return None


def _name_keyed_prefixes(repo: str) -> tuple[str, ...]:
    """The beginnings of the created_objects keys that name a repository (``created_key``,
    ``cancel_key``): what a rename or transfer rewrites. The other keys are hashes of one
    delivery's actions (a retry's look-up), which a rename does not need to carry."""
    return (f"comment:{repo}#", f"discussion:{repo}:", f"run-cancel:{repo}:")


async def rename_created_keys(db: Database, old: str, new: str) -> int:
    """Rewrite the keys naming ``old`` to name ``new``, so the card, a report's discussion or a
    cancel's answer is found again under the new name rather than made a second time. A key
    already under the new name was recorded later, and stays."""
    rewritten = 0
    for before, after in zip(_name_keyed_prefixes(old), _name_keyed_prefixes(new)):
        n = len(before)
        await db.execute(
            "DELETE FROM created_objects WHERE substr(fingerprint, 1, ?) = ? AND EXISTS (SELECT 1"
            " FROM created_objects other WHERE other.fingerprint = ? || substr(created_objects.fingerprint, ?))",
            (n, before, after, n + 1))
        rewritten += await db.execute(
            "UPDATE created_objects SET fingerprint = ? || substr(fingerprint, ?) WHERE substr(fingerprint, 1, ?) = ?",
            (after, n + 1, n, before))
    return rewritten


async def created_object(db: Database, fingerprint: str) -> str | None:
    return await db.fetchval("SELECT object_id FROM created_objects WHERE fingerprint = ?", (fingerprint,))


async def remember_created(db: Database, fingerprint: str, repo: str, kind: str, object_id: str) -> None:
    await db.execute(
        "INSERT INTO created_objects (fingerprint, repo, kind, object_id, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING",
        (fingerprint, repo, kind, object_id, time.time()))


async def replace_created(db: Database, fingerprint: str, repo: str, kind: str, object_id: str) -> None:
    """Like remember_created, but the new object takes the key's place (the latest wins)."""
    await db.execute(
        "INSERT INTO created_objects (fingerprint, repo, kind, object_id, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET object_id = excluded.object_id,"
        " created_at = excluded.created_at",
        (fingerprint, repo, kind, object_id, time.time()))


async def forget_created(db: Database, fingerprint: str) -> None:
    await db.execute("DELETE FROM created_objects WHERE fingerprint = ?", (fingerprint,))


def cancel_key(repo: str, run_id: int, owing: str = "") -> str:
    """Where the executor records GitHub's answer to the latest cancel of a workflow run
    (see executor.workflows.cancel_workflow_run). ``owing``: what the cancel was sent for, when a
    feature owes it (CancelWorkflowRun.owing): the answer to a cancel sent for one owing is then
    never read for another (the same run ended again, after a "Re-run", owes a new cancel)."""
    return f"run-cancel:{repo}:{run_id}" + (f":{owing}" if owing else "")


async def cancel_answer(db: Database, repo: str, run_id: int, owing: str = "") -> str | None:
    """What GitHub answered the latest cancel of ``run_id`` sent for ``owing``: "cancelled" or
    "force-cancelled" (202: accepted, the run may still be stopping), "already ended" (409, or
    the attempt it was for reported completed), "gone" (404), "re-run" (not sent: the run has
    moved on to a later attempt than the one it was for), or "dry-run" (not sent: the executor
    is in dry-run there). None when none was sent, or when the latest one failed or is still
    on its way."""
    return await created_object(db, cancel_key(repo, run_id, owing))


# --- check runs: the run the executor last wrote for each check, and whether it completed it ------

async def check_run(db: Database, repo: str, head_sha: str, name: str) -> tuple[str, bool] | None:
    """(run id, completed) of the check's run as the executor last wrote it."""
    row = await db.fetchone("SELECT run_id, completed FROM check_runs WHERE repo = ? AND head_sha = ? AND name = ?",
                            (repo, head_sha, name))
    return None if row is None else (row["run_id"], bool(row["completed"]))


async def remember_check_run(db: Database, repo: str, head_sha: str, name: str, run_id: str,
                             completed: bool) -> None:
    cols = {"repo": repo, "head_sha": head_sha, "name": name, "run_id": run_id, "completed": int(completed),
            "updated_at": time.time()}
    await db.execute(_upsert(db, "check_runs", ("repo", "head_sha", "name"), cols), tuple(cols.values()))


async def check_names_on(db: Database, repo: str, head_sha: str) -> set[str]:
    """The checks the executor has reported on one commit."""
    rows = await db.fetchall("SELECT name FROM check_runs WHERE repo = ? AND head_sha = ?", (repo, head_sha))
    return {r["name"] for r in rows}


async def check_names_seen(db: Database, repo: str, names: Iterable[str]) -> set[str]:
    """Which of ``names`` the executor has reported on any commit of the repository."""
    wanted = sorted(set(names))
    if not wanted:
        return set()
    rows = await db.fetchall(f"SELECT DISTINCT name FROM check_runs WHERE repo = ? AND name IN"
                             f" ({', '.join('?' * len(wanted))})", (repo, *wanted))
    return {r["name"] for r in rows}


async def forget_check_runs(db: Database, repo: str, head_sha: str) -> None:
    """Drop what the executor remembers of one commit's check runs (a commit nobody will report
    on again, such as a destroyed merge group's; a later write would find its run on GitHub)."""
    await db.execute("DELETE FROM check_runs WHERE repo = ? AND head_sha = ?", (repo, head_sha))


# --- review requests: what GitHub answered when the executor asked someone to review -------------
# Like bot_labels: written by the executor (which alone talks to GitHub), read by features, so a
# feature never records as asked someone GitHub refused (a 422 for a name that cannot review).

async def remember_review_requests(db: Database, repo: str, number: int, outcome: Mapping[str, str]) -> None:
    """who (a login or ``owner/team-slug``, any case) -> "requested" or "refused"; the latest
    answer wins."""
    for who, result in outcome.items():
        await db.execute(
            "INSERT INTO review_requests (repo, number, who, result, answered_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (repo, number, who) DO UPDATE SET result = excluded.result,"
            " answered_at = excluded.answered_at",
            (repo, number, who.lower(), result, time.time()))


async def review_request_results(db: Database, repo: str, number: int, names: Iterable[str]) -> dict[str, str]:
    """Lower-cased name -> "requested" or "refused", for the names the executor asked on this
    PR; names never asked are absent."""
    wanted = sorted({name.lower() for name in names})
    if not wanted:
        return {}
    rows = await db.fetchall(
        "SELECT who, result FROM review_requests WHERE repo = ? AND number = ?"
        f" AND who IN ({', '.join('?' * len(wanted))})", (repo, number, *wanted))
    return {r["who"]: r["result"] for r in rows}
