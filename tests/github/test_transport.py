"""The retry loop with scripted responses and a fake clock: exact waits, no real sleeping.

Only `_send_once` is replaced (the HTTP exchange); gate, pacing, retries and metrics are the real
code. HTTP behaviour end to end is covered against the fake GitHub in test_resilience.py.
"""
from __future__ import annotations

import asyncio
import random

import aiohttp
import pytest

from bot.github.errors import RateLimited, TransientGitHubError
from bot.github.pacing import Gate, MutationPacer
from bot.github.transport import InstallationState, Policy, Transport

from .test_pacing import FakeClock

WALL0 = 1_700_000_000.0
URL = "https://api.github.com/repos/o/r/issues/1"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def github_call(self, endpoint: str, status: object) -> None:
        self.calls.append((endpoint, status))

    def rate_limit_remaining(self, value: int, installation: str) -> None:
        self.calls.append(("remaining", (value, installation)))


def make(script: list, clock: FakeClock, *, max_attempts: int = 5, max_wait: float = 60.0,
         gate: Gate | None = None, pacer: MutationPacer | None = None):
    """A transport whose n-th send returns script[n] (a response tuple or an exception)."""
    metrics = Recorder()
    policy = Policy(api_url="https://api.github.com", max_attempts=max_attempts, max_wait=max_wait,
                    clock=clock, wall_clock=lambda: WALL0 + clock.now, sleep=clock.sleep,
                    rng=random.Random(1), metrics=metrics)
    state = InstallationState(key="9", gate=gate or Gate(), slots=asyncio.Semaphore(20),
                              pacer=pacer, cache=None)

    async def auth() -> str:
        return "token ghs_test"

    transport = Transport(None, state, policy, auth)  # type: ignore[arg-type]
    sent: list[float] = []

    async def send_once(method, url, headers, body):
        sent.append(clock.now)
        step = script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    transport._send_once = send_once  # type: ignore[method-assign]
    return transport, sent, metrics


def ok() -> tuple:
    return 200, {"x-ratelimit-remaining": "4999"}, b"{}"


async def test_server_errors_back_off_then_succeed():
    clock = FakeClock(0.0)
    transport, sent, metrics = make([(502, {}, b""), (503, {}, b""), ok()], clock)
    status, _, _ = await transport.send("GET", URL, {}, b"")
    assert status == 200
    gaps = [b - a for a, b in zip(sent, sent[1:])]
    assert 0.5 <= gaps[0] <= 1.0 and 1.0 <= gaps[1] <= 2.0  # exponential, jittered
    assert [s for e, s in metrics.calls if e != "remaining"] == [502, 503, 200]
    assert ("remaining", (4999, "9")) in metrics.calls


async def test_retry_after_is_honoured_exactly():
    clock = FakeClock(0.0)
    transport, sent, _ = make([(429, {"retry-after": "7"}, b""), ok()], clock)
    await transport.send("GET", URL, {}, b"")
    assert sent == [0.0, 7.0]


async def test_primary_limit_waits_until_reset_when_close():
    clock = FakeClock(0.0)
    reset = str(int(WALL0 + 20))
    transport, sent, _ = make([(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
                                b'{"message": "API rate limit exceeded"}'), ok()], clock)
    await transport.send("GET", URL, {}, b"")
    assert sent == [0.0, 21.0]  # reset plus a second's margin


async def test_primary_limit_far_away_raises_rate_limited_and_holds_other_calls():
    clock = FakeClock(0.0)
    reset = WALL0 + 1800
    transport, sent, _ = make([(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(reset))},
                                b'{"message": "API rate limit exceeded"}')], clock)
    with pytest.raises(RateLimited) as caught:
        await transport.send("GET", URL, {}, b"")
    assert caught.value.retry_at == pytest.approx(reset + 1)
    assert caught.value.status == 403
    # Another call for the same installation does not even send.
    with pytest.raises(RateLimited):
        await transport.send("GET", URL, {}, b"")
    assert sent == [0.0]


async def test_other_calls_wait_for_a_retry_after_learned_by_one():
    clock = FakeClock(0.0)
    gate = Gate()
    first, _, _ = make([(403, {"retry-after": "5"}, b"secondary rate limit")], clock, gate=gate,
                       max_attempts=1)
    second, sent_second, _ = make([ok()], clock, gate=gate)
    with pytest.raises(TransientGitHubError):
        await first.send("GET", URL, {}, b"")  # learns Retry-After: 5 at t=0, out of attempts
    clock.now = 1.0
    await second.send("GET", URL, {}, b"")
    assert sent_second == [5.0]


async def test_gives_up_after_max_attempts():
    clock = FakeClock(0.0)
    transport, sent, _ = make([(502, {}, b"")] * 3, clock, max_attempts=3)
    with pytest.raises(TransientGitHubError) as caught:
        await transport.send("GET", URL, {}, b"")
    assert caught.value.status == 502
    assert len(sent) == 3
    assert not isinstance(caught.value, RateLimited)


async def test_network_errors_and_timeouts_are_retried():
    clock = FakeClock(0.0)
    transport, sent, metrics = make([aiohttp.ClientConnectionError("reset"), asyncio.TimeoutError(), ok()], clock)
    status, _, _ = await transport.send("GET", URL, {}, b"")
    assert status == 200 and len(sent) == 3
    assert [s for e, s in metrics.calls if e != "remaining"] == ["error", "error", 200]


async def test_network_errors_exhausted_become_transient():
    clock = FakeClock(0.0)
    transport, _, _ = make([aiohttp.ClientConnectionError("Authorization: token ghs_leakyleakyleaky")] * 2,
                           clock, max_attempts=2)
    with pytest.raises(TransientGitHubError) as caught:
        await transport.send("GET", URL, {}, b"")
    assert "ghs_leaky" not in str(caught.value)


async def test_secondary_limit_without_instructions_waits_a_minute():
    clock = FakeClock(0.0)
    transport, sent, _ = make([(403, {}, b'{"message": "You have exceeded a secondary rate limit"}'), ok()],
                              clock, max_wait=120)
    await transport.send("POST", URL + "/comments", {}, b"{}")
    assert sent[1] - sent[0] >= 60.0


async def test_retries_of_mutations_are_paced_too():
    clock = FakeClock(0.0)
    pacer = MutationPacer(clock=clock, sleep=clock.sleep, interval=3.0)
    transport, sent, _ = make([(429, {"retry-after": "1"}, b""), ok(), ok()], clock, pacer=pacer)
    await transport.send("POST", URL + "/comments", {}, b"{}")
    await transport.send("POST", URL + "/comments", {}, b"{}")
    assert all(b - a >= 3.0 for a, b in zip(sent, sent[1:]))


async def test_concurrency_per_installation_is_capped():
    clock = FakeClock(0.0)
    transport, _, _ = make([], clock)
    transport.state.slots = asyncio.Semaphore(3)
    in_flight = peak = 0
    release = asyncio.Event()

    async def send_once(method, url, headers, body):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1
        return ok()

    transport._send_once = send_once  # type: ignore[method-assign]
    calls = [asyncio.create_task(transport.send("GET", URL, {}, b"")) for _ in range(10)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert in_flight == 3
    release.set()
    await asyncio.gather(*calls)
    assert peak == 3


async def test_an_exhausted_budget_holds_only_that_budget():
    clock = FakeClock(0.0)
    reset = str(int(WALL0 + 30))
    search = "https://api.github.com/search/issues?q=x"
    transport, sent, _ = make([(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}, b"{}"),
                               ok(), ok()], clock)
    await transport.send("GET", search, {}, b"")  # the last search call of this minute
    await transport.send("GET", URL, {}, b"")      # core budget: goes at once
    assert sent == [0.0, 0.0]
    await transport.send("GET", search, {}, b"")   # waits for the search reset, without a 403 first
    assert sent == [0.0, 0.0, 31.0]
