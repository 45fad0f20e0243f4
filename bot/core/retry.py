"""Not now, later: the one way to say that a delivery or a job must be tried again at a
given time rather than fail.

Raised by the executor's action implementations and by features' writers (a
compare-and-set that lost, a GitHub answer that is not settled yet). The executor stops
the batch there and lets it propagate like a transient GitHub error; the worker and the
queue schedule the next attempt at ``retry_at``, and that attempt decides again on what
the store and GitHub say then."""
from __future__ import annotations

import time


class PermanentFailure(Exception):
    """The delivery cannot succeed however often it is tried (its installation is gone, its
    payload is not what GitHub sends): the worker ends it at once, recorded as dead with this
    message, instead of retrying it until it dies. ``deliveries retry`` still brings it back
    should the cause go away (the App installed again)."""


class RetryLater(Exception):
    def __init__(self, message: str, *, retry_at: float | None = None, counted: bool = True) -> None:
        super().__init__(message)
        # Epoch seconds. Default: now, for a decision that only needs to be made again on
        # the current state (no backing off).
        self.retry_at = time.time() if retry_at is None else float(retry_at)
        # False: a wait the raiser bounds itself, by time (a grace since the event, after which
        # it decides without waiting), so it is no attempt of the delivery's: a low
        # ``core.max_attempts`` would otherwise end the delivery (dead) inside that grace.
        self.counted = counted
