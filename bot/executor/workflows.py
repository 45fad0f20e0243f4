"""Triggering pipelines (workflow_dispatch and repository_dispatch) and stopping their runs.

A dispatch is not idempotent, and its answer can be lost after GitHub acted on it (a 502, a
timeout): the client then fails the call rather than send it again, and the delivery's retry
comes back here. Sending blindly then would run the pipeline twice. So each dispatch records,
before it is sent, when it was first attempted and the newest run GitHub listed then. A later
attempt of the same action first looks for a run created since then that is this dispatch's:

- of the same workflow and event (``workflow_dispatch`` on the same branch, or
  ``repository_dispatch``), newer than the run listed before the first attempt;
- naming the dispatch's ``head_sha`` (input or ``client_payload`` key) in its title: the
  pipeline's workflow must put the head SHA in its ``run-name`` anyway (README), and that is
  what tells this dispatch from another of the same workflow; a dispatch without one counts
  a run started by the bot.

Found: the dispatch went through, nothing is sent. Not found yet: GitHub may still be creating
the run, so the action waits (a transient error asking to be retried) until ``SETTLE`` seconds
after the first attempt; only then is it sent again. A ``repository_dispatch`` that no workflow
listens to leaves no run, so it is sent again after ``SETTLE``: that second event starts nothing
either.

A cancel is safe to send again (a run that has ended is answered 409), but a feature that owes
one must know what came of it, and the action list cannot say: the executor stops it at a
transient failure but steps over an action that failed for good (a 403) and goes on with the
next. So GitHub's answer to the latest cancel of a run (sent for the action's ``owing``) is
recorded when it is one: accepted (202, which only means the run is being stopped), already
ended (409) or gone (404); ``state.cancel_answer`` reads it. In dry-run nothing is sent, and the
executor records "dry-run" instead (``cancel_not_sent``): nothing will ever answer it.

A cancel names the attempt it is for when the feature knows it: a run's id outlives its attempt
("Re-run" starts a new attempt of the same run, and only once the run has completed), and a
cancel or force-cancel sent after someone re-ran the run would stop their attempt, which nobody
asked the bot to stop. So the run is read first: a later attempt, the attempt completed, or the
run gone, is the answer, and nothing is sent.
"""
from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..core import actions as A
from ..core.events import parse_time
from ..core.retry import RetryLater
from ..github.errors import PermanentGitHubError
from ..store import state
from .issues import _split

if TYPE_CHECKING:  # pragma: no cover
    from ..store.db import Database
    from . import ActionEnv

log = logging.getLogger("bot.executor")

# How long GitHub may take to list the run of a dispatch it accepted.
SETTLE = 60.0
RUNS_PAGE = 50


class DispatchUnsettled(RetryLater):
    """An earlier attempt of this dispatch may have gone through and GitHub does not list its
    run yet: come back at ``retry_at`` (the delivery's retry honours it) and look again."""


def _epoch(stamp: Any) -> float | None:
    try:
        instant = parse_time(stamp)
    except (TypeError, ValueError):
        return None
    return instant.timestamp() if instant else None


def _branch(ref: str) -> str | None:
    return None if ref.startswith("refs/tags/") else ref.removeprefix("refs/heads/")


class _Dispatch:
    """What tells one dispatch's run apart: where its runs are listed, and its head SHA."""

    def __init__(self, env: "ActionEnv", repo: str, url: str, url_vars: Mapping[str, Any],
                 event: str, branch: str | None, head_sha: str) -> None:
        self.env, self.repo, self.url, self.event = env, repo, url, event
        self.url_vars = dict(url_vars)
        self.branch, self.head_sha = branch, head_sha
        self.key = f"dispatch:{env.fingerprint}"

    async def _runs(self, per_page: int) -> list[dict[str, Any]]:
        query = {"event": self.event, "per_page": per_page}
        if self.branch:
            query["branch"] = self.branch
        data = await self.env.api.getitem(self.url + "{?event,branch,per_page}", {**self.url_vars, **query})
        return [r for r in (data or {}).get("workflow_runs") or [] if r.get("event") == self.event]

    async def first_attempt(self) -> dict[str, Any] | None:
        recorded = await state.created_object(self.env.db, self.key)
        return json.loads(recorded) if recorded else None

    async def record_attempt(self) -> None:
        """Before the first send: when, and the newest run then (none of those is ours)."""
        try:
            newest = max((int(r["id"]) for r in await self._runs(1)), default=0)
        except Exception as exc:
            if not isinstance(exc, PermanentGitHubError):
                raise  # nothing sent yet: try the whole action again later
            newest = 0  # no runs to list (Actions off?): the dispatch itself will say
        await state.remember_created(self.env.db, self.key, self.repo, "dispatch-attempt",
                                     json.dumps({"at": time.time(), "newest_run": newest}))

    async def run_since(self, first: Mapping[str, Any]) -> dict[str, Any] | None:
        """A run this dispatch started, if GitHub lists one."""
        bot = self.env.bot_login.casefold()
        for run in await self._runs(RUNS_PAGE):
            created = _epoch(run.get("created_at"))
            if int(run.get("id") or 0) <= int(first.get("newest_run") or 0):
                continue
            if created is not None and created < float(first["at"]) - SETTLE:
                continue  # long before the first attempt (clocks differ a little, not a minute)
            if self.head_sha:
                if self.head_sha in str(run.get("display_title") or ""):
                    return run
            elif bot in {str((run.get(k) or {}).get("login") or "").casefold()
                         for k in ("triggering_actor", "actor")}:
                return run
        return None

    async def before_sending(self) -> str | None:
        """None: send it. Otherwise what to report instead (the run it started)."""
        first = await self.first_attempt()
        if first is None:
            await self.record_attempt()
            return None
        run = await self.run_since(first)
        if run is not None:
            log.info("the earlier dispatch went through (run %s); not sending it again", run.get("id"))
            return f"dispatched (run {run.get('id')}, answer lost on an earlier attempt)"
        ready = float(first["at"]) + SETTLE
        if time.time() < ready:
            raise DispatchUnsettled("an earlier attempt of this dispatch may have gone through; "
                                    "waiting for GitHub to list its run", retry_at=ready)
        return None


# GitHub's limits on what a dispatch carries: a workflow_dispatch's inputs at most 65,535
# characters, a repository_dispatch's client_payload under 64 KB of JSON. Kept a little below.
INPUTS_LIMIT = 65_000
PAYLOAD_LIMIT = 64 * 1024 - 512
BLOB_REFERENCE = "git-blob:"


async def _by_reference(env: "ActionEnv", repo: str, values: dict[str, Any],
                        size: Callable[[dict[str, Any]], int], limit: int) -> dict[str, Any]:
    """``values`` within ``limit``: while it is over, its largest value is replaced by
    "git-blob:<sha>" of a blob holding it (a string as it is, else its JSON); the patch
    pipeline's list of patches is the one that grows. Decided here rather than by the feature:
    the action, and so its fingerprint (what a delivery retried across an upgrade finds done),
    stays as it was, and only the executor knows GitHub's limits. A blob is
    content-addressed: a retry stores the same one and sends the same reference, which the
    workflow can check (``git hash-object``) and read with its own token
    (``GET /repos/{owner}/{repo}/git/blobs/{sha}``)."""
    values = dict(values)
    for key in sorted(values, key=lambda k: -len(json.dumps(values[k]))):
        if size(values) <= limit:
            break
        value = values[key]
        content = value if isinstance(value, str) else json.dumps(value)
        blob = await env.api.post("/repos/{owner}/{repo}/git/blobs", _split(repo),
                                  data={"content": content, "encoding": "utf-8"})
        values[key] = BLOB_REFERENCE + str(blob["sha"])
    if size(values) > limit:
        raise ValueError(f"dispatch over GitHub's limit ({size(values)} > {limit}) with every value by reference")
    return values


async def dispatch_workflow(action: A.DispatchWorkflow, env: "ActionEnv") -> Any:
    inputs = {k: str(v) for k, v in dict(action.inputs).items()}
    if len(inputs) > 25:
        raise ValueError("workflow_dispatch takes at most 25 inputs")
    url_vars = {**_split(action.repo), "workflow_id": action.workflow}
    guard = _Dispatch(env, action.repo, "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
                      url_vars, "workflow_dispatch", _branch(action.ref), inputs.get("head_sha", ""))
    already = await guard.before_sending()
    if already:
        return already
    inputs = await _by_reference(env, action.repo, inputs,
                                 lambda v: len(json.dumps(v, ensure_ascii=False)), INPUTS_LIMIT)
    await env.api.post("/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", url_vars,
                       data={"ref": action.ref, "inputs": inputs})
    return "dispatched"


async def repository_dispatch(action: A.RepositoryDispatch, env: "ActionEnv") -> Any:
    payload = dict(action.client_payload)
    if len(payload) > 10:
        raise ValueError("repository_dispatch client_payload takes at most 10 keys")
    guard = _Dispatch(env, action.repo, "/repos/{owner}/{repo}/actions/runs", _split(action.repo),
                      "repository_dispatch", None, str(payload.get("head_sha") or ""))
    already = await guard.before_sending()
    if already:
        return already
    payload = await _by_reference(env, action.repo, payload,
                                  lambda v: len(json.dumps(v).encode()), PAYLOAD_LIMIT)
    await env.api.post("/repos/{owner}/{repo}/dispatches", _split(action.repo),
                       data={"event_type": action.event_type[:100], "client_payload": payload})
    return "dispatched"


async def cancel_workflow_run(action: A.CancelWorkflowRun, env: "ActionEnv") -> Any:
    """Cancelling twice is harmless, so a retry simply asks again. GitHub answers 409 for a run
    that has already ended and 404 for one that is gone (deleted): nothing is left to stop,
    which is what was wanted. Its 202 only says the cancel was accepted: jobs whose condition
    holds on cancellation (``if: always()``) go on, and a run can hang cancelling; ``force``
    sends GitHub's force-cancel, which stops those too."""
    key = state.cancel_key(action.repo, action.run_id, action.owing)
    # An answer on record is an earlier attempt's (one whose settling never ran): whoever
    # reads it after this attempt must read this attempt's, or nothing.
    await state.forget_created(env.db, key)
    answer = await _attempt_over(action, env) if action.attempt > 0 else None
    if answer is None:
        verb = "force-cancel" if action.force else "cancel"
        try:
            await env.api.post("/repos/{owner}/{repo}/actions/runs/{run_id}/" + verb,
                               {**_split(action.repo), "run_id": action.run_id}, data={})
            answer = "force-cancelled" if action.force else "cancelled"
        except PermanentGitHubError as exc:
            if exc.status not in (404, 409):
                raise
            answer = "already ended" if exc.status == 409 else "gone"
    await state.replace_created(env.db, key, action.repo, "run-cancel", answer)
    return answer


async def _attempt_over(action: A.CancelWorkflowRun, env: "ActionEnv") -> str | None:
    """Why the cancel of ``action.attempt`` is not to be sent, GitHub's run read just before: the
    run has moved on to a later attempt ("re-run": GitHub re-runs only a completed run, so the
    attempt asked for has ended, and the one running is not the bot's to stop), the attempt has
    completed ("already ended"), or the run is gone. None: send it. A failure to read is raised
    (a 5xx: the action is tried again later; a refusal: it failed, nothing is answered)."""
    try:
        run = await env.api.getitem("/repos/{owner}/{repo}/actions/runs/{run_id}",
                                    {**_split(action.repo), "run_id": action.run_id})
    except PermanentGitHubError as exc:
        if exc.status != 404:
            raise
        return "gone"
    run = run or {}
    current = run.get("run_attempt")
    if not isinstance(current, int) or isinstance(current, bool):
        return None  # GitHub did not say: stopping whatever runs is what the feature asked
    if current > action.attempt:
        return "re-run"
    if current == action.attempt and run.get("status") == "completed":
        return "already ended"
    return None


async def cancel_not_sent(action: A.CancelWorkflowRun, db: "Database") -> None:
    """A cancel in dry-run (the executor's, or the repository's ``core.dry_run``) is not sent,
    and nothing will ever answer it: "dry-run" is its answer, so that a feature owing it is
    not left sending it again for days. In dry-run the dispatches are only logged as well, so
    nothing the bot decided there runs; a run started before dry-run was turned on is left
    alone, as every other action there is. Not for a cancel unsent for want of credentials
    (Executor.chosen_dry_run): that one is still to be sent."""
    await state.replace_created(db, state.cancel_key(action.repo, action.run_id, action.owing),
                                action.repo, "run-cancel", "dry-run")
