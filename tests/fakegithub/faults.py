"""Deterministic fault injection: 502s, 429s and secondary-rate-limit 403s, stalls, lost answers.

The n-th eligible request draws from a seeded generator, so a test run is repeatable. A faulted
request changes no state unless `after_effect=True`, where the handler runs and the answer is a
502 anyway ("the answer was lost"). Every client that got a Retry-After must wait it out: a
request sooner than that from the same credentials is a violation.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from .context import GitHubError

SECONDARY_MESSAGE = ("You have exceeded a secondary rate limit. Please wait a few minutes before "
                     "you try again. If you reach out to GitHub Support for help, please include "
                     "the request ID.")


@dataclass
class FaultPlan:
    share: float = 0.0
    kinds: tuple[str, ...] = ("502", "429", "secondary_403")
    retry_after: int = 1
    stall_share: float = 0.0
    stall_seconds: float = 2.0
    only_methods: tuple[str, ...] | None = None
    after_effect: bool = False


@dataclass
class Decision:
    kind: str | None = None
    stall: float = 0.0


@dataclass
class Faults:
    plan: FaultPlan = field(default_factory=FaultPlan)
    rng: random.Random = field(default_factory=lambda: random.Random(1))
    not_before: dict[str, float] = field(default_factory=dict)  # credential -> monotonic time
    injected: list[str] = field(default_factory=list)  # kinds, in order, for assertions

    def configure(self, share: float = 0.2, kinds: tuple[str, ...] = ("502", "429", "secondary_403"),
                  retry_after: int = 1, stall_share: float = 0.0, stall_seconds: float = 2.0,
                  seed: int = 1, only_methods: tuple[str, ...] | list[str] | None = None,
                  after_effect: bool = False) -> None:
        unknown = set(kinds) - {"502", "429", "secondary_403"}
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}")
        self.plan = FaultPlan(share=share, kinds=tuple(kinds), retry_after=retry_after,
                              stall_share=stall_share, stall_seconds=stall_seconds,
                              only_methods=tuple(m.upper() for m in only_methods) if only_methods else None,
                              after_effect=after_effect)
        self.rng = random.Random(seed)

    def off(self) -> None:
        """Stop injecting; pending Retry-After deadlines still apply (see reset)."""
        self.plan = FaultPlan()

    def reset(self) -> None:
        """Stop injecting and forget Retry-After deadlines."""
        self.plan = FaultPlan()
        self.not_before.clear()

    def check_retry_after(self, credential: str) -> str | None:
        """A violation message if this credential came back before its Retry-After expired."""
        until = self.not_before.get(credential)
        now = time.monotonic()
        if until is not None and now < until:
            return f"request before Retry-After: {until - now:.2f}s early"
        return None

    def decide(self, method: str) -> Decision:
        plan = self.plan
        if plan.only_methods is not None and method not in plan.only_methods:
            return Decision()
        if plan.share <= 0 and plan.stall_share <= 0:
            return Decision()
        # Two draws every time keep the sequence stable whatever the shares are.
        fault_draw, stall_draw = self.rng.random(), self.rng.random()
        kind_index = self.rng.randrange(len(plan.kinds))
        decision = Decision()
        if fault_draw < plan.share:
            decision.kind = plan.kinds[kind_index]
            self.injected.append(decision.kind)
        if stall_draw < plan.stall_share:
            decision.stall = plan.stall_seconds
        return decision

    def error_for(self, kind: str, credential: str, retry_after: int | None = None) -> GitHubError:
        if kind == "502":
            return GitHubError(502, "Server Error")
        wait = self.plan.retry_after if retry_after is None else retry_after
        self.not_before[credential] = time.monotonic() + wait
        headers = {"Retry-After": str(wait)}
        if kind == "429":
            return GitHubError(429, "Too Many Requests", headers=headers)
        return GitHubError(403, SECONDARY_MESSAGE, headers=headers)
