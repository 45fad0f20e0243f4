"""Following the dispatched pipeline through workflow_run / workflow_job events and the
periodic timeout sweep; every change is saved and shown on the ``patch-pipeline`` check."""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from ...core import pipeline as P
from ...core.actions import Action, CancelWorkflowRun, Note, Record, UpsertCheckRun
from ...core.events import parse_time
from ...core.markdown import neutralize
from ...store.db import Database
from . import store
from .store import run_to_args

FEATURE_NAME = "patch_pipeline"
PIPELINE_CHECK = "patch-pipeline"
# A workflow run created this long before our dispatch is someone else's (clock skew allowance).
DISPATCH_SKEW = 120.0
# A full commit SHA in a run-name (the workflow's `run-name` names the head it was dispatched for).
_SHA = re.compile(r"(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])")


def specs(section: Mapping[str, Any]) -> tuple[P.StageSpec, ...]:
    return P.specs_from_rules(section["stages"])


def _ts(value: Any) -> float | None:
    parsed = parse_time(value) if value else None
    return parsed.timestamp() if parsed else None


def save(repo: str, number: int, run: P.Run, now: float, **extra: Any) -> Record:
    """Saving a decided state; ``revision`` (of the row the decision read) makes it a
    compare-and-set, see store.StaleDecision. Without it, it is a new dispatch."""
    return Record(repo, feature=FEATURE_NAME, op="save_run",
                  args={"repo": repo, "number": number, "run": run_to_args(run), "at": now, **extra})


def check(repo: str, run: P.Run, section: Mapping[str, Any], *, signers: str = "",
          run_url: str | None = None) -> UpsertCheckRun:
    status, conclusion = P.check_status(run)
    lines = []
    if signers:
        lines.append(f"Patches signed by {neutralize(signers)}.")
    if run_url:
        lines.append(f"Workflow run: {run_url}" + (f" (attempt {run.attempt})" if run.attempt > 1 else ""))
    lines.append(P.summary_table(run, specs(section)))
    if run.status == P.SUPERSEDED:
        lines.append(f"A newer push ({run.superseded_by or 'unknown'}) starts the pipeline over.")
    return UpsertCheckRun(repo, name=PIPELINE_CHECK, head_sha=run.head_sha, status=status,
                          conclusion=conclusion, title=P.check_title(run), summary="\n\n".join(lines),
                          details_url=run_url if run_url and run_url.startswith("https://") else None)


def changed(repo: str, number: int, row: Mapping[str, Any], old: P.Run, new: P.Run,
            section: Mapping[str, Any], now: float, *, run_url: str | None = None,
            stops: bool = False) -> list[Action]:
    """``stops``: the change is the bot ending the pipeline itself (see stop)."""
    url = run_url or row.get("run_url")
    if old.status == P.SUPERSEDED or (new == old and url == row.get("run_url")):
        return []  # a superseded run's check stays "Superseded", whatever its workflow still says
    ending = {"stops": True} if stops else {}
    actions: list[Action] = [save(repo, number, new, now, run_url=url, revision=row["revision"], **ending),
                             check(repo, new, section, signers=row.get("signers") or "", run_url=url)]
    if new.finished and not old.finished:
        actions.append(Note(repo, feature=FEATURE_NAME, number=number,
                            text=f"patch pipeline for {new.head_sha[:7]}: {P.check_title(new)}"))
    return actions


def stop(repo: str, run: P.Run, now: float) -> list[Action]:
    """The workflow run of a pipeline the bot has ended itself (a stage past its timeout, a
    newer push, patches no longer trusted) is cancelled on GitHub too: a timeout is a gate,
    not only a verdict, and nothing should go on running, with the workflow's secrets, on
    patches nobody waits for. These actions follow the save that ends the pipeline, made with
    ``stops=True`` at the same ``now``: that save writes, with the end, the cancel owed (sent
    here, and again until GitHub confirms it: see cancels), or, for a run never reported, which
    has no id yet, the dispatch to know its run by when it shows up (see strays)."""
    return (cancel(repo, run.run_id, now, owed_at=now, attempt=run.attempt)
            if run.run_id is not None else [])


def cancel(repo: str, run_id: int, now: float, *, owed_at: float, attempt: int,
           force: bool = False) -> list[Action]:
    """Sending a cancel the bot owes since ``owed_at`` for the run's attempt ``attempt`` (see
    cancels): the attempt is counted first (so the sweep waits before the next), then the cancel
    (``force``: GitHub's force-cancel; neither is sent once the run has moved on to a later
    attempt, which is not the bot's to stop), then its settling by GitHub's answer. All three
    name the owing, so that an answer settles only the owing its cancel was sent for."""
    args = {"repo": repo, "run_id": run_id, "owed_at": owed_at}
    return [Record(repo, feature=FEATURE_NAME, op="cancel_attempted", args={**args, "at": now}),
            CancelWorkflowRun(repo, run_id=run_id, force=force, owing=store.owing(owed_at), attempt=attempt),
            Record(repo, feature=FEATURE_NAME, op="cancel_settled", args={**args, "at": now})]


def apply_job_payload(run: P.Run, stage_specs: Sequence[P.StageSpec], job: Mapping[str, Any],
                      now: float) -> P.Run:
    status = str(job.get("status") or "")
    return P.apply_job(run, stage_specs, job_name=str(job.get("name") or ""), status=status,
                       conclusion=job.get("conclusion"),
                       # a queued job's started_at is its queueing time, not a start
                       started_at=_ts(job.get("started_at")) if status in ("in_progress", "completed") else None,
                       completed_at=_ts(job.get("completed_at")), url=job.get("html_url"),
                       run_id=job.get("run_id"), attempt=run_attempt(job), now=now)


def run_attempt(item: Mapping[str, Any]) -> int | None:
    """A workflow run's or job's ``run_attempt`` (GitHub's "Re-run jobs" makes a new one)."""
    value = item.get("run_attempt")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def is_pipeline_workflow(section: Mapping[str, Any], workflow_run: Mapping[str, Any]) -> bool:
    """A run of the pipeline's workflow started the way the bot starts it. A pull request may
    edit that workflow to also run on ``pull_request`` with look-alike jobs: such runs are not
    the pipeline, whatever their head SHA. Nor is a ``workflow_dispatch`` run on another ref
    than ``trigger.ref``: whoever may dispatch can run a branch's own copy of the workflow file,
    whose jobs named as the stages pass at once, and title it with the head SHA."""
    trigger = section["trigger"]
    path = str(workflow_run.get("path") or "")
    if trigger["kind"] == "workflow_dispatch":
        ref = str(trigger["ref"]).removeprefix("refs/heads/").removeprefix("refs/tags/")
        if workflow_run.get("head_branch") != ref:
            return False
    return (path.split("@", 1)[0].rsplit("/", 1)[-1] == trigger["workflow"]
            and workflow_run.get("event") == trigger["kind"])


def created_at(workflow_run: Mapping[str, Any]) -> float | None:
    return _ts(workflow_run.get("created_at"))


def could_start(head_sha: str, dispatched_at: float, workflow_run: Mapping[str, Any]) -> bool:
    """Whether the dispatch of ``head_sha`` at ``dispatched_at`` may have started this
    workflow run: the run names the head SHA and was created after the dispatch (clock skew
    allowed). A run-name naming a commit names its head alone. The run's own head_sha is the
    commit of the ref it was dispatched on, the same for every dispatch: it only stands in for
    a run-name that names no commit, else a gated ``trigger.ref``'s head would take the run of
    every pull request dispatched while it is that head."""
    title = str(workflow_run.get("display_title") or "")
    created = created_at(workflow_run)
    named = head_sha in title if _SHA.search(title) else workflow_run.get("head_sha") == head_sha
    return named and (created is None or created >= dispatched_at - DISPATCH_SKEW)


async def find_run(db: Database, repo: str, workflow_run: Mapping[str, Any]
                   ) -> tuple[dict[str, Any], P.Run] | None:
    """The pipeline run a workflow run belongs to: linked already by its id, or a live run
    not linked yet that could_start it (the latest dispatched, if several could)."""
    run_id = workflow_run.get("id")
    if run_id is not None:
        found = await store.run_for_workflow_run(db, repo, int(run_id))
        if found:
            return found
        if await store.ended_run(db, repo, int(run_id)):
            # A run the bot ended (its head decided again, say): never the head's newer pipeline's.
            return None
    candidates = [(row, run) for row, run in await store.live_runs(db, repo)
                  if run.run_id is None and could_start(run.head_sha, run.dispatched_at, workflow_run)]
    return max(candidates, key=lambda pair: pair[1].dispatched_at) if candidates else None
