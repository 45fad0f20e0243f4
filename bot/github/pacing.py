"""Per-installation pacing: a "not before" gate set by GitHub's instructions, and spacing for
content-creating requests so we stay inside the secondary limits instead of hitting them.

GitHub's documented secondary limits for content creation are 80 per minute and 500 per hour, and
it recommends about a second between mutations. Both windows slide, so a burst after a quiet
period is still spread out.
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["Gate", "MutationPacer", "Window"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Gate:
    """Instants before which no request of this installation may be sent (monotonic time):
    one for the whole installation, and one per rate-limit budget ("core", "search", "graphql").

    Shared by concurrent calls: when one call learns a Retry-After, the others wait too.
    """

    def __init__(self) -> None:
        self.not_before = 0.0
        self.resource_not_before: dict[str, float] = {}

    def hold_until(self, instant: float, resource: str | None = None) -> None:
        # Never shorten a wait another call already learned about.
        if resource is None:
            self.not_before = max(self.not_before, instant)
        else:
            current = self.resource_not_before.get(resource, 0.0)
            self.resource_not_before[resource] = max(current, instant)

    def remaining(self, now: float, resource: str | None = None) -> float:
        until = self.not_before
        if resource is not None:
            until = max(until, self.resource_not_before.get(resource, 0.0))
        return max(0.0, until - now)


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: float


DEFAULT_WINDOWS = (Window(80, 60.0), Window(500, 3600.0))


@dataclass
class MutationPacer:
    """Hands out send slots for content-creating requests; callers wait, never fail."""

    clock: Clock
    sleep: Sleep
    interval: float = 1.0
    windows: tuple[Window, ...] = DEFAULT_WINDOWS
    _sent: deque[float] = field(default_factory=deque)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def next_slot(self, now: float) -> float:
        """Earliest instant at which one more mutation may be sent (pure: no state change)."""
        earliest = now
        if self._sent:
            earliest = max(earliest, self._sent[-1] + self.interval)
        for window in self.windows:
            if len(self._sent) >= window.limit:
                # The request `limit` sends ago must have left the window first.
                earliest = max(earliest, self._sent[-window.limit] + window.seconds)
        return earliest

    def record(self, instant: float) -> None:
        self._sent.append(instant)
        keep = max(w.limit for w in self.windows)
        while len(self._sent) > keep:
            self._sent.popleft()

    async def acquire(self) -> float:
        """Wait for a slot and claim it; returns the seconds waited.

        Slots are claimed one at a time under a lock so concurrent mutations of one installation
        queue up in order; the lock is released before the request is sent.
        """
        async with self._lock:
            now = self.clock()
            slot = self.next_slot(now)
            if slot > now:
                await self.sleep(slot - now)
            # Record the later of the planned slot and the real time after waking, so a sleep
            # that overshoots (or a test clock that does not move) never lets the next slot early.
            self.record(max(slot, self.clock()))
            return slot - now
