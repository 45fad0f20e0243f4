"""The single path every HTTP request to GitHub takes: gate, pacing, auth, send, metrics, retry.

gidgethub funnels REST and GraphQL alike through `_request(method, url, headers, body)`, so doing
the work here covers both and sees the raw status and headers (gidgethub itself ignores 429 and
retry-after). Whatever reaches gidgethub afterwards is either a success or a final answer.
"""
from __future__ import annotations

import asyncio
import re
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import aiohttp
from cachetools import LRUCache

from .endpoints import endpoint_label, is_content_creating, resource_of
from .errors import InstallationGone, PermanentGitHubError, RateLimited, TransientGitHubError
from .pacing import Gate, MutationPacer
from .retry import Hold, Kind, backoff_delay, classify, exhausted_until

__all__ = ["Policy", "InstallationState", "Transport"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Response = tuple[int, Mapping[str, str], bytes]


@dataclass(frozen=True)
class Policy:
    """Process-wide settings plus the injected clocks (tests pass fast ones)."""

    api_url: str
    max_attempts: int = 5
    max_wait: float = 60.0
    timeout: float = 30.0
    clock: Clock = field(default=lambda: 0.0)
    wall_clock: Clock = field(default=lambda: 0.0)
    sleep: Sleep = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    metrics: object | None = None  # bot.metrics.Metrics; duck-typed so tests can record calls
    # Told of every installation-wide hold (key, until as epoch seconds) so other replicas,
    # which share the installation's limits, can wait too (see bot.store.holds).
    on_hold: Callable[[str, float], None] | None = None

    @property
    def graphql_url(self) -> str:
        base = self.api_url.rstrip("/")
        # GitHub Enterprise Server serves REST at /api/v3 but GraphQL at /api/graphql.
        if base.endswith("/api/v3"):
            base = base[: -len("/v3")]
        return base + "/graphql"


@dataclass
class InstallationState:
    """What all clients of one installation (or of the app itself) share."""

    key: str                               # metrics label: installation id or "app"
    gate: Gate
    slots: asyncio.Semaphore               # caps concurrent requests (GitHub allows 100)
    pacer: MutationPacer | None            # None: content creation is not paced (app client)
    cache: LRUCache | None                 # ETag cache for JSON GETs
    read_only: bool = False                # dry run: refuse content-creating requests


AuthHeader = Callable[[], Awaitable[str | None]]
Invalidate = Callable[[str], None]


# POSTs that are safe to send again when the first answer was lost: adding what is
# already there changes nothing. Any other POST (a comment, a check run, a dispatch,
# a discussion) might have been applied; resending could duplicate it, so the call
# fails at once and the executor, on the delivery's retry, looks for what it made.
_IDEMPOTENT_POSTS = re.compile(
    r"/(labels|reactions|assignees|requested_reviewers|access_tokens)(\?.*)?$")


def resend_is_safe(method: str, url: str, *, graphql_url: str, mutation: bool) -> bool:
    if url.split("?", 1)[0] == graphql_url:
        return not mutation  # a query may be sent again; a mutation may have been applied
    return method.upper() != "POST" or bool(_IDEMPOTENT_POSTS.search(url.split("?", 1)[0]))


class Transport:
    def __init__(self, session: aiohttp.ClientSession, state: InstallationState, policy: Policy,
                 auth: AuthHeader, invalidate: Invalidate | None = None) -> None:
        self.session = session
        self.state = state
        self.policy = policy
        self._auth = auth
        self._invalidate = invalidate

    async def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Response:
        p, state = self.policy, self.state
        endpoint = endpoint_label(url, p.api_url)
        mutation = is_content_creating(method, url, body, p.graphql_url)
        resource = resource_of(url, p.graphql_url)
        if mutation and state.read_only:
            raise PermanentGitHubError("dry run: content-creating requests are disabled",
                                       endpoint=endpoint)
        safe = resend_is_safe(method, url, graphql_url=p.graphql_url, mutation=mutation)
        reauthed = False
        attempt = 0
        while True:
            attempt += 1
            await self._pass_gate(endpoint, resource)
            if mutation and state.pacer is not None:
                await state.pacer.acquire()
            request_headers = dict(headers)
            auth = await self._credentials(endpoint)
            if auth is not None:
                request_headers["authorization"] = auth
            try:
                async with state.slots:
                    # Again, just before sending: a Retry-After may have arrived while this call
                    # waited for its pacing slot, its token or a free slot.
                    await self._pass_gate(endpoint, resource)
                    status, response_headers, response_body = await self._send_once(
                        method, url, request_headers, body)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                self._count(endpoint, "error")
                reason = f"{type(exc).__name__} on {method} {endpoint}"
                if attempt >= p.max_attempts or not safe:
                    raise TransientGitHubError(f"gave up after {attempt} attempts: {reason}",
                                               endpoint=endpoint) from None
                wait = backoff_delay(attempt, p.rng)
                log.info("github: %s; retrying in %.1fs", reason, wait)
                await p.sleep(wait)
                continue
            self._count(endpoint, status)
            self._observe_rate_limit(response_headers)
            verdict = classify(status, response_headers, response_body, now_epoch=p.wall_clock())
            if verdict.kind is Kind.DONE:
                empty_for = exhausted_until(response_headers, p.wall_clock())
                if empty_for is not None:
                    state.gate.hold_until(p.clock() + empty_for, resource)
                return status, response_headers, response_body
            if verdict.kind is Kind.REAUTH:
                if reauthed or self._invalidate is None or auth is None:
                    return status, response_headers, response_body  # gidgethub raises BadRequest
                reauthed = True
                self._invalidate(auth)
                continue
            wait = verdict.wait if verdict.wait is not None else max(
                verdict.floor, backoff_delay(attempt, p.rng))
            if verdict.hold is Hold.INSTALLATION:
                state.gate.hold_until(p.clock() + wait)
                if p.on_hold is not None:
                    p.on_hold(state.key, p.wall_clock() + wait)
            elif verdict.hold is Hold.RESOURCE:
                state.gate.hold_until(p.clock() + wait, resource)
            if wait > p.max_wait:
                raise RateLimited(f"{verdict.reason}: retry in {wait:.0f}s",
                                  retry_at=p.wall_clock() + wait, status=status, endpoint=endpoint)
            if attempt >= p.max_attempts or (status >= 500 and not safe):
                raise TransientGitHubError(f"gave up after {attempt} attempts: {verdict.reason}",
                                           status=status, endpoint=endpoint)
            log.info("github: %s on %s %s; retrying in %.1fs", verdict.reason, method, endpoint, wait)
            if verdict.hold is Hold.NONE:
                await p.sleep(wait)  # otherwise the gate makes us (and everyone else) wait

    async def _credentials(self, endpoint: str) -> str | None:
        """The authorization header. Minting a token can fail in the middle of a delivery (the
        cached one expired or was revoked, and GitHub refuses the App's JWT just then: clocks
        that disagree). That says nothing about this request: it was never sent, so it is worth
        another attempt later, never a permanent failure of the action that made it. Except when
        the installation itself is gone (the App uninstalled): then nothing of it will work."""
        try:
            return await self._auth()
        except InstallationGone:
            raise  # uninstalled: no later attempt gets a token either
        except PermanentGitHubError as exc:
            raise TransientGitHubError(f"no credentials for this request: {exc}", status=exc.status,
                                       endpoint=endpoint) from None

    async def _pass_gate(self, endpoint: str, resource: str) -> None:
        p = self.policy
        while (wait := self.state.gate.remaining(p.clock(), resource)) > 0:
            if wait > p.max_wait:
                raise RateLimited(f"installation held back for {wait:.0f}s",
                                  retry_at=p.wall_clock() + wait, endpoint=endpoint)
            await p.sleep(wait)

    async def _send_once(self, method: str, url: str, headers: Mapping[str, str], body: bytes
                         ) -> Response:
        timeout = aiohttp.ClientTimeout(total=self.policy.timeout)
        async with self.session.request(method, url, headers=headers, data=body,
                                        timeout=timeout) as response:
            return response.status, response.headers, await response.read()

    def _count(self, endpoint: str, status: int | str) -> None:
        if self.policy.metrics is not None:
            self.policy.metrics.github_call(endpoint, status)  # type: ignore[attr-defined]

    def _observe_rate_limit(self, headers: Mapping[str, str]) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        if self.policy.metrics is None or remaining is None:
            return
        try:
            value = int(remaining)
        except ValueError:
            return
        self.policy.metrics.rate_limit_remaining(value, installation=self.state.key)  # type: ignore[attr-defined]
