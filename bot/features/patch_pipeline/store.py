"""The feature's tables: runs (one per head: a pull request's, or a direct push's to a gated
branch, ``number`` 0 and its ``branch``) and their stages, the dispatches whose
pipeline the bot ended before GitHub reported their run (strays), and the workflow runs the bot
owes a cancel (see cancels). Writers are upserts, so a retried delivery writes the same rows
again.

A run is followed from several queues at once (the PR's events, the repository's workflow
events, the timeout sweep), so each decision about a run carries the ``revision`` it read and
its write is a compare-and-set: if the run changed in between, the write is refused with
StaleDecision, a RetryLater: the delivery (or job) stops before its check-run update and
is decided again on the current state: a run superseded by
a push stays superseded, and its check is not turned back by a decision made before.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from typing import Any, Mapping, Sequence

from ...core import pipeline as P
from ...core.retry import RetryLater
from ...store.db import Database
from ...store.state import cancel_answer, cancel_key, forget_created

log = logging.getLogger("bot.patch_pipeline")

LIVE = (P.DISPATCHED, P.RUNNING)
REJECTED = "rejected"

_RUN_COLS = ("repo", "head_sha", "number", "status", "conclusion", "signers", "patches", "reason",
             "run_id", "run_url", "superseded_by", "dispatched_at", "updated_at", "attempt",
             "attempt_started_at", "revision")
_BRANCH_COLS = ("repo", "branch", "head_sha", "pending", "unlisted", "rules", "updated_at")
_STAGE_COLS = ("repo", "head_sha", "position", "name", "status", "started_at", "completed_at", "url", "legs")


# How long the runs the bot ended are remembered (migration 0009): far past any late event.
ENDED_RUN_KEEP = 30 * 86400.0


class StaleDecision(RetryLater):
    """The run changed after the decision read it: the delivery is decided again, at once
    (no need to back off: the next decision reads the new state)."""


def _upsert_sql(table: str, cols: Sequence[str], keys: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    return (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}")


# --- Run <-> plain data (Record args are JSON) ------------------------------------

def run_to_args(run: P.Run) -> dict[str, Any]:
    return asdict(run)  # stages and their legs become nested dicts


def _stage(data: Mapping[str, Any]) -> P.Stage:
    legs = data.get("legs") or ()
    if isinstance(legs, str):  # the stages table keeps them as JSON text
        legs = json.loads(legs)
    return P.Stage(**{**data, "legs": tuple(P.Leg(**leg) for leg in legs)})


def run_from_args(data: Mapping[str, Any]) -> P.Run:
    return P.Run(**{**data, "stages": tuple(_stage(s) for s in data["stages"])})


# --- writers -------------------------------------------------------------------------

async def _next_revision(db: Database, repo: str, head_sha: str) -> int:
    current = await db.fetchval("SELECT revision FROM patch_pipeline_runs WHERE repo = ? AND head_sha = ?",
                                (repo, head_sha))
    return 0 if current is None else int(current) + 1


async def _set_branch(db: Database, repo: str, head_sha: str, branch: str | None) -> None:
    """A push decided the head for ``branch``. A pull request deciding it again leaves it
    (None): the branch still holds the head, and its next push supersedes the pipeline."""
    if branch is not None:
        await db.execute("UPDATE patch_pipeline_runs SET branch = ? WHERE repo = ? AND head_sha = ?",
                         (branch, repo, head_sha))


async def record_rejection(db: Database, *, repo: str, number: int, head_sha: str, reason: str,
                           patches: Sequence[str], at: float, branch: str | None = None) -> None:
    async with db.transaction():
        row = {"repo": repo, "head_sha": head_sha, "number": number, "status": REJECTED,
               "conclusion": "failure", "signers": "", "patches": json.dumps(list(patches)),
               "reason": reason[:2000], "run_id": None, "run_url": None, "superseded_by": None,
               "dispatched_at": at, "updated_at": at, "attempt": 1, "attempt_started_at": None,
               "revision": await _next_revision(db, repo, head_sha)}
        await db.execute(_upsert_sql("patch_pipeline_runs", _RUN_COLS, ("repo", "head_sha")),
                         tuple(row[c] for c in _RUN_COLS))
        await _set_branch(db, repo, head_sha, branch)
        await db.execute("DELETE FROM patch_pipeline_stages WHERE repo = ? AND head_sha = ?", (repo, head_sha))


async def branch_decided(db: Database, *, repo: str, branch: str, head_sha: str, pending: Sequence[str],
                         unlisted: bool, at: float, rules: str = "", moves: bool = True) -> None:
    """The bot decided ``head_sha`` for the gated ``branch`` (migration 0008): its head now, with
    the patches still owed a passing pipeline (``unlisted``: unknown), under the patch ``rules``.
    Not ``moves``: only while ``head_sha`` is the branch's head still (gate.branch_decided)."""
    values = (json.dumps(sorted(set(pending))), int(unlisted), rules, at)
    if not moves:
        await db.execute("UPDATE patch_pipeline_branches SET pending = ?, unlisted = ?, rules = ?, updated_at = ?"
                         " WHERE repo = ? AND branch = ? AND head_sha = ?", (*values, repo, branch, head_sha))
        return
    await db.execute(_upsert_sql("patch_pipeline_branches", _BRANCH_COLS, ("repo", "branch")),
                     (repo, branch, head_sha, *values))


async def forget_ended_runs(db: Database, *, before: float) -> None:
    await db.execute("DELETE FROM patch_pipeline_ended_runs WHERE at < ?", (before,))


async def remember_verified(db: Database, *, repo: str, verified: Sequence[Mapping[str, Any]], at: float) -> None:
    """Patches verified (or found remembered) by a decision, by content key (remembered.py)."""
    sql = _upsert_sql("patch_pipeline_verified", ("repo", "key", "method", "signer", "issuer", "log_index", "at"),
                      ("repo", "key"))
    await db.executemany(sql, [(repo, v["key"], v["method"], v["signer"], v.get("issuer"), v.get("log_index"), at)
                               for v in verified])


async def forget_verified(db: Database, *, before: float) -> None:
    await db.execute("DELETE FROM patch_pipeline_verified WHERE at < ?", (before,))


# A refusal's reason as kept: the check shows at most a few hundred characters of it.
REFUSED_REASON_LEN = 1000


async def remember_refused(db: Database, *, repo: str, refused: Sequence[Mapping[str, Any]], at: float) -> None:
    """Patches refused (or found refused before) by a decision, by content key (remembered.py)."""
    sql = _upsert_sql("patch_pipeline_refused", ("repo", "key", "reason", "at"), ("repo", "key"))
    await db.executemany(sql, [(repo, v["key"], str(v["reason"])[:REFUSED_REASON_LEN], at) for v in refused])


async def forget_refused(db: Database, *, before: float) -> None:
    await db.execute("DELETE FROM patch_pipeline_refused WHERE at < ?", (before,))


async def branch_deleted(db: Database, *, repo: str, branch: str) -> None:
    """The gated ``branch`` is gone: nothing is owed on it, and its head is no branch's any more
    (a pull request of that commit is decided as any other; a branch of that name made again
    starts from its tree)."""
    await db.execute("DELETE FROM patch_pipeline_branches WHERE repo = ? AND branch = ?", (repo, branch))


async def save_run(db: Database, *, repo: str, number: int, run: Mapping[str, Any], at: float,
                   signers: str | None = None, patches: Sequence[str] | None = None,
                   run_url: str | None = None, revision: int | None = None, stops: bool = False,
                   delivery_id: str | None = None, branch: str | None = None) -> None:
    """Save a run and all its stages.

    With ``revision`` (the one the decision read) this is an update that happens only if
    nobody wrote the run since; otherwise StaleDecision. Without it, it is a new dispatch
    for the head (``/verify-patch`` again, a push back to it), which replaces what was there;
    ``branch``: the branch a direct push decided it for.

    With ``stops`` the bot ends the pipeline itself, and what that leaves owed is written in
    the same transaction: a cancel of its workflow run (``delivery_id``: the decision's
    delivery, whose retry sends it again), or, the run not reported yet, the dispatch to know
    it by (a stray). Written apart, a failure in between would leave the pipeline ended and its
    run going on, and nothing deciding again would see it."""
    state = run_from_args(run)
    values: dict[str, Any] = {
        "number": number, "status": state.status, "conclusion": state.conclusion, "run_id": state.run_id,
        "superseded_by": state.superseded_by, "dispatched_at": state.dispatched_at, "updated_at": at,
        "attempt": state.attempt, "attempt_started_at": state.attempt_started_at}
    async with db.transaction():
        if revision is None:
            row = {"repo": repo, "head_sha": state.head_sha, "signers": signers or "",
                   "patches": json.dumps(list(patches or ())), "reason": "", "run_url": run_url, **values,
                   "revision": await _next_revision(db, repo, state.head_sha)}
            await db.execute(_upsert_sql("patch_pipeline_runs", _RUN_COLS, ("repo", "head_sha")),
                             tuple(row[c] for c in _RUN_COLS))
            await _set_branch(db, repo, state.head_sha, branch)
        else:
            if signers is not None:
                values["signers"] = signers
            if patches is not None:
                values["patches"] = json.dumps(list(patches))
            if run_url is not None:
                values["run_url"] = run_url
            sets = ", ".join(f"{c} = ?" for c in values)
            written = await db.execute(
                f"UPDATE patch_pipeline_runs SET {sets}, revision = revision + 1"
                " WHERE repo = ? AND head_sha = ? AND revision = ?",
                (*values.values(), repo, state.head_sha, revision))
            if not written:
                raise StaleDecision(f"patch pipeline run of {state.head_sha[:7]} in {repo} changed since "
                                    f"revision {revision} was read: deciding again")
        await db.execute("DELETE FROM patch_pipeline_stages WHERE repo = ? AND head_sha = ? AND position >= ?",
                         (repo, state.head_sha, len(state.stages)))
        for i, s in enumerate(state.stages):
            legs = json.dumps([asdict(leg) for leg in s.legs])
            await db.execute(_upsert_sql("patch_pipeline_stages", _STAGE_COLS, ("repo", "head_sha", "position")),
                             (repo, state.head_sha, i, s.name, s.status, s.started_at, s.completed_at, s.url, legs))
        if stops and state.run_id is not None:
            await owe_cancel(db, repo=repo, run_id=state.run_id, number=number, head_sha=state.head_sha,
                             delivery_id=delivery_id, at=at, attempt=state.attempt)
            await db.execute("INSERT INTO patch_pipeline_ended_runs (repo, run_id, at) VALUES (?, ?, ?)"
                             " ON CONFLICT (repo, run_id) DO NOTHING", (repo, state.run_id, at))
        elif stops:
            await remember_stray(db, repo=repo, number=number, head_sha=state.head_sha,
                                 dispatched_at=state.dispatched_at, at=at)


async def adopt_run(db: Database, *, repo: str, head_sha: str, number: int, at: float) -> None:
    """The head's run now belongs to pull request ``number`` (the same head opened again as a
    new pull request): that PR's card shows it, and its next push supersedes it."""
    await db.execute("UPDATE patch_pipeline_runs SET number = ?, updated_at = ?, revision = revision + 1"
                     " WHERE repo = ? AND head_sha = ?", (number, at, repo, head_sha))


# Runs of pipelines the bot ended before GitHub reported them (see strays): one row per such
# dispatch, kept a week (runs are created within seconds of their dispatch; GitHub offers a
# delivery again for three days).
STRAY_KEEP = 7 * 86400.0


async def remember_stray(db: Database, *, repo: str, number: int, head_sha: str, dispatched_at: float,
                         at: float) -> None:
    """The bot ended the pipeline of ``head_sha`` dispatched at ``dispatched_at`` while its
    workflow run was not reported yet: remembered, so that the run is cancelled when it is
    (written by the save that ends the pipeline, see save_run)."""
    async with db.transaction():
        await db.execute("INSERT INTO patch_pipeline_strays (repo, head_sha, dispatched_at, number, ended_at)"
                         " VALUES (?, ?, ?, ?, ?) ON CONFLICT (repo, head_sha, dispatched_at) DO NOTHING",
                         (repo, head_sha, dispatched_at, number, at))
        await db.execute("DELETE FROM patch_pipeline_strays WHERE repo = ? AND dispatched_at < ?",
                         (repo, at - STRAY_KEEP))


async def stray_stopped(db: Database, *, stray_id: int, run_id: int, at: float, repo: str, number: int,
                        head_sha: str, delivery_id: str | None = None, attempt: int = 1) -> None:
    """The workflow run ``run_id`` (its attempt ``attempt``) of a remembered dispatch is to be
    cancelled: its events, any number of them, are then recognised by its id and decide nothing
    more; the cancel is owed from now on (see owe_cancel)."""
    async with db.transaction():
        await db.execute("UPDATE patch_pipeline_strays SET run_id = ?, stopped_at = ? WHERE id = ? AND run_id IS NULL",
                         (run_id, at, stray_id))
        await owe_cancel(db, repo=repo, run_id=run_id, number=number, head_sha=head_sha,
                         delivery_id=delivery_id, at=at, attempt=attempt)


# Cancels the bot owes (see cancels), given up three days after the pipeline ended. GitHub
# itself stops a workflow run after 35 days at most (a job on its own runners after 6 hours),
# so a cancel never needs to be owed longer than that; but GitHub's outages last minutes or
# hours, not days: a cancel still refused after three days of attempts fails for a reason more
# attempts will not cure (the App's actions permission taken away, a run GitHub cannot stop)
# and is for an operator to look at: it is logged and dropped.
CANCEL_KEEP = 3 * 86400.0
# The sweep sends an owed cancel again a minute after an attempt, then waits twice as long
# each time up to half an hour (some 150 attempts in three days). A delivery's retry and the
# run's own events do not wait.
CANCEL_FIRST_WAIT = 60.0
CANCEL_MAX_WAIT = 1800.0
# A cancel GitHub accepted (202) is not the run's end: jobs whose condition holds on
# cancellation (``if: always()``, ``cancelled()``) go on, and a run can hang cancelling. GitHub
# gives a cancelled run five minutes (its documented cancellation timeout) to finish its
# cancellation steps before terminating what still runs; a run not reported completed a minute
# after that (the event's way to us) is not stopping by itself, and is force-cancelled. Waiting
# no less leaves a workflow's own clean-up on cancellation (``if: cancelled()``) its time.
FORCE_AFTER = 360.0
# What the executor records for a cancel it sent (state.cancel_answer): accepted only, or the
# end of the owing (the run had ended, is gone, or the cancel was never sent: the attempt owed
# had ended, the run re-run since, or dry-run).
ACCEPTED = ("cancelled", "force-cancelled")


def cancel_wait(attempts: int) -> float:
    """How long the sweep waits after the ``attempts``-th attempt of an owed cancel."""
    return min(CANCEL_MAX_WAIT, CANCEL_FIRST_WAIT * 2.0 ** min(max(0, attempts - 1), 32))


def owing(owed_at: float | None) -> str:
    """Names one owing of a run's cancel (CancelWorkflowRun.owing): the instant it was owed,
    which the decision owing it knows (the ``at`` of its end) and a newer owing replaces."""
    return "" if owed_at is None else repr(float(owed_at))


def _this_owing(owed_at: float | None) -> tuple[str, tuple[Any, ...]]:
    """SQL condition (and its parameters) on the owing ``owed_at``; None (actions decided before
    owings were named) matches any."""
    return ("", ()) if owed_at is None else (" AND owed_at = ?", (float(owed_at),))


async def owe_cancel(db: Database, *, repo: str, run_id: int, number: int, head_sha: str,
                     delivery_id: str | None, at: float, attempt: int = 1) -> None:
    """The bot owes a cancel of ``run_id`` (its attempt ``attempt``) from ``at`` on. Owed already
    (the run re-opened by a "Re-run", which keeps its id, and ended again; two decisions ending it
    on two replicas): owed anew, as if for the first time (its age, attempts and acceptance
    those of this end), so that neither the sweep gives it up at once nor an answer to the
    earlier owing's cancels settles it (see cancel_settled)."""
    await db.execute(
        "INSERT INTO patch_pipeline_cancels (repo, run_id, number, head_sha, delivery_id, owed_at, attempts, next_at,"
        " requested_at, run_attempt) VALUES (?, ?, ?, ?, ?, ?, 0, ?, NULL, ?) ON CONFLICT (repo, run_id) DO UPDATE"
        " SET number = excluded.number, head_sha = excluded.head_sha, delivery_id = excluded.delivery_id,"
        " owed_at = excluded.owed_at, attempts = 0, next_at = excluded.next_at, requested_at = NULL,"
        " run_attempt = excluded.run_attempt",
        (repo, run_id, number, head_sha, delivery_id, at, at + CANCEL_FIRST_WAIT, attempt))


async def cancel_attempted(db: Database, *, repo: str, run_id: int, at: float, owed_at: float | None = None) -> None:
    """A cancel of the owing ``owed_at`` is about to be sent: counted, and the sweep's next
    attempt put off."""
    cond, params = _this_owing(owed_at)
    async with db.transaction():
        attempts = await db.fetchval("SELECT attempts FROM patch_pipeline_cancels WHERE repo = ? AND run_id = ?"
                                     + cond, (repo, run_id, *params))
        if attempts is None:
            return  # settled meanwhile (by another replica), or owed anew: the cancel goes anyway, harmlessly
        await db.execute("UPDATE patch_pipeline_cancels SET attempts = attempts + 1, next_at = ?"
                         " WHERE repo = ? AND run_id = ?" + cond,
                         (at + cancel_wait(int(attempts) + 1), repo, run_id, *params))


async def cancel_settled(db: Database, *, repo: str, run_id: int, owed_at: float | None = None,
                         at: float | None = None) -> None:
    """Runs after the cancel in the same action list, whether it succeeded or failed for good
    (the executor goes on after a permanent failure), so it reads the answer the executor
    recorded for the owing ``owed_at`` (none: the cancel failed, it stays owed). The run had
    ended or is gone (409, 404), or the cancel was not sent (dry-run): owed no more. Accepted
    (202, sent at ``at``): owed still, as requested, until the run is reported completed
    (run_ended) or a later cancel is answered so; the sweep force-cancels it FORCE_AFTER later.
    Only this owing is touched: the same run owed anew in between (see owe_cancel) is not
    settled by an answer to a cancel sent for an earlier end."""
    key = cancel_key(repo, run_id, owing(owed_at))
    answer = await cancel_answer(db, repo, run_id, owing(owed_at))
    if answer is None:
        return
    cond, params = _this_owing(owed_at)
    async with db.transaction():
        if answer not in ACCEPTED:
            await db.execute("DELETE FROM patch_pipeline_cancels WHERE repo = ? AND run_id = ?" + cond,
                             (repo, run_id, *params))
        else:
            row = await db.fetchone("SELECT next_at, requested_at FROM patch_pipeline_cancels"
                                    " WHERE repo = ? AND run_id = ?" + cond, (repo, run_id, *params))
            if row is not None:
                sent = float(at if at is not None else time.time())
                requested = sent if row["requested_at"] is None else float(row["requested_at"])
                await db.execute("UPDATE patch_pipeline_cancels SET requested_at = ?, next_at = ?"
                                 " WHERE repo = ? AND run_id = ?" + cond,
                                 (requested, max(float(row["next_at"]), sent + FORCE_AFTER), repo, run_id, *params))
        # The answer has served: kept, it would be one row per run ever cancelled. A later
        # cancel of the run (a retry) records its own.
        await forget_created(db, key)


async def run_ended(db: Database, *, repo: str, run_id: int, attempt: int, completed: bool = True) -> None:
    """GitHub reports the workflow run ``run_id`` at its attempt ``attempt``, ``completed`` or
    not (a later attempt than the one owed is a re-run, which GitHub starts only once the run has
    ended): a cancel owed for an earlier attempt, or for this one when it completed, is owed no
    more, whether GitHub had accepted it or not. One owed for a later attempt (this event came
    late) stands."""
    highest = attempt if completed else attempt - 1
    async with db.transaction():
        row = await db.fetchone("SELECT * FROM patch_pipeline_cancels WHERE repo = ? AND run_id = ?"
                                " AND run_attempt <= ?", (repo, run_id, highest))
        if row is None:
            return
        await db.execute("DELETE FROM patch_pipeline_cancels WHERE repo = ? AND run_id = ? AND owed_at = ?",
                         (repo, run_id, row["owed_at"]))
        await forget_created(db, cancel_key(repo, run_id, owing(row["owed_at"])))
    log.info("workflow run %s of %s has ended (attempt %s%s): its cancel is owed no more", run_id, repo,
             row["run_attempt"], "" if completed else ", re-run since", extra={"repo": repo})


async def give_up_cancel(db: Database, *, repo: str, run_id: int, owed_before: float, why: str = "") -> None:
    """An owed cancel given up (GitHub has not confirmed it for CANCEL_KEEP, or the App is no
    longer installed on the repository, ``why``): dropped, and said so in the log (once,
    whichever replica got there)."""
    async with db.transaction():
        row = await db.fetchone("SELECT * FROM patch_pipeline_cancels WHERE repo = ? AND run_id = ? AND owed_at <= ?",
                                (repo, run_id, owed_before))
        if row is None:
            return
        await db.execute("DELETE FROM patch_pipeline_cancels WHERE repo = ? AND run_id = ? AND owed_at = ?",
                         (repo, run_id, row["owed_at"]))
        await forget_created(db, cancel_key(repo, run_id, owing(row["owed_at"])))
    log.warning("gave up cancelling workflow run %s of %s (patch pipeline of %s, #%s): %s; it may still be "
                "running", run_id, repo, row["head_sha"][:7], row["number"], why or f"not confirmed in "
                f"{row['attempts']} attempts over {CANCEL_KEEP / 3600:.0f} hours", extra={"repo": repo})


WRITERS = {"record_rejection": record_rejection, "save_run": save_run, "adopt_run": adopt_run,
           "branch_decided": branch_decided, "branch_deleted": branch_deleted,
           "forget_ended_runs": forget_ended_runs, "remember_verified": remember_verified,
           "forget_verified": forget_verified, "remember_refused": remember_refused,
           "forget_refused": forget_refused,
           "stray_stopped": stray_stopped, "cancel_attempted": cancel_attempted,
           "cancel_settled": cancel_settled, "run_ended": run_ended, "give_up_cancel": give_up_cancel}


# --- reads ---------------------------------------------------------------------------

async def _with_stages(db: Database, row: dict[str, Any] | None) -> tuple[dict[str, Any], P.Run] | None:
    if row is None:
        return None
    stages = await db.fetchall("SELECT name, status, started_at, completed_at, url, legs FROM patch_pipeline_stages"
                               " WHERE repo = ? AND head_sha = ? ORDER BY position",
                               (row["repo"], row["head_sha"]))
    run = P.Run(head_sha=row["head_sha"], dispatched_at=float(row["dispatched_at"]),
                stages=tuple(_stage(s) for s in stages), status=row["status"],
                conclusion=row["conclusion"], run_id=int(row["run_id"]) if row["run_id"] is not None else None,
                superseded_by=row["superseded_by"], attempt=int(row["attempt"]),
                attempt_started_at=row["attempt_started_at"])
    return row, run


async def run_for_head(db: Database, repo: str, head_sha: str) -> tuple[dict[str, Any], P.Run] | None:
    row = await db.fetchone("SELECT * FROM patch_pipeline_runs WHERE repo = ? AND head_sha = ?", (repo, head_sha))
    return await _with_stages(db, row)


async def run_for_workflow_run(db: Database, repo: str, run_id: int) -> tuple[dict[str, Any], P.Run] | None:
    row = await db.fetchone("SELECT * FROM patch_pipeline_runs WHERE repo = ? AND run_id = ?", (repo, run_id))
    return await _with_stages(db, row)


async def live_runs(db: Database, repo: str, *, number: int | None = None,
                    branch: str | None = None) -> list[tuple[dict[str, Any], P.Run]]:
    """Pipelines still running: all of the repository's, or those of one pull request
    (``number``) or of the direct pushes to one branch (``branch``)."""
    sql = "SELECT * FROM patch_pipeline_runs WHERE repo = ? AND status IN (?, ?)"
    params: list[Any] = [repo, *LIVE]
    if number is not None:
        sql += " AND number = ?"
        params.append(number)
    if branch is not None:
        sql += " AND branch = ?"
        params.append(branch)
    rows = await db.fetchall(sql + " ORDER BY dispatched_at", params)
    return [pair for row in rows if (pair := await _with_stages(db, row)) is not None]


async def latest_for_pr(db: Database, repo: str, number: int) -> tuple[dict[str, Any], P.Run] | None:
    row = await db.fetchone("SELECT * FROM patch_pipeline_runs WHERE repo = ? AND number = ?"
                            " ORDER BY dispatched_at DESC, updated_at DESC LIMIT 1", (repo, number))
    return await _with_stages(db, row)


async def branch_state(db: Database, repo: str, branch: str) -> dict[str, Any] | None:
    """What the bot knows of a gated branch (branch_decided), None before its first decision."""
    return await db.fetchone("SELECT * FROM patch_pipeline_branches WHERE repo = ? AND branch = ?", (repo, branch))


async def branches_at(db: Database, repo: str, head_sha: str) -> list[str]:
    """The branches whose head, as last decided, is ``head_sha``."""
    rows = await db.fetchall("SELECT branch FROM patch_pipeline_branches WHERE repo = ? AND head_sha = ?"
                             " ORDER BY branch", (repo, head_sha))
    return [str(r["branch"]) for r in rows]


async def stray_of_run(db: Database, repo: str, run_id: int) -> dict[str, Any] | None:
    """The remembered dispatch whose workflow run ``run_id`` was cancelled already, if any."""
    return await db.fetchone("SELECT * FROM patch_pipeline_strays WHERE repo = ? AND run_id = ?", (repo, run_id))


async def unmatched_strays(db: Database, repo: str, *, since: float) -> list[dict[str, Any]]:
    """Remembered dispatches (since ``since``) whose workflow run has not shown up yet."""
    return await db.fetchall("SELECT * FROM patch_pipeline_strays WHERE repo = ? AND run_id IS NULL"
                             " AND dispatched_at >= ? ORDER BY dispatched_at", (repo, since))


async def owed_cancels(db: Database, repo: str, *, delivery_id: str, run_id: int | None = None
                       ) -> list[dict[str, Any]]:
    """Cancels still owed that the delivery ``delivery_id`` decided, or of the run ``run_id``."""
    return await db.fetchall("SELECT * FROM patch_pipeline_cancels WHERE repo = ? AND (delivery_id = ? OR run_id = ?)"
                             " ORDER BY owed_at, run_id", (repo, delivery_id, -1 if run_id is None else run_id))


async def ended_run(db: Database, repo: str, run_id: int) -> bool:
    """Whether the bot ended the pipeline of workflow run ``run_id`` (migration 0009)."""
    return await db.fetchval("SELECT 1 FROM patch_pipeline_ended_runs WHERE repo = ? AND run_id = ?",
                             (repo, run_id)) is not None


async def verified(db: Database, repo: str, keys: Sequence[str], *, since: float) -> dict[str, dict[str, Any]]:
    """The remembered verifications among ``keys``, by key: those used ``since`` then (an older
    one is forgotten, whether or not the periodic job has dropped it yet)."""
    return await _by_keys(db, "patch_pipeline_verified", repo, keys, since)


async def refused(db: Database, repo: str, keys: Sequence[str], *, since: float) -> dict[str, dict[str, Any]]:
    """The remembered refusals among ``keys``, by key, as ``verified`` finds the successes."""
    return await _by_keys(db, "patch_pipeline_refused", repo, keys, since)


async def _by_keys(db: Database, table: str, repo: str, keys: Sequence[str], since: float
                   ) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    unique = sorted(set(keys))
    for at in range(0, len(unique), 500):  # well under any database's limit of bound values
        chunk = unique[at:at + 500]
        rows = await db.fetchall(f"SELECT * FROM {table} WHERE repo = ? AND at >= ? AND key IN "
                                 f"({', '.join('?' * len(chunk))})", (repo, since, *chunk))
        found.update((str(r["key"]), r) for r in rows)
    return found


async def any_verified_before(db: Database, before: float) -> bool:
    return await db.fetchval("SELECT 1 FROM patch_pipeline_verified WHERE at < ? LIMIT 1", (before,)) is not None


async def any_refused_before(db: Database, before: float) -> bool:
    return await db.fetchval("SELECT 1 FROM patch_pipeline_refused WHERE at < ? LIMIT 1", (before,)) is not None


async def any_ended_runs_before(db: Database, before: float) -> bool:
    return await db.fetchval("SELECT 1 FROM patch_pipeline_ended_runs WHERE at < ? LIMIT 1", (before,)) is not None


async def owed_cancel(db: Database, repo: str, run_id: int) -> dict[str, Any] | None:
    """The cancel still owed for the workflow run ``run_id``, if any."""
    return await db.fetchone("SELECT * FROM patch_pipeline_cancels WHERE repo = ? AND run_id = ?", (repo, run_id))


async def due_cancels(db: Database, now: float, *, limit: int) -> list[dict[str, Any]]:
    """Cancels still owed whose next attempt is due, the longest due first."""
    return await db.fetchall("SELECT * FROM patch_pipeline_cancels WHERE next_at <= ? ORDER BY next_at, repo, run_id"
                             " LIMIT ?", (now, limit))
