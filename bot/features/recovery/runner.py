"""Recovery, acting: list the App's recent deliveries, ask again for the missed ones.

Runs as a periodic job and once at start-up, reading the log back to a little before the
last pass that settled everything it saw (``recovery_progress``). Each request is claimed in the
``recovery_requests`` table before it is sent, so replicas running at once never ask twice,
and requests are spaced by ``pace`` seconds (GitHub's rate limits and Retry-After are
honoured by the client itself).
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable

from ...github import PermanentGitHubError, RateLimited, TransientGitHubError
from ...store import deliveries
from . import store
from .plan import Attempt, event_filter, missed

if TYPE_CHECKING:  # pragma: no cover
    from ...features.base import Feature
    from ...runtime import Runtime

log = logging.getLogger("bot.recovery")

LIST_URL = "/app/hook/deliveries{?per_page}"
REDELIVER_URL = "/app/hook/deliveries/{delivery_id}/attempts"
# How far before the last complete pass the next one reads: GitHub's log can list an attempt
# a little after it happened, and its clock and ours differ.
OVERLAP = 600.0


@dataclass
class Report:
    looked_at: int = 0                                   # attempts listed inside the window
    missed: int = 0                                      # deliveries found missing
    requested: list[str] = field(default_factory=list)   # guids GitHub accepted to send again
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: str | None = None                           # why nothing was looked at


def handled_events(features: Iterable["Feature"]) -> set[str]:
    return {key for f in features for key in f.handlers}


async def list_attempts(app: Any, cutoff: float) -> list[Attempt]:
    """Newest first over cursor pages, stopping at the first attempt older than ``cutoff``."""
    out: list[Attempt] = []
    async for item in app.getiter(LIST_URL, {"per_page": 100}):
        attempt = Attempt.from_api(item)
        if attempt.delivered_at < cutoff:
            break
        out.append(attempt)
    return out


async def _stored(runtime: "Runtime", guids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(guids), 500):
        found |= await deliveries.known_ids(runtime.db, guids[start:start + 500])
    return found


async def recover(runtime: "Runtime", *, holder: str, now: float | None = None, full: bool = False,
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Report:
    """One pass: read the delivery log (from ``window_start``), ask again for what was missed."""
    rules = runtime.bundled["recovery"]
    if not rules["enabled"]:
        return Report(skipped="disabled")
    if runtime.github is None or runtime.github.dry_run:
        log.info("recovery: no App credentials (dry-run), missed deliveries are not looked for")
        return Report(skipped="dry-run")
    now = time.time() if now is None else now
    app = runtime.github.app()
    since = await window_start(runtime.db, now=now, max_age=rules["max_age"], full=full)
    attempts = await list_attempts(app, since)
    guids = sorted({a.guid for a in attempts})
    todo = missed(attempts, now=now, max_age=rules["max_age"],
                  wanted=event_filter(rules["events"], handled_events(runtime.features)),
                  stored=await _stored(runtime, guids), asked=await store.asked(runtime.db, guids),
                  max_requests=rules["max_requests"])
    report = Report(looked_at=len(attempts), missed=len(todo))
    if todo:
        log.info("recovery: %d missed deliveries among %d attempts of the last %.1fh", len(todo),
                 len(attempts), (now - since) / 3600)
    if runtime.dry_run:  # credentials, but core.dry_run: say what would be asked for
        for m in todo:
            log.info("dry-run: would ask GitHub to redeliver %s (%s)", m.guid, m.event,
                     extra={"delivery_id": m.guid, "event": m.event})
        report.skipped = "dry-run"
        return report
    metrics = runtime.metrics
    settled = 0  # asked for, or refused by GitHub: nothing more to do for them
    for m in todo:
        if len(report.requested) >= rules["max_per_run"]:
            break
        if not await store.claim(runtime.db, m, holder=holder, now=time.time()):
            continue  # another replica has it, or its failed request waits to be retried
        if report.requested or report.failed:
            await sleep(rules["pace"])
        context = {"delivery_id": m.guid, "event": f"{m.event}.{m.action}" if m.action else m.event}
        try:
            await app.post(REDELIVER_URL, {"delivery_id": m.attempt_id}, data=b"")
        except RateLimited as exc:
            # Not sent (a 429/403 is not applied): give the claim back, stop for this run.
            await store.release(runtime.db, m.attempt_id)
            log.warning("recovery: rate limited, stopping this run: %s", exc, extra=context)
            metrics.redeliveries.labels(outcome="rate_limited").inc()
            break
        except TransientGitHubError as exc:
            await store.settle(runtime.db, m.attempt_id, status="failed", error=str(exc))
            report.failed.append((m.guid, str(exc)))
            metrics.redeliveries.labels(outcome="failed").inc()
            log.warning("recovery: redelivery request failed, will try again: %s", exc, extra=context)
        except PermanentGitHubError as exc:
            await store.settle(runtime.db, m.attempt_id, status="refused", error=str(exc))
            report.failed.append((m.guid, str(exc)))
            settled += 1
            metrics.redeliveries.labels(outcome="refused").inc()
            log.warning("recovery: GitHub refused the redelivery: %s", exc, extra=context)
        else:
            await store.settle(runtime.db, m.attempt_id, status="requested")
            report.requested.append(m.guid)
            settled += 1
            metrics.redeliveries.labels(outcome="requested").inc()
            log.info("recovery: asked GitHub to redeliver", extra=context)
    if settled == len(todo):
        # Everything this pass saw is dealt with: the next one may start from here.
        await store.mark_covered(runtime.db, now)
    return report


async def window_start(db, *, now: float, max_age: float, full: bool = False) -> float:
    """Where a pass starts reading the delivery log: ``max_age`` back the first time (or with
    ``full``), else a little before the last pass that settled everything it saw, which
    includes any time the bot was down."""
    oldest = now - max_age
    covered = None if full else await store.covered_at(db)
    return oldest if covered is None else max(oldest, covered - OVERLAP)
