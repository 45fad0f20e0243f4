"""Workflow runs of pipelines the bot ended before GitHub reported them.

The bot cancels the workflow run of a pipeline it ends itself (tracking.stop), but it can
name only a run GitHub has reported. A push seconds after the dispatch, or a run that sent no
event before the queue-grace timeout, would leave a run nobody follows going on, with the
workflow's secrets, on patches nobody waits for. The save that ends such a pipeline remembers
its dispatch instead (store.remember_stray). When the run's events come they match no live
pipeline; the run is recognised here the way tracking recognises a live pipeline's run
(could_start) and cancelled once: its id is recorded on the ended dispatch, together with the
cancel owed (sent again until GitHub confirms it, see cancels). The ended pipeline's row,
verdict and check run are not touched.
"""
from __future__ import annotations

from typing import Any, Mapping

from ...core.actions import Action, Note, Record
from ...store.db import Database
from . import store
from .tracking import FEATURE_NAME, cancel, could_start, created_at, run_attempt

# GitHub creates a dispatch's run within seconds; an hour leaves room for a slow GitHub. A run
# created later that names the head was started by someone else (by hand): it is left alone.
STRAY_WINDOW = 3600.0


async def stopped(db: Database, repo: str, run_id: int) -> bool:
    """Whether ``run_id`` is a stray run cancelled already."""
    return await store.stray_of_run(db, repo, run_id) is not None


async def stop_stray(db: Database, repo: str, workflow_run: Mapping[str, Any], now: float, *,
                     delivery_id: str) -> list[Action]:
    """For a run of the pipeline's workflow that no pipeline follows: cancel it when a
    pipeline the bot ended before the run was reported could have started it.

    Never a run the live pipeline of its head could have started (even one following another
    run already: two runs naming one head cannot be told apart), never one that has ended,
    never one created outside [dispatch - DISPATCH_SKEW, dispatch + STRAY_WINDOW].
    The record comes first: it owes the cancel, which a retry of this delivery (deciding
    nothing any more: the run is known as stopped) sends again, as do the run's next events
    and the sweep, until GitHub confirms it (see cancels)."""
    run_id = int(workflow_run["id"])
    created = created_at(workflow_run)
    if workflow_run.get("status") == "completed" or created is None or await stopped(db, repo, run_id):
        return []
    live = await store.live_runs(db, repo)
    if any(could_start(run.head_sha, run.dispatched_at, workflow_run) for _, run in live):
        return []
    ended = [row for row in await store.unmatched_strays(db, repo, since=created - STRAY_WINDOW)
             if could_start(row["head_sha"], float(row["dispatched_at"]), workflow_run)]
    if not ended:
        return []
    title = str(workflow_run.get("display_title") or "")
    # As find_run, the latest dispatch; one its run-name names first.
    row = max(ended, key=lambda r: (r["head_sha"] in title, float(r["dispatched_at"])))
    attempt = run_attempt(workflow_run) or 1
    return [Record(repo, feature=FEATURE_NAME, op="stray_stopped",
                   args={"stray_id": int(row["id"]), "run_id": run_id, "at": now, "repo": repo,
                         "number": int(row["number"]), "head_sha": row["head_sha"], "delivery_id": delivery_id,
                         "attempt": attempt}),
            *cancel(repo, run_id, now, owed_at=now, attempt=attempt),
            Note(repo, feature=FEATURE_NAME, number=int(row["number"]),
                 text=f"cancelled workflow run {run_id}: the patch pipeline for {row['head_sha'][:7]} it runs "
                      "was ended before GitHub reported it")]
