"""GitHub: the process-wide entry point that owns credentials and per-installation state.

Built once with the app's single ClientSession. Clients for an installation share a gate, a
mutation pacer, a concurrency cap and an ETag cache, so every feature and job that talks to the
same installation is paced together.
"""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from cachetools import LRUCache

from .auth import AppJWT, InstallationTokens
from .client import InstallationAPI
from .errors import InstallationGone, InstallationSuspended, PermanentGitHubError
from .pacing import Gate, MutationPacer
from .retry import MAX_SERVER_WAIT
from .transport import InstallationState, Policy, Transport

__all__ = ["GitHub"]

DEFAULT_API_URL = "https://api.github.com"


class GitHub:
    def __init__(self, session: aiohttp.ClientSession, *, api_url: str = DEFAULT_API_URL,
                 app_id: str | None = None, private_key: str | None = None,
                 metrics: Any | None = None,
                 mutation_interval: float = 1.0,
                 max_attempts: int = 5, max_wait: float = 60.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 wall_clock: Callable[[], float] = time.time,
                 concurrency: int = 20, cache_size: int = 512, timeout: float = 30.0,
                 rng: random.Random | None = None,
                 on_hold: Callable[[str, float], None] | None = None) -> None:
        """`clock` and `sleep` must agree (a fake sleep must advance a fake clock); `wall_clock`
        gives epoch seconds for x-ratelimit-reset and RateLimited.retry_at."""
        if (app_id is None) != (private_key is None):
            raise ValueError("app_id and private_key must be given together")
        self._session = session
        self._policy = Policy(api_url=api_url.rstrip("/"), max_attempts=max_attempts,
                              max_wait=max_wait, timeout=timeout, clock=clock,
                              wall_clock=wall_clock, sleep=sleep, rng=rng or random.Random(),
                              metrics=metrics, on_hold=on_hold)
        self._mutation_interval = mutation_interval
        self._concurrency = concurrency
        self._cache_size = cache_size
        self._jwt = AppJWT(app_id, private_key, clock) if app_id and private_key else None
        self._tokens = InstallationTokens(self._mint, clock=clock, wall_clock=wall_clock)
        self._installations: dict[int, InstallationAPI] = {}
        self._app_client: InstallationAPI | None = None
        self._holds: dict[str, float] = {}  # learned from other replicas, monotonic instants

    def __repr__(self) -> str:
        return f"GitHub(api_url={self._policy.api_url!r}, dry_run={self.dry_run})"

    @property
    def api_url(self) -> str:
        return self._policy.api_url

    @property
    def dry_run(self) -> bool:
        """No app credentials: reads go out unauthenticated and mutations are refused."""
        return self._jwt is None

    async def installation(self, installation_id: int) -> InstallationAPI:
        """The client for one installation; its token is minted on first use and then reused."""
        api = self._installations.get(installation_id)
        if api is None:
            api = self._installations[installation_id] = self._build(installation_id)
        if not self.dry_run:
            await self._tokens.get(installation_id)  # surface credential errors here, not later
        return api

    def app(self) -> InstallationAPI:
        """A client authenticated as the app (JWT) for /app/... endpoints."""
        if self._jwt is None:
            raise PermanentGitHubError("dry run: no app credentials for /app endpoints", status=401)
        if self._app_client is None:
            jwt = self._jwt

            async def auth() -> str:
                return jwt.header()

            # Not paced: token mints must not queue behind a second of spacing, and the app's
            # own content creation (redelivery requests) is rare.
            state = InstallationState(key="app", gate=Gate(),
                                      slots=asyncio.Semaphore(self._concurrency),
                                      pacer=None, cache=None)
            # A refused JWT is signed again once (the transport's reauth), as a token is minted again.
            self._app_client = InstallationAPI(self._session,
                                               Transport(self._session, state, self._policy, auth,
                                                         jwt.invalidate))
        return self._app_client

    def hold(self, key: str, until_epoch: float) -> None:
        """Apply a hold another replica learned (``key``: installation id or "app")."""
        p = self._policy
        # No GitHub limit asks for more than an hour (see retry.MAX_SERVER_WAIT); a longer hold
        # in the table (a garbled Retry-After an older version took at its word) is bounded.
        instant = p.clock() + min(until_epoch - p.wall_clock(), MAX_SERVER_WAIT)
        self._holds[key] = max(self._holds.get(key, 0.0), instant)
        if key == "app":
            client = self._app_client
        else:
            try:
                client = self._installations.get(int(key))
            except ValueError:
                return
        if client is not None:
            client._transport.state.gate.hold_until(instant)

    def _build(self, installation_id: int) -> InstallationAPI:
        p = self._policy
        state = InstallationState(
            key=str(installation_id), gate=Gate(),
            slots=asyncio.Semaphore(self._concurrency),
            pacer=MutationPacer(clock=p.clock, sleep=p.sleep, interval=self._mutation_interval),
            cache=LRUCache(maxsize=self._cache_size),
            read_only=self.dry_run)
        state.gate.hold_until(self._holds.get(str(installation_id), 0.0))
        tokens = self._tokens

        async def auth() -> str | None:
            return None if self.dry_run else await tokens.header(installation_id)

        def invalidate(header: str) -> None:
            tokens.invalidate(installation_id, header)

        transport = Transport(self._session, state, p, auth, invalidate)
        return InstallationAPI(self._session, transport, installation_id=installation_id)

    async def _mint(self, installation_id: int) -> dict[str, Any]:
        try:
            answer = await self.app().post("/app/installations/{installation_id}/access_tokens",
                                           {"installation_id": installation_id}, data=b"")
        except PermanentGitHubError as exc:
            # The App's JWT was taken (a refused one is 401), the installation was not found.
            if exc.status == 404:
                raise InstallationGone(installation_id, endpoint=exc.endpoint) from None
            if exc.status == 403 and "suspended" in exc.message.lower():
                raise InstallationSuspended(installation_id, endpoint=exc.endpoint) from None
            raise
        if not isinstance(answer, dict) or "token" not in answer:
            raise PermanentGitHubError("token endpoint answered without a token",
                                       endpoint="/app/installations/{n}/access_tokens")
        return answer
