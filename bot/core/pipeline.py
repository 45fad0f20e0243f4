"""The patch verification pipeline as a pure state machine.

A run is created when every patch of a PR head verifies and the pipeline is
dispatched. GitHub then tells us about it through ``workflow_run`` and
``workflow_job`` events, in any order and possibly twice; the periodic sweep tells
us the time. Each input gives a new state (never a regression: a completed stage
stays completed), and the state renders as the ``patch-pipeline`` check run.

Rules of the run:
- stages run in the configured order; each is recognised by its workflow job name, and a
  matrix job ``job (x)`` is a leg of that stage: the stage runs while any leg runs, fails
  as soon as one leg fails, and passes only when every leg passed;
- the first stage that fails (or is cancelled, or passes its timeout) fails the run
  and the stages after it are shown as skipped; facts that arrive after that (events
  are not ordered) are still recorded, but cannot turn the failure back;
- a stage passes its timeout when it ran longer than allowed, or never started
  within ``timeout + queue_grace`` after it became due (runner queues are slow);
- "Re-run jobs" in the Actions UI keeps the run id with a new ``run_attempt``: a newer
  attempt re-opens the run; stages that had passed keep their result unless re-run,
  the others start over; reports of an older attempt are then ignored;
- a new push supersedes the run: it is concluded ``cancelled`` (GitHub reserves
  ``stale`` for itself), the new head starts over, and nothing changes it any more.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Iterable, Sequence

from .markdown import cell

PENDING, QUEUED, IN_PROGRESS = "pending", "queued", "in_progress"
SUCCESS, FAILURE, TIMED_OUT, CANCELLED, SKIPPED = "success", "failure", "timed_out", "cancelled", "skipped"
STAGE_DONE = (SUCCESS, FAILURE, TIMED_OUT, CANCELLED, SKIPPED)
STAGE_FAILED = (FAILURE, TIMED_OUT, CANCELLED)
_RANK = {PENDING: 0, QUEUED: 1, IN_PROGRESS: 2}

# Run statuses.
DISPATCHED, RUNNING, COMPLETED, SUPERSEDED = "dispatched", "running", "completed", "superseded"


@dataclass(frozen=True)
class StageSpec:
    name: str
    job: str          # workflow job name (a matrix job "job (x)" counts as the job)
    timeout: float    # seconds


@dataclass(frozen=True)
class Leg:
    """One workflow job of a stage: the stage's job itself, or one leg of its matrix."""
    job: str
    status: str = QUEUED
    started_at: float | None = None
    completed_at: float | None = None
    url: str | None = None
    attempt: int = 1

    @property
    def done(self) -> bool:
        return self.status in STAGE_DONE


@dataclass(frozen=True)
class Stage:
    name: str
    status: str = PENDING
    started_at: float | None = None
    completed_at: float | None = None
    url: str | None = None
    legs: tuple[Leg, ...] = ()

    @property
    def done(self) -> bool:
        return self.status in STAGE_DONE

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return max(0.0, self.completed_at - self.started_at)


@dataclass(frozen=True)
class Run:
    head_sha: str
    dispatched_at: float
    stages: tuple[Stage, ...]
    status: str = DISPATCHED
    conclusion: str | None = None
    run_id: int | None = None
    superseded_by: str | None = None
    attempt: int = 1                         # the workflow run's run_attempt being followed
    attempt_started_at: float | None = None  # when a re-run attempt began: its stages' clock

    @property
    def finished(self) -> bool:
        return self.status in (COMPLETED, SUPERSEDED)


def new_run(head_sha: str, specs: Sequence[StageSpec], now: float) -> Run:
    return Run(head_sha, now, tuple(Stage(s.name) for s in specs))


def stage_for_job(specs: Sequence[StageSpec], job_name: str) -> str | None:
    """The stage a workflow job belongs to: exact name, or a matrix expansion of it."""
    for spec in specs:
        if job_name == spec.job or job_name.startswith(spec.job + " ("):
            return spec.name
    return None


def job_status(status: str, conclusion: str | None) -> str:
    """A workflow_job's status/conclusion as a stage status."""
    if status != "completed":
        return IN_PROGRESS if status == "in_progress" else QUEUED
    if conclusion == "success":
        return SUCCESS
    if conclusion in ("cancelled",):
        return CANCELLED
    if conclusion in ("skipped", "neutral"):
        return SKIPPED
    if conclusion == "timed_out":
        return TIMED_OUT
    return FAILURE  # failure, action_required, startup_failure, stale...


def _conclude(run: Run) -> Run:
    """Skip what follows a failed stage; conclude the run once its outcome is known."""
    stages = list(run.stages)
    failed_at = next((i for i, s in enumerate(stages) if s.status in STAGE_FAILED), None)
    if failed_at is not None:
        for i in range(failed_at + 1, len(stages)):
            if not stages[i].done:
                stages[i] = replace(stages[i], status=SKIPPED)
        return replace(run, stages=tuple(stages), status=COMPLETED, conclusion=stages[failed_at].status)
    if stages and all(s.status == SUCCESS for s in stages):
        return replace(run, stages=tuple(stages), status=COMPLETED, conclusion=SUCCESS)
    if all(s.done for s in stages):  # a stage skipped by the workflow itself did not pass
        return replace(run, stages=tuple(stages), status=COMPLETED, conclusion=FAILURE)
    started = any(s.status != PENDING for s in stages)
    # A run that had passed learns of a leg still running (a matrix leg reported late):
    # it had not passed after all.
    status = RUNNING if started or run.status == COMPLETED else run.status
    return replace(run, stages=tuple(stages), status=status, conclusion=None)


def _merge_leg(old: Leg | None, report: Leg) -> Leg | None:
    """A leg after a job report, or None when the report is old news."""
    if old is None or report.attempt > old.attempt:
        return report
    if report.attempt < old.attempt or old.done:
        return None  # an older attempt, or late/repeated: never regress
    if not report.done and _RANK[report.status] <= _RANK[old.status]:
        return None
    return replace(report, started_at=report.started_at if report.started_at is not None else old.started_at,
                   url=report.url or old.url)


def _from_legs(stage: Stage, legs: tuple[Leg, ...]) -> Stage:
    """A stage's status from its legs: failed if any failed, running while any runs,
    passed only when all passed (skipped otherwise)."""
    current = max(leg.attempt for leg in legs)
    starts = [leg.started_at for leg in legs if leg.started_at is not None and leg.attempt == current]
    failed = sorted((leg for leg in legs if leg.status in STAGE_FAILED),
                    key=lambda leg: leg.completed_at if leg.completed_at is not None else float("inf"))
    if failed:
        status = failed[0].status
    elif not all(leg.done for leg in legs):
        status = IN_PROGRESS if any(leg.status == IN_PROGRESS or leg.done for leg in legs) else QUEUED
    else:
        status = SUCCESS if all(leg.status == SUCCESS for leg in legs) else SKIPPED
    ends = [leg.completed_at for leg in legs if leg.completed_at is not None]
    url = (failed[0].url if failed else None) or next((leg.url for leg in legs if leg.url), None) or stage.url
    return replace(stage, status=status, legs=legs, url=url,
                   started_at=min(starts) if starts else stage.started_at,
                   completed_at=max(ends) if status in STAGE_DONE and ends else None)


def _with_report(stage: Stage, report: Leg) -> Stage:
    # A failed, timed-out, cancelled or skipped stage is settled for this attempt (the sweep
    # and the skip-after-failure rule decide those too); a passed one can still learn of
    # a leg that fails or runs.
    if stage.done and stage.status != SUCCESS:
        return stage
    legs = list(stage.legs)
    at = next((i for i, leg in enumerate(legs) if leg.job == report.job), None)
    merged = _merge_leg(legs[at] if at is not None else None, report)
    if merged is None:
        return stage
    if at is None:
        legs.append(merged)
    else:
        legs[at] = merged
    return _from_legs(stage, tuple(legs))


def _reopen(run: Run, attempt: int, now: float) -> Run:
    """A newer attempt of the same workflow run (GitHub's "Re-run jobs"). "Re-run failed
    jobs" keeps the jobs that passed, so passed stages keep their result (a report of the
    new attempt replaces it if they run again); the others start over."""
    stages = tuple(s if s.status == SUCCESS else
                   Stage(s.name, legs=tuple(leg for leg in s.legs if leg.status == SUCCESS))
                   for s in run.stages)
    return replace(run, stages=stages, status=RUNNING, conclusion=None, attempt=attempt,
                   attempt_started_at=now)


def _attempt_of(run: Run, attempt: int | None, now: float) -> Run | None:
    """The run as seen by a report of ``attempt``: None for a report of an older attempt,
    the run re-opened for a newer one. A superseded run is final: None too."""
    if run.status == SUPERSEDED:
        return None
    attempt = attempt or run.attempt
    if attempt < run.attempt:
        return None
    return _reopen(run, attempt, now) if attempt > run.attempt else run


def apply_job(run: Run, specs: Sequence[StageSpec], *, job_name: str, status: str,
              conclusion: str | None, started_at: float | None, completed_at: float | None,
              url: str | None = None, run_id: int | None = None, attempt: int | None = None,
              now: float | None = None) -> Run:
    """A ``workflow_job`` event (or a job of the run's job list). Jobs that are not stages,
    reports of older attempts and superseded runs change nothing. A completed run still
    records what its stages did (events arrive in any order), without losing its failure."""
    name = stage_for_job(specs, job_name)
    if name is None:
        return run
    base = _attempt_of(run, attempt, now if now is not None else started_at or run.dispatched_at)
    if base is None:
        return run
    new_status = job_status(status, conclusion)
    report = Leg(job_name, new_status, started_at, completed_at if new_status in STAGE_DONE else None,
                 url, base.attempt)
    stages = tuple(_with_report(s, report) if s.name == name else s for s in base.stages)
    if stages == run.stages and base is run:
        return replace(run, run_id=run.run_id or run_id)
    return _conclude(replace(base, stages=stages, run_id=base.run_id or run_id))


def apply_workflow_run(run: Run, *, status: str, conclusion: str | None, run_id: int,
                       now: float, attempt: int | None = None) -> Run:
    """A ``workflow_run`` event. On completion, a stage never reported is settled:
    cancelled if the run was cancelled, otherwise failed ("did not run"). Callers
    apply the run's jobs first (events can arrive after the run's completion)."""
    base = _attempt_of(run, attempt, now)
    if base is None:
        return run
    run = replace(base, run_id=base.run_id or run_id)
    if run.status == COMPLETED:
        return run
    if status != "completed":
        return replace(run, status=RUNNING)
    # Stages never reported did not run: the first takes the blame, _conclude skips the rest.
    stages = list(run.stages)
    first = next((i for i, s in enumerate(stages) if not s.done), None)
    if first is not None:
        settled = CANCELLED if conclusion == "cancelled" else FAILURE
        stages[first] = replace(stages[first], status=settled, completed_at=now)
    return _conclude(replace(run, stages=tuple(stages)))


def _clock_start(run: Run) -> float:
    """When the first stage became due: the dispatch, or the start of a re-run attempt."""
    return max(run.dispatched_at, run.attempt_started_at or run.dispatched_at)


def sweep(run: Run, specs: Sequence[StageSpec], now: float, *, queue_grace: float = 0.0) -> Run:
    """The periodic timeout check: the first stage past its deadline is ``timed_out``."""
    if run.finished:
        return run
    due_since = _clock_start(run)
    timeouts = {s.name: s.timeout for s in specs}
    stages = list(run.stages)
    for i, stage in enumerate(stages):
        if stage.done:
            due_since = max(due_since, stage.completed_at if stage.completed_at is not None else due_since)
            continue
        limit = timeouts.get(stage.name, 0.0)
        if stage.started_at is not None and stage.status == IN_PROGRESS:
            late = now - stage.started_at > limit
        else:
            late = now - due_since > limit + queue_grace
        if late:
            stages[i] = replace(stage, status=TIMED_OUT, completed_at=now)
            return _conclude(replace(run, stages=tuple(stages)))
        break  # later stages are not due yet
    return run


def supersede(run: Run, new_sha: str, now: float) -> Run:
    if run.finished:
        return run
    stages = tuple(s if s.done else replace(s, status=CANCELLED if s.status != PENDING else SKIPPED,
                                            completed_at=now if s.status != PENDING else None)
                   for s in run.stages)
    return replace(run, stages=stages, status=SUPERSEDED, conclusion=CANCELLED, superseded_by=new_sha)


def deadline(run: Run, specs: Sequence[StageSpec], *, queue_grace: float = 0.0) -> float | None:
    """When the sweep should next look at this run (None once it is finished)."""
    if run.finished:
        return None
    timeouts = {s.name: s.timeout for s in specs}
    due_since = _clock_start(run)
    for stage in run.stages:
        if stage.done:
            due_since = max(due_since, stage.completed_at if stage.completed_at is not None else due_since)
            continue
        limit = timeouts.get(stage.name, 0.0)
        if stage.started_at is not None and stage.status == IN_PROGRESS:
            return stage.started_at + limit
        return due_since + limit + queue_grace
    return None


# --- rendering -------------------------------------------------------------------

CHECK_CONCLUSION = {SUCCESS: "success", FAILURE: "failure", TIMED_OUT: "timed_out", CANCELLED: "cancelled"}
_SYMBOL = {PENDING: "⏸ pending", QUEUED: "🕒 queued", IN_PROGRESS: "⏳ running", SUCCESS: "✅ passed",
           FAILURE: "❌ failed", TIMED_OUT: "⌛ timed out", CANCELLED: "🚫 cancelled", SKIPPED: "⏭ skipped"}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s" if sec else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _clock(ts: float | None) -> str:
    if ts is None:
        return "–"
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%H:%M:%S")


def summary_table(run: Run, specs: Sequence[StageSpec]) -> str:
    """The stage table of the check run summary (times in UTC)."""
    timeouts = {s.name: s.timeout for s in specs}
    lines = ["| Stage | Result | Started (UTC) | Finished (UTC) | Duration | Timeout |",
             "|---|---|---|---|---|---|"]
    for stage in run.stages:
        # Stage names come from the rules and URLs from GitHub, but a bare "|" would still
        # split the cell: cell() escapes it.
        name = cell(f"[{stage.name}]({stage.url})" if stage.url else stage.name)
        running = stage.status == IN_PROGRESS
        result = _SYMBOL.get(stage.status, stage.status)
        if len(stage.legs) > 1:  # a matrix: how many of its legs passed
            result += f" ({sum(leg.status == SUCCESS for leg in stage.legs)}/{len(stage.legs)} legs passed)"
        lines.append(f"| {name} | {result} | {_clock(stage.started_at)} | "
                     f"{_clock(stage.completed_at)} | {'–' if running else format_duration(stage.duration)} | "
                     f"{format_duration(timeouts.get(stage.name))} |")
    return "\n".join(lines)


def check_title(run: Run) -> str:
    if run.status == SUPERSEDED:
        return f"Superseded by {run.superseded_by[:7] if run.superseded_by else 'a newer push'}"
    if run.status == COMPLETED:
        if run.conclusion == SUCCESS:
            return "All stages passed"
        failed = next((s for s in run.stages if s.status in STAGE_FAILED), None)
        if failed is not None:
            return f"{failed.name} {_SYMBOL[failed.status].split(' ', 1)[1]}"
        return "Pipeline did not pass"
    current = next((s for s in run.stages if not s.done), None)
    if current is None or current.status == PENDING and run.status == DISPATCHED:
        return "Dispatched, waiting for the workflow"
    return f"{current.name} {_SYMBOL[current.status].split(' ', 1)[1]}"


def check_status(run: Run) -> tuple[str, str | None]:
    """(status, conclusion) for the check run."""
    if run.finished:
        return "completed", CHECK_CONCLUSION.get(run.conclusion or "", "failure")
    return ("in_progress" if run.status == RUNNING else "queued"), None


def one_line(run: Run) -> str:
    """A short status for the PR context card."""
    parts = []
    for stage in run.stages:
        sym = _SYMBOL.get(stage.status, stage.status).split(" ", 1)[0]
        dur = f" {format_duration(stage.duration)}" if stage.duration is not None else ""
        parts.append(f"{stage.name} {sym}{dur}")
    return f"{check_title(run)} · " + " → ".join(parts)


def specs_from_rules(stages: Iterable[dict]) -> tuple[StageSpec, ...]:
    return tuple(StageSpec(s["name"], s.get("job") or s["name"], float(s["timeout"])) for s in stages)
