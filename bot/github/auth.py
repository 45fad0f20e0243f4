"""App credentials: a short-lived JWT for /app endpoints and cached installation tokens.

Installation tokens live an hour. Minting one per event (as many bots do) costs a request and
an app-level rate-limit point each time, so we keep one per installation, refresh it a few
minutes before it expires, and let concurrent callers share a single mint.
"""
from __future__ import annotations

import asyncio
import datetime
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gidgethub.apps import get_jwt

__all__ = ["AppJWT", "InstallationTokens"]

Clock = Callable[[], float]
Mint = Callable[[int], Awaitable[dict[str, Any]]]

# GitHub caps app JWTs at 10 minutes and gidgethub backdates `iat` by 60 s for clock drift.
_JWT_LIFETIME = 9 * 60
_JWT_REUSE = 5 * 60
# Refresh installation tokens this long before GitHub says they expire.
REFRESH_MARGIN = 5 * 60
_DEFAULT_TOKEN_LIFETIME = 3600.0


class AppJWT:
    """Signs app JWTs, reusing one for a few minutes (signing RS256 on every call is wasteful)."""

    def __init__(self, app_id: str, private_key: str, clock: Clock) -> None:
        self._app_id = app_id
        self._private_key = private_key
        self._clock = clock
        self._jwt: str | None = None
        self._renew_at = 0.0

    def __repr__(self) -> str:  # never show the key
        return f"AppJWT(app_id={self._app_id!r})"

    def header(self) -> str:
        now = self._clock()
        if self._jwt is None or now >= self._renew_at:
            self._jwt = get_jwt(app_id=self._app_id, private_key=self._private_key,
                                expiration=_JWT_LIFETIME)
            self._renew_at = now + _JWT_REUSE
        return f"bearer {self._jwt}"

    def invalidate(self, header: str) -> None:
        """GitHub refused ``header`` (401): sign a new JWT for the next call. Reuse is timed by
        the monotonic clock, GitHub judges by the wall clock: after a suspend, or a step of the
        wall clock, a JWT fresh by the one has expired by the other."""
        if self._jwt is not None and header == f"bearer {self._jwt}":
            self._jwt = None


@dataclass
class _Token:
    value: str
    refresh_at: float  # monotonic instant after which we mint again


class InstallationTokens:
    """Installation id -> token, minted through `mint` (the app client, with its retries)."""

    def __init__(self, mint: Mint, *, clock: Clock, wall_clock: Clock,
                 refresh_margin: float = REFRESH_MARGIN) -> None:
        self._mint = mint
        self._clock = clock
        self._wall_clock = wall_clock
        self._margin = refresh_margin
        self._tokens: dict[int, _Token] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"InstallationTokens(installations={sorted(self._tokens)})"

    async def header(self, installation_id: int) -> str:
        return f"token {await self.get(installation_id)}"

    async def get(self, installation_id: int) -> str:
        token = self._fresh(installation_id)
        if token is not None:
            return token
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            # Whoever held the lock before us may have minted already: single flight.
            token = self._fresh(installation_id)
            if token is not None:
                return token
            answer = await self._mint(installation_id)
            lifetime = self._lifetime(answer.get("expires_at"))
            self._tokens[installation_id] = _Token(
                answer["token"], self._clock() + max(0.0, lifetime - self._margin))
            return answer["token"]

    def invalidate(self, installation_id: int, header: str | None = None) -> None:
        """Forget the token (after a 401), unless another call already replaced it."""
        current = self._tokens.get(installation_id)
        if current is not None and (header is None or header == f"token {current.value}"):
            del self._tokens[installation_id]

    def _fresh(self, installation_id: int) -> str | None:
        token = self._tokens.get(installation_id)
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        return None

    def _lifetime(self, expires_at: str | None) -> float:
        if not expires_at:
            return _DEFAULT_TOKEN_LIFETIME
        try:
            when = datetime.datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
        except ValueError:
            return _DEFAULT_TOKEN_LIFETIME
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        return when.timestamp() - self._wall_clock()
