"""The one executor: performs actions decided by features.

One place for idempotence (what succeeded for a delivery is not done again),
dry-run, the bot-label ledger, error classification and metrics.
"""
from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Sequence

from ..core import actions as A
from ..core.retry import PermanentFailure, RetryLater
from ..store import state
from . import checks, deployments, issues, projects, workflows

if TYPE_CHECKING:  # pragma: no cover
    from ..features.base import Feature
    from ..metrics import Metrics
    from ..store.db import Database

log = logging.getLogger("bot.executor")
# Seconds before an action answered 404 moments after its event is performed again (GitHub's
# read replicas catching up; see ``Executor.run``'s ``fresh``).
REPLICA_WAIT = 1.0
_FAILED = "failed: "  # how the ledger records an action that failed for good


def _is_transient(exc: BaseException) -> bool:
    """Worth another attempt of the whole delivery (or job) rather than failing one action."""
    from ..github import TransientGitHubError

    return isinstance(exc, (TransientGitHubError, RetryLater))


def _not_found(exc: BaseException) -> bool:
    """The item answered 404 (not the installation: that one ends the delivery)."""
    from ..github import PermanentGitHubError

    return (isinstance(exc, PermanentGitHubError) and exc.status == 404
            and not isinstance(exc, PermanentFailure))


# {name an action carries: name it is hashed with}: a delivery processed under its
# repository's new name hashes as the name it came with (see ``Executor.run``).
HashedAs = Mapping[str, str]


def _hashed(value: Any, names: HashedAs) -> Any:
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, Mapping):
        return {k: _hashed(v, names) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_hashed(v, names) for v in value]
    return value


def fingerprint(delivery_id: str, feature: str, index: int, action: A.Action,
                hashed_as: HashedAs | None = None) -> str:
    data = action.to_dict()
    if hashed_as:  # only values that are the name itself: a text mentioning it is what it says
        data = _hashed(data, hashed_as)
    raw = json.dumps([delivery_id, feature, index, data], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def place(delivery_id: str, feature: str, action: A.Action, ordinal: int,
          hashed_as: HashedAs | None = None) -> str:
    """Where an action stands, not what it says: the delivery, the batch, its kind and
    target, and how many of that kind and target came before it in the batch. A retry
    decides again and may word a comment differently (an /explain that now sees the first
    attempt's notes, a status read at another instant): its place is still the same, so
    what the first attempt posted is found by it rather than posted twice."""
    repo = getattr(action, "repo", "")
    target = [(hashed_as or {}).get(repo, repo), getattr(action, "number", None)]
    raw = json.dumps([delivery_id, feature, action.kind, target, ordinal], default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    dry_run: list[str] = field(default_factory=list)


@dataclass
class ActionEnv:
    """What an action implementation gets: the API for the repo's installation, the
    store, and who the bot is."""
    api: Any
    db: "Database"
    bot_login: str
    fingerprint: str
    retrying: bool
    feature: str
    place: str = ""   # see ``place``: what a retry that words it differently still shares
    installation: int | None = None  # whose token ``api`` holds
    fresh: bool = False  # see ``Executor.run``: a 404 may be a replica not caught up yet


ApiFactory = Callable[[int], Awaitable[Any]]


class Executor:
    def __init__(self, db: "Database", *, api_for: ApiFactory | None, dry_run: bool,
                 features: Mapping[str, "Feature"], bot_login: str,
                 metrics: "Metrics | None" = None,
                 repo_dry_run: Callable[[str], bool] | None = None) -> None:
        self.db = db
        self.api_for = api_for
        # Nothing is sent in a dry run (``dry_run``, asked for) nor without a way to send
        # (``api_for`` None: no App credentials). Only the first is a decision not to act: a
        # cancel not sent is answered "dry-run" then (see workflows.cancel_not_sent); without
        # credentials it is left unanswered, so a cancel owed stays owed (``replay --execute``
        # without a key, against the database the live bot uses, must not settle its cancels).
        self.chosen_dry_run = dry_run
        self.dry_run = dry_run or api_for is None
        # A repository trying the bot out (its own ``core.dry_run``): its GitHub actions are
        # logged, not sent, whoever decided them (a delivery or a periodic job).
        self.repo_dry_run = repo_dry_run or (lambda repo: False)
        self.features = features
        self.bot_login = bot_login
        self.metrics = metrics
        self.projects = projects.ProjectCache()

    async def run(self, *, delivery_id: str, installation_id: int | None,
                  batches: Sequence[tuple[str, Sequence[A.Action]]], retrying: bool = False,
                  hashed_as: HashedAs | None = None, fresh: bool = False) -> Outcome:
        """Perform each feature's batch. Transient GitHub errors propagate (the delivery
        is retried later and what succeeded is skipped); permanent ones fail one action.

        ``hashed_as``: for a delivery processed under another name than the one it came with
        (its repository renamed since it was received), {processed-as: came-with}. Its
        actions' fingerprints and places are made with the name it came with, the same in
        every attempt, before or after the rename: the ledger skips what an earlier attempt
        did, and a comment's marker is the one that attempt posted. Without a rename nothing
        changes (a delivery in flight across an upgrade keeps its fingerprints).

        ``fresh``: a delivery's first attempt, moments after GitHub sent it. GitHub writes to a
        primary and reads from replicas, and a webhook can outrun them: the item it announces
        (or a card made by the delivery before) may answer 404 for a moment. Then the action is
        performed once more after ``REPLICA_WAIT`` rather than failed for good (or a card made
        again); later a 404 means gone."""
        outcome = Outcome()
        apis: dict[int, Any] = {}
        for feature, batch in batches:
            batch_ok = True
            seen: collections.Counter[tuple[str, str, Any]] = collections.Counter()
            for index, action in enumerate(batch):
                fp = fingerprint(delivery_id, feature, index, action, hashed_as)
                slot = (action.kind, getattr(action, "repo", ""), getattr(action, "number", None))
                ordinal, seen[slot] = seen[slot], seen[slot] + 1
                recorded = await state.action_result(self.db, delivery_id, fp)
                if recorded is not None:
                    outcome.skipped.append(action.describe())
                    if recorded.startswith(_FAILED):
                        # Failed for good on an earlier attempt of this delivery: a retry
                        # skips it, but the batch still did not fully succeed.
                        batch_ok = False
                    continue
                if isinstance(action, A.ReportOutcome):
                    action = _outcome_reaction(action, batch_ok)
                guard = getattr(action, "guard", None)
                if guard is not None and not await self._holds(guard):
                    # Overtaken since it was decided: what replaced the decision sends its own.
                    log.info("superseded: %s", action.describe(),
                             extra={"delivery_id": delivery_id, "feature": feature})
                    outcome.skipped.append(action.describe())
                    await state.mark_action_done(self.db, delivery_id, fp, action.kind, "superseded")
                    continue
                repo_dry_run = self.repo_dry_run(getattr(action, "repo", ""))
                sends = not action.local or (isinstance(action, A.Record) and action.needs_github)
                if sends and (self.dry_run or repo_dry_run):
                    log.info("dry-run: %s", action.describe(),
                             extra={"delivery_id": delivery_id, "feature": feature})
                    outcome.dry_run.append(action.describe())
                    if isinstance(action, A.CancelWorkflowRun) and (self.chosen_dry_run or repo_dry_run):
                        await workflows.cancel_not_sent(action, self.db)
                    await state.mark_action_done(self.db, delivery_id, fp, action.kind, "dry-run")
                    continue
                api = inst = None
                if not action.local:
                    inst = installation_id or await state.installation_for(self.db, action.repo)
                    if inst is None:
                        raise LookupError(f"no installation known for {action.repo}")
                    if int(inst) not in apis:
                        apis[int(inst)] = await self.api_for(int(inst))
                    api = apis[int(inst)]
                # Batches are named "<feature>.<handler>" (or after a job); the ledger
                # records the feature.
                env = ActionEnv(api=api, db=self.db, bot_login=self.bot_login, fingerprint=fp,
                                retrying=retrying, feature=feature.split(".", 1)[0],
                                place=place(delivery_id, feature, action, ordinal, hashed_as),
                                installation=None if inst is None else int(inst), fresh=fresh)
                try:
                    result = await self._perform_settled(action, env, delivery_id)
                except Exception as exc:
                    if _is_transient(exc):
                        self._count(action, "transient")
                        raise
                    if isinstance(exc, PermanentFailure):
                        # No fault of this action's (the installation is gone): the whole
                        # delivery ends; recorded as failed, the action would be skipped
                        # should the delivery be retried by hand once that is mended.
                        self._count(action, "failed")
                        raise
                    batch_ok = False
                    self._count(action, "failed")
                    log.warning("action failed: %s: %s", action.describe(), exc,
                                extra={"delivery_id": delivery_id, "feature": feature})
                    outcome.failed.append((action.describe(), str(exc)))
                    await state.mark_action_done(self.db, delivery_id, fp, action.kind,
                                                 f"{_FAILED}{exc}"[:500])
                    continue
                self._count(action, "done")
                outcome.done.append(action.describe())
                await state.mark_action_done(self.db, delivery_id, fp, action.kind,
                                             None if result is None else str(result)[:500])
        return outcome

    async def _holds(self, guard: A.Guard) -> bool:
        feature = self.features.get(guard.feature)
        if feature is None or guard.op not in feature.guards:
            raise LookupError(f"no guard {guard.feature}.{guard.op}")
        return bool(await feature.guards[guard.op](self.db, **dict(guard.args)))

    def _count(self, action: A.Action, outcome: str) -> None:
        if self.metrics:
            self.metrics.actions_executed.labels(kind=action.kind, outcome=outcome).inc()

    async def _perform_settled(self, action: A.Action, env: ActionEnv, delivery_id: str) -> Any:
        """``_perform``; on a 404 moments after the event (``fresh``), once more after
        ``REPLICA_WAIT``, when a lagging replica has most likely caught up. Nothing was made
        or changed by a call answered 404, so performing the action again is safe."""
        if env.fresh:
            try:
                return await self._perform(action, env, delivery_id)
            except Exception as exc:
                if not _not_found(exc):
                    raise
                log.info("404 moments after the event (%s); trying again in %gs", exc, REPLICA_WAIT,
                         extra={"delivery_id": delivery_id, "feature": env.feature})
            await asyncio.sleep(REPLICA_WAIT)
            env = replace(env, fresh=False)  # now a 404 means gone
        return await self._perform(action, env, delivery_id)

    async def _perform(self, action: A.Action, env: ActionEnv, delivery_id: str) -> Any:
        if isinstance(action, A.Record):
            feature = self.features.get(action.feature)
            if feature is None or action.op not in feature.writers:
                raise LookupError(f"no writer {action.feature}.{action.op}")
            return await feature.writers[action.op](self.db, **dict(action.args))
        if isinstance(action, A.Note):
            await state.add_decision(self.db, repo=action.repo, number=action.number,
                                     feature=action.feature, delivery_id=delivery_id, summary=action.text)
            return None
        handler = _HANDLERS.get(type(action))
        if handler is None:
            raise TypeError(f"no executor for {action.kind}")
        if isinstance(action, A.AddToProject):
            return await projects.add_to_project(action, env, self.projects)
        if isinstance(action, A.RemoveFromProject):
            return await projects.remove_from_project(action, env, self.projects)
        if isinstance(action, A.CreateDiscussion):
            return await projects.create_discussion(action, env, self.projects)
        return await handler(action, env)


def _outcome_reaction(action: A.ReportOutcome, ok: bool) -> A.React:
    return A.React(repo=action.repo, number=action.number, comment_id=action.comment_id,
                   review_comment_id=action.review_comment_id,
                   content="+1" if ok else "confused", remove=("eyes",))


_HANDLERS: dict[type, Callable[[Any, ActionEnv], Awaitable[Any]]] = {
    A.AddLabels: issues.add_labels,
    A.RemoveLabel: issues.remove_label,
    A.Comment: issues.comment,
    A.UpsertComment: issues.upsert_comment,
    A.UpsertBodySection: issues.upsert_body_section,
    A.React: issues.react,
    A.Assign: issues.assign,
    A.Unassign: issues.unassign,
    A.RequestReviewers: issues.request_reviewers,
    A.RemoveReviewers: issues.remove_reviewers,
    A.Close: issues.close,
    A.Reopen: issues.reopen,
    A.UpsertCheckRun: checks.upsert_check_run,
    A.AddToProject: projects.add_to_project,
    A.RemoveFromProject: projects.remove_from_project,
    A.CreateDiscussion: projects.create_discussion,
    A.DispatchWorkflow: workflows.dispatch_workflow,
    A.RepositoryDispatch: workflows.repository_dispatch,
    A.CancelWorkflowRun: workflows.cancel_workflow_run,
    A.CreateDeployment: deployments.create_deployment,
}
