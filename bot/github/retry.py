"""Pure retry decisions: which responses to retry, and how long to wait before the next try.

Kept free of I/O so the rules GitHub documents (retry-after, x-ratelimit-reset, "wait at least a
minute" for secondary limits) are tested as a table.
"""
from __future__ import annotations

import email.utils
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

__all__ = ["Hold", "Kind", "Verdict", "classify", "exhausted_until", "backoff_delay",
           "parse_retry_after", "SECONDARY_DEFAULT_WAIT"]

# GitHub: on a secondary limit without retry-after or reset headers, "wait at least one minute".
SECONDARY_DEFAULT_WAIT = 60.0
# Reset instants are whole seconds; a small margin avoids arriving a moment too early.
RESET_MARGIN = 1.0
# The longest wait taken from a response: the primary limit's window. A longer one is no limit
# of GitHub's (a broken proxy, a garbled header) and, shared between replicas through
# github_holds, would hold the installation for good.
MAX_SERVER_WAIT = 3600.0
_DELTA_SECONDS = re.compile(r"[0-9]+")


class Hold(Enum):
    """Who else must wait: nobody, every call of the installation, or calls to one budget."""
    NONE = "none"
    INSTALLATION = "installation"  # Retry-After, secondary limits: GitHub applies them overall
    RESOURCE = "resource"          # primary limit: core, search and graphql budgets are separate


class Kind(Enum):
    DONE = "done"        # hand the response to gidgethub (success or a permanent error)
    RETRY = "retry"      # send again after a wait
    REAUTH = "reauth"    # 401: the token may have been revoked early; mint a new one once


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    reason: str = ""
    # Wait the server asked for (retry-after or until reset); None means "use backoff".
    wait: float | None = None
    # Lower bound for a computed backoff (secondary limits without instructions).
    floor: float = 0.0
    hold: Hold = Hold.NONE


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):  # not float(): "inf", "nan" and "1e9" are none
        return min(float(value), MAX_SERVER_WAIT)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return min(max(0.0, when.timestamp() - now_epoch), MAX_SERVER_WAIT)


def classify(status: int, headers: Mapping[str, str], body: bytes, *, now_epoch: float) -> Verdict:
    """Decide what to do with one HTTP response."""
    if status < 400:
        return Verdict(Kind.DONE)
    if status == 401:
        return Verdict(Kind.REAUTH, "unauthorized")
    retry_after = parse_retry_after(headers.get("retry-after"), now_epoch)
    if status in (403, 429) and headers.get("x-ratelimit-remaining") == "0":
        if retry_after is None:
            try:
                reset = float(headers.get("x-ratelimit-reset", ""))
            except ValueError:
                reset = now_epoch + SECONDARY_DEFAULT_WAIT
            retry_after = min(max(0.0, reset - now_epoch) + RESET_MARGIN, MAX_SERVER_WAIT)
        return Verdict(Kind.RETRY, "primary rate limit exhausted", retry_after, hold=Hold.RESOURCE)
    if status == 429 or (status == 403 and (retry_after is not None or _mentions_secondary(body))):
        return Verdict(Kind.RETRY, "secondary rate limit", retry_after,
                       floor=SECONDARY_DEFAULT_WAIT, hold=Hold.INSTALLATION)
    if status >= 500:
        return Verdict(Kind.RETRY, f"server error {status}", retry_after,
                       hold=Hold.INSTALLATION if retry_after is not None else Hold.NONE)
    return Verdict(Kind.DONE)


def exhausted_until(headers: Mapping[str, str], now_epoch: float) -> float | None:
    """Seconds until reset when a successful answer says the budget is now empty.

    The next call to that budget would only earn a 403, so we hold it back ourselves.
    """
    if headers.get("x-ratelimit-remaining") != "0":
        return None
    try:
        reset = float(headers.get("x-ratelimit-reset", ""))
    except ValueError:
        return None
    return min(reset - now_epoch + RESET_MARGIN, MAX_SERVER_WAIT) if reset > now_epoch else None


def _mentions_secondary(body: bytes) -> bool:
    text = body[:4096].lower()
    return b"secondary rate limit" in text or b"abuse detection" in text


def backoff_delay(attempt: int, rng: random.Random, *, base: float = 1.0, cap: float = 30.0) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, so retries spread out
    while never collapsing to zero. `attempt` is 1 for the first retry."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)
