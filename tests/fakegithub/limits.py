"""GitHub's secondary limits that a well-behaved bot must respect.

- At most 100 concurrent requests: exceeding it is always a violation.
- Content-creating requests per minute: off by default (tests run faster than a paced bot would);
  set `fake.limits.content_per_minute = 80` to get GitHub's 403 + Retry-After when exceeded.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field

MAX_CONCURRENT = 100
_MUTATION = re.compile(r"^\s*(#[^\n]*\n\s*)*mutation\b")


def is_content_creating(method: str, path: str, body: object) -> bool:
    if path == "/graphql":
        query = body.get("query") if isinstance(body, dict) else None
        return isinstance(query, str) and bool(_MUTATION.match(query))
    return method in ("POST", "PATCH", "PUT", "DELETE")


@dataclass
class Limits:
    content_per_minute: int | None = None
    in_flight: int = 0
    max_in_flight: int = 0
    _recent: dict[str, deque[float]] = field(default_factory=dict)

    def enter(self) -> bool:
        """Count a request in; False when it is over the concurrency limit."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return self.in_flight <= MAX_CONCURRENT

    def leave(self) -> None:
        self.in_flight -= 1

    def content_allowed(self, credential: str) -> bool:
        if self.content_per_minute is None:
            return True
        now = time.monotonic()
        recent = self._recent.setdefault(credential, deque())
        while recent and recent[0] <= now - 60:
            recent.popleft()
        if len(recent) >= self.content_per_minute:
            return False
        recent.append(now)
        return True
