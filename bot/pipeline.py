"""From a stored delivery to actions performed: parse, filter, decide, act.

Deciding is separate from acting so ``replay`` can print what would be done, and so a
handler that raises does not stop the others: their actions are performed, and the
delivery is retried for the failed one (already-performed actions are skipped then).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import installations
from .context import Context, ReadOnlyGitHub
from .core import access as access_changes
from .core.actions import Action
from .core.events import CONVERSATION_EVENTS, Event, from_other_bot
from .core.payload_shape import shape_problem
from .core.retry import PermanentFailure
from .log import delivery_context
from .store import access, repo_names, state

if TYPE_CHECKING:  # pragma: no cover
    from .features.base import Feature
    from .runtime import Runtime
    from .store.deliveries import StoredDelivery

log = logging.getLogger("bot.pipeline")


# How long after GitHub sent an event a 404 on its item may be a read replica that has not
# caught up yet (a delivery's first attempt only; see Executor.run's ``fresh``).
REPLICA_LAG = 60.0


class HandlersFailed(Exception):
    """One or more handlers raised; the others' actions were performed."""


class MalformedPayload(PermanentFailure):
    """A stored body that is not JSON, or whose fields the pipeline relies on have types
    GitHub never sends (intake refuses those now; a row can be older than that check)."""


@dataclass
class Decision:
    batches: list[tuple[str, list[Action]]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    ignored: str | None = None


def parse_delivery(delivery: "StoredDelivery") -> Event:
    try:
        payload = json.loads(delivery.body)
    except ValueError:
        raise MalformedPayload("stored body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise MalformedPayload("stored body is not a JSON object")
    problem = shape_problem(payload)
    if problem is not None:
        raise MalformedPayload(problem)
    return Event(name=delivery.event, payload=payload, delivery_id=delivery.delivery_id,
                 received_at=datetime.fromtimestamp(delivery.received_at, timezone.utc))


def ignore_reason(event: Event, *, bot_login: str) -> str | None:
    if event.name in CONVERSATION_EVENTS and event.sender_login.casefold() == bot_login.casefold():
        return "caused by the bot itself"
    return None


def hears(feature: "Feature", event: Event, *, own: bool, other_bot: bool) -> bool:
    """Whether ``feature`` receives ``event``: its ``any_sender`` events from everyone, its
    ``own_events`` from the bot itself too, every other event only from people (and bots
    the repository allows, or any bot for a feature that ``accepts_bot_events``)."""
    if event.qualified in feature.any_sender:
        return True
    if own:
        return event.qualified in feature.own_events
    return feature.accepts_bot_events or not other_bot


def touches_config(event: Event, config_path: str) -> bool:
    """A push to the default branch that changed the repo's override file (or may have: a
    commit list GitHub would not send reads the rules again rather than fail the delivery)."""
    return access_changes.touches_default_branch(event, (config_path,))


async def decide(runtime: "Runtime", event: Event) -> Decision:
    inst = event.installation_id
    if touches_config(event, runtime.repo_rules.config_path):
        runtime.repo_rules.invalidate(event.repo)
    # Read once per delivery, not per role asked: rules and roles cached before the last
    # access change the store knows of (whichever replica recorded it) are not used.
    generation = await access.generation(runtime.db, event.repo) if event.repo else (0, 0)
    result = await runtime.rules_for(event.repo, inst, generation=generation)
    rules = result.rules
    core = rules.section("core")
    # Who the bot is is the deployment's (the App's login), never a repository's to say.
    bot_login = runtime.bot_login
    reason = ignore_reason(event, bot_login=bot_login)
    other_bot = from_other_bot(event, core["allowed_bots"])
    features = [f for f in runtime.features
                if hears(f, event, own=reason is not None, other_bot=other_bot)]
    if not features:
        return Decision(ignored=reason or f"sent by bot {event.sender_login}")
    if event.repo and not rules.enabled("core"):
        return Decision(ignored="bot disabled for this repository")
    api = await runtime.api(inst) if (runtime.github is not None and inst is not None) else None
    reader = ReadOnlyGitHub(api) if api is not None else _NoGitHub()

    ctx = Context(event=event, rules=rules, gh=reader, db=runtime.db,
                  roles_of=runtime.roles_for(event.repo, rules, reader, generation),
                  bot_login=bot_login, rules_problems=tuple(result.problems))
    decision = Decision()
    for feature in features:
        if feature.rules is not None and not rules.enabled(feature.rules.name):
            continue
        for handler in feature.handlers_for(event):
            started = time.perf_counter()
            try:
                actions = list(await handler(event, ctx))
            except Exception as exc:
                from .core.retry import PermanentFailure, RetryLater
                from .github import TransientGitHubError

                # GitHub is down, or the store says to come back: retry the whole delivery.
                # Or it can never be done (the installation is gone): end it now.
                if isinstance(exc, (TransientGitHubError, RetryLater, PermanentFailure)):
                    raise
                log.exception("handler %s.%s failed", feature.name, handler.__name__,
                              extra={"feature": feature.name})
                decision.errors.append((f"{feature.name}.{handler.__name__}", repr(exc)))
                continue
            finally:
                runtime.metrics.handler_seconds.labels(feature=feature.name).observe(
                    time.perf_counter() - started)
            if actions:
                decision.batches.append((f"{feature.name}.{handler.__name__}", actions))
    return decision


async def process(runtime: "Runtime", delivery: "StoredDelivery") -> Decision:
    received = parse_delivery(delivery)
    # Before anything is read or written under the repository's name: a rename or transfer
    # this delivery is the first to show moves the rows, and an older delivery still carrying
    # the old name is processed under the current one.
    event = await repo_names.resolve(runtime.db, runtime.name_columns, received, delivery.received_at)
    with delivery_context(delivery_id=delivery.delivery_id, event=event.qualified,
                          repo=event.repo, subject=delivery.subject):
        if repo_names.is_tombstone(event.repo):
            # Sent before its repository left the name to another (which holds it now).
            log.info("ignored: repository no longer named %s", received.repo)
            return Decision(ignored="its repository no longer has that name")
        try:
            decision = await _decide_and_act(runtime, delivery, event, received.repo)
        finally:
            # Renamed while this ran (another subject's delivery moved the rows): what was
            # written under the name it ran with follows the repository, also when it failed
            # part-way (it may never be tried again: dead, or a later delivery decided first).
            seen = repo_names.sighting(event, delivery.received_at)
            if seen is not None:
                await repo_names.follow(runtime.db, runtime.name_columns, seen.repo_id, event.repo)
        if decision.errors:
            raise HandlersFailed("; ".join(f"{name}: {err}" for name, err in decision.errors))
        return decision


async def _decide_and_act(runtime: "Runtime", delivery: "StoredDelivery", event: Event,
                          received_as: str) -> Decision:
    if event.repo and event.installation_id:
        private = (event.payload.get("repository") or {}).get("private")
        await state.remember_installation(runtime.db, event.repo, int(event.installation_id),
                                          private if isinstance(private, bool) else None,
                                          private_at=delivery.received_at,
                                          snapshot_at=repo_names.snapshot_time(event),
                                          authoritative=event.qualified in state.VISIBILITY_EVENTS)
    await installations.follow(runtime.db, event, delivery.received_at)
    changed = access_changes.changed_scopes(event, runtime.repo_rules.config_path)
    if changed:
        # Before deciding, and whether or not a feature hears the event: every replica's next
        # delivery there reads the new generation and asks GitHub again.
        await access.bump(runtime.db, changed)
    decision = await decide(runtime, event)
    if decision.ignored:
        log.info("ignored: %s", decision.ignored)
        return decision
    assert runtime.executor is not None
    # Actions are fingerprinted with the name the delivery came with, whichever name it is
    # processed under: a retry after a rename skips (and finds) what an attempt did before.
    outcome = await runtime.executor.run(
        delivery_id=delivery.delivery_id, installation_id=event.installation_id,
        batches=decision.batches, retrying=delivery.attempts > 0,
        hashed_as={event.repo: received_as} if received_as and event.repo != received_as else None,
        fresh=delivery.attempts == 0 and time.time() - delivery.received_at < REPLICA_LAG)
    log.info("processed: %d done, %d skipped, %d failed, %d dry-run", len(outcome.done),
             len(outcome.skipped), len(outcome.failed), len(outcome.dry_run))
    return decision


class _NoGitHub:
    """Reader for events with no installation (e.g. replayed without one)."""

    async def getitem(self, *a: Any, **kw: Any) -> Any:
        raise LookupError("no GitHub access for this event (no installation)")

    async def getiter(self, *a: Any, **kw: Any):  # pragma: no cover - same refusal
        raise LookupError("no GitHub access for this event (no installation)")
        yield

    get_text = graphql = getitem
