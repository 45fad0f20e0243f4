"""Cancels the bot owes GitHub: the workflow runs of pipelines it ended itself.

The bot cancels the workflow run of a pipeline it ends (a stage past its timeout, a newer push,
patches no longer trusted: tracking.stop; a stray run: strays). That cancel can fail after the
end is saved (a GitHub 5xx, a timeout, a rate limit, once the client has given up): decided
again, the pipeline has ended already, nothing would ask again, and the run would go on to its
end with the workflow's secrets, its results ignored. So the end is saved together with "cancel
owed for run X" (one transaction: store.save_run with ``stops``, store.stray_stopped), and the
owed cancel is sent as three actions (tracking.cancel): counted, sent, settled.

Settled only by GitHub's answer that nothing runs any more: 202 (cancelled), 409 (the run had
ended) or 404 (it is gone). The settling cannot trust its place after the cancel in the action
list: the executor stops the list at a transient failure, but steps over an action that failed
for good (a 403) and goes on. It reads the answer the executor records for the run instead
(store.state.cancel_answer; each attempt clears the one before).

Sent again until settled, whatever else happens: by a retry of the delivery whose decision owes
it and by each workflow_run event of the run (``resend``, at once), and by the feature's periodic
job (``sweep``: a minute after an attempt, twice as long after each, at most half an hour). Given
up store.CANCEL_KEEP (three days, see there why) after the end, with a warning in the log and a
note on the pull request. Sending one twice (two replicas, an event and the sweep at once) is
harmless: GitHub answers the second with a 409, which settles it too.
"""
from __future__ import annotations

from typing import Any, Mapping

from ...context import Context, JobContext
from ...core.actions import Action, Note, Record
from ...store import state
from . import store
from .tracking import FEATURE_NAME, cancel

# At most this many owed cancels go out per run of the job (every 30 s): after an outage that
# left many, they are sent a batch at a time, the longest due first.
SWEEP_BATCH = 20


async def resend(ctx: Context, *, run_id: int | None = None) -> list[Action]:
    """The owed cancels this decision sends again, without waiting for the sweep: those its own
    delivery decided (this is that delivery's retry) and, for an event of run ``run_id``, that
    run's. One owed past CANCEL_KEEP is left to the sweep to give up."""
    now = ctx.now().timestamp()
    rows = await store.owed_cancels(ctx.db, ctx.repo, delivery_id=ctx.event.delivery_id, run_id=run_id)
    return [action for row in rows if float(row["owed_at"]) > now - store.CANCEL_KEEP
            for action in cancel(ctx.repo, int(row["run_id"]), now)]


async def sweep(jctx: JobContext) -> list[Action]:
    """Owed cancels due again are sent; one owed for CANCEL_KEEP is given up. Sent whatever the
    repository's rules say now: the bot started the run, so stopping it is its to do."""
    now = jctx.now().timestamp()
    actions: list[Action] = []
    installed: dict[str, bool] = {}
    for row in await store.due_cancels(jctx.db, now, limit=SWEEP_BATCH):
        repo, run_id = str(row["repo"]), int(row["run_id"])
        if repo not in installed:
            installed[repo] = await state.installation_for(jctx.db, repo) is not None
        if not installed[repo]:
            # The App was uninstalled there: nothing can be cancelled any more, and the executor
            # would refuse the action, cutting this batch short for every other repository.
            actions += _give_up(repo, row, owed_before=now, why="the App is no longer installed on the repository")
        elif float(row["owed_at"]) > now - store.CANCEL_KEEP:
            actions += cancel(repo, run_id, now)
        else:
            actions += _give_up(repo, row, owed_before=now - store.CANCEL_KEEP,
                                why=f"GitHub did not confirm it in {row['attempts']} attempts over "
                                    f"{store.CANCEL_KEEP / 86400:.0f} days")
    return actions


def _give_up(repo: str, row: Mapping[str, Any], *, owed_before: float, why: str) -> list[Action]:
    """``owed_before``: the writer drops the cancel only if it was owed by then (so a cancel owed
    again meanwhile, by a newer end of the same run, is not dropped with it)."""
    run_id = int(row["run_id"])
    return [Record(repo, feature=FEATURE_NAME, op="give_up_cancel",
                   args={"repo": repo, "run_id": run_id, "owed_before": owed_before, "why": why}),
            Note(repo, feature=FEATURE_NAME, number=int(row["number"]),
                 text=f"gave up cancelling workflow run {run_id} (patch pipeline of {row['head_sha'][:7]}): {why}")]
