"""Lines the card borrows from other features: CLA, patch verification, sandbox, response time.

Those features own their tables and export small read functions
(``bot.features.cla.status_line(db, repo, sha)``,
``bot.features.patch_pipeline.status_line(db, repo, number, head_sha)``,
``bot.features.sandbox.status_line(db, repo, number)``). They are imported
lazily: a deployment without one of them, or with it switched off, simply shows no line.
"""
from __future__ import annotations

import importlib
import inspect
import logging
from typing import TYPE_CHECKING, Any, Mapping

from .card import humanize_seconds

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import Context

log = logging.getLogger("bot.features.pr_context")


def _feature_on(ctx: "Context", section: str) -> bool:
    rules = ctx.rules
    if section not in rules:  # not registered in this deployment
        return False
    try:
        return bool(rules.enabled(section))
    except (KeyError, AttributeError):
        return bool(rules.section(section).get("enabled", True))


async def _borrowed_line(ctx: "Context", module: str, *args: Any) -> str | None:
    try:
        feature = importlib.import_module(module)
        reader = getattr(feature, "status_line")
    except (ImportError, AttributeError):
        return None
    # The switch is the feature's own rules section, whatever it is named ("pipeline"...).
    section = getattr(getattr(getattr(feature, "FEATURE", None), "rules", None), "name", None)
    if section is not None and not _feature_on(ctx, section):
        return None
    try:
        line = reader(ctx.db, *args)
        if inspect.isawaitable(line):
            line = await line
    except Exception:  # their bug must not cost the contributor the whole card
        log.exception("status line from %s failed", module)
        return None
    text = str(line or "").strip()
    return text or None


async def cla_line(ctx: "Context", repo: str, sha: str) -> str | None:
    return await _borrowed_line(ctx, "bot.features.cla", repo, sha)


async def patch_line(ctx: "Context", repo: str, number: int, head_sha: str) -> str | None:
    return await _borrowed_line(ctx, "bot.features.patch_pipeline", repo, number, head_sha)


async def sandbox_line(ctx: "Context", repo: str, number: int) -> str | None:
    return await _borrowed_line(ctx, "bot.features.sandbox", repo, number)


def _sla_target(sla: Mapping[str, Any], labels: frozenset[str]) -> float | None:
    """The tightest target of the SLA policies that cover this pull request: those for
    pull requests that select by no kind, and by no label or one the PR carries (a
    kind is decided by the classifier later, so a kind-only policy promises nothing yet)."""
    targets = []
    for policy in sla.get("policies") or ():
        if "pull_request" not in (policy.get("item_types") or ()) or policy.get("kinds"):
            continue
        wanted = set(policy.get("labels") or ())
        if wanted and not wanted & labels:
            continue
        target = policy.get("target")
        if isinstance(target, (int, float)) and not isinstance(target, bool) and target > 0:
            targets.append(float(target))
    return min(targets) if targets else None


def response_time(ctx: "Context", fallback_seconds: float, labels: frozenset[str] = frozenset()) -> str:
    """The SLA section's target when it is on and covers this PR (Duration values are
    seconds), otherwise this section's own ``response_time``."""
    if _feature_on(ctx, "sla"):
        found = _sla_target(ctx.rules.section("sla"), labels)
        if found:
            return humanize_seconds(found)
    return humanize_seconds(fallback_seconds)
