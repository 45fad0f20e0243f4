"""Cancels the bot owes GitHub: the workflow runs of pipelines it ended itself.

The bot cancels the workflow run of a pipeline it ends (a stage past its timeout, a newer push,
patches no longer trusted: tracking.stop; a stray run: strays). That cancel can fail after the
end is saved (a GitHub 5xx, a timeout, a rate limit, once the client has given up): decided
again, the pipeline has ended already, nothing would ask again, and the run would go on to its
end with the workflow's secrets, its results ignored. So the end is saved together with "cancel
owed for run X" (one transaction: store.save_run with ``stops``, store.stray_stopped), and the
owed cancel is sent as three actions (tracking.cancel): counted, sent, settled.

Settled only when nothing runs any more: GitHub answered a cancel 409 (the run had ended) or 404
(it is gone), or reported the run completed (its ``workflow_run`` event: ``run_ended``). Each
cancel names the run's attempt it is owed for, and the executor reads the run before sending it:
that attempt completed, or a later one (a "Re-run", which GitHub starts only once the run has
ended) settles it unsent. A re-run is not the bot's to stop, and with the owed attempt's
completed event lost, the sweep's force-cancel would otherwise stop it. A 202 only says GitHub
accepted the cancel: jobs whose condition holds on cancellation (``if: always()``,
``cancelled()``) go on, and a run can hang cancelling; the cancel stays owed, as requested, and
if the run has not ended store.FORCE_AFTER later (see there why six minutes) the sweep sends
GitHub's force-cancel instead, answered and settled the same way. In dry-run nothing is sent and
the executor answers "dry-run", which settles it: nothing would ever answer. Without the App's
credentials nothing is sent either, but nothing is answered: it stays owed, for a bot that can.

The settling cannot trust its place after the cancel in the action list: the executor stops the
list at a transient failure, but steps over an action that failed for good (a 403) and goes on.
It reads the answer the executor records instead (store.state.cancel_answer; each attempt clears
the one before). An owing is named by the instant it was owed (store.owing): a run owed anew in
between (a "Re-run" keeps the run's id; the re-opened run ended again) is owed from its new end,
and neither an answer to a cancel sent for the earlier owing nor anything decided for it settles
or counts against the new one.

Sent again until settled, whatever else happens: by a retry of the delivery whose decision owes
it and by each workflow_run event of the run (``resend``, at once; not once GitHub accepted it),
and by the feature's periodic job (``sweep``: a minute after an attempt, twice as long after
each, at most half an hour; an accepted one not before FORCE_AFTER). Given up store.CANCEL_KEEP
(three days, see there why) after the end, with a warning in the log and a note on the pull
request. Sending one twice (two replicas, an event and the sweep at once) is harmless: GitHub
answers the second with a 409 once the run has ended (which settles it), or a 202 again.
"""
from __future__ import annotations

from typing import Any, Mapping

from ...context import Context, JobContext
from ...core.actions import Action, Note, Record
from ...store import state
from . import store
from .tracking import FEATURE_NAME, cancel, run_attempt

# At most this many owed cancels go out per run of the job (every 30 s): after an outage that
# left many, they are sent a batch at a time, the longest due first.
SWEEP_BATCH = 20


def _ends(row: Mapping[str, Any], workflow_run: Mapping[str, Any] | None) -> Record | None:
    """The settling of ``row`` by an event of its run that shows the attempt it is owed for
    has ended: that attempt (or a later one) reported completed, or a later attempt reported at
    all (GitHub re-runs only a completed run: its re-run is not what the bot owes a cancel, and
    is followed as the pipeline's newer attempt)."""
    if not workflow_run or workflow_run.get("id") is None or int(row["run_id"]) != int(workflow_run["id"]):
        return None
    attempt, owed = run_attempt(workflow_run) or 1, int(row["run_attempt"])
    if attempt < owed or (attempt == owed and workflow_run.get("status") != "completed"):
        return None
    repo = str(row["repo"])
    return Record(repo, feature=FEATURE_NAME, op="run_ended",
                  args={"repo": repo, "run_id": int(row["run_id"]), "attempt": attempt,
                        "completed": workflow_run.get("status") == "completed"})


async def run_ended(ctx: Context, workflow_run: Mapping[str, Any]) -> list[Action]:
    """For a workflow_run event: the run reported completed (or re-run) settles the cancel still
    owed to it, accepted by GitHub or not: nothing it was owed for runs."""
    if workflow_run.get("id") is None:
        return []
    row = await store.owed_cancel(ctx.db, ctx.repo, int(workflow_run["id"]))
    ended = _ends(row, workflow_run) if row is not None else None
    return [ended] if ended is not None else []


async def resend(ctx: Context, *, workflow_run: Mapping[str, Any] | None = None) -> list[Action]:
    """The owed cancels this decision sends again, without waiting for the sweep: those its own
    delivery decided (this is that delivery's retry) and, for an event of ``workflow_run``,
    that run's, which the event settles instead when it shows the run ended (run_ended). One GitHub
    has accepted already waits for the run's end or the sweep's force-cancel; one owed past
    CANCEL_KEEP is left to the sweep to give up."""
    now = ctx.now().timestamp()
    run_id = None if workflow_run is None else int(workflow_run["id"])
    actions: list[Action] = []
    for row in await store.owed_cancels(ctx.db, ctx.repo, delivery_id=ctx.event.delivery_id, run_id=run_id):
        ended = _ends(row, workflow_run)
        if ended is not None:
            actions.append(ended)
        elif row["requested_at"] is None and float(row["owed_at"]) > now - store.CANCEL_KEEP:
            actions += cancel(ctx.repo, int(row["run_id"]), now, owed_at=float(row["owed_at"]),
                              attempt=int(row["run_attempt"]))
    return actions


async def sweep(jctx: JobContext) -> list[Action]:
    """Owed cancels due again are sent (force-cancelled, once GitHub has accepted a cancel and
    the run has not ended FORCE_AFTER later); one owed for CANCEL_KEEP is given up. Sent whatever
    the repository's rules say now: the bot started the run, so stopping it is its to do."""
    now = jctx.now().timestamp()
    actions: list[Action] = []
    installed: dict[str, bool] = {}
    for row in await store.due_cancels(jctx.db, now, limit=SWEEP_BATCH):
        repo, run_id = str(row["repo"]), int(row["run_id"])
        accepted = row["requested_at"] is not None
        if repo not in installed:
            installed[repo] = await state.installation_for(jctx.db, repo) is not None
        if not installed[repo]:
            # The App was uninstalled there: nothing can be cancelled any more, and the executor
            # would refuse the action, cutting this batch short for every other repository.
            actions += _give_up(repo, row, owed_before=now, why="the App is no longer installed on the repository")
        elif float(row["owed_at"]) > now - store.CANCEL_KEEP:
            actions += cancel(repo, run_id, now, owed_at=float(row["owed_at"]), attempt=int(row["run_attempt"]),
                              force=accepted)
        else:
            days = f"{store.CANCEL_KEEP / 86400:.0f} days"
            why = (f"GitHub accepted it, yet did not report the run ended in {row['attempts']} attempts "
                   f"(force-cancels once accepted) over {days}" if accepted else
                   f"GitHub did not confirm it in {row['attempts']} attempts over {days}")
            actions += _give_up(repo, row, owed_before=now - store.CANCEL_KEEP, why=why)
    return actions


def _give_up(repo: str, row: Mapping[str, Any], *, owed_before: float, why: str) -> list[Action]:
    """``owed_before``: the writer drops the cancel only if it was owed by then (so a cancel owed
    again meanwhile, by a newer end of the same run, is not dropped with it)."""
    run_id = int(row["run_id"])
    return [Record(repo, feature=FEATURE_NAME, op="give_up_cancel",
                   args={"repo": repo, "run_id": run_id, "owed_before": owed_before, "why": why}),
            Note(repo, feature=FEATURE_NAME, number=int(row["number"]),
                 text=f"gave up cancelling workflow run {run_id} (patch pipeline of {row['head_sha'][:7]}): {why}")]
