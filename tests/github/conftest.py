"""Fixtures for the client tests: the team's fake GitHub and a GitHub facade pointed at it."""
from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bot.github import GitHub
from bot.metrics import Metrics
from tests.fakegithub.pytest_plugin import fake_github  # noqa: F401  (the shared fixture)
from tests.fakegithub.server import FakeGitHub

REPO = "octo/widgets"


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    """The shared fake (it fails the test on any invalid or too-early request) with one repo."""
    fake_github.add_repo(REPO)
    return fake_github


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class ShiftableClock:
    """Real monotonic time plus an offset a test can move (token expiry without waiting)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
def clock() -> ShiftableClock:
    return ShiftableClock()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def make_github(fake: FakeGitHub, session: aiohttp.ClientSession, metrics: Metrics,
                clock: ShiftableClock) -> Callable[..., GitHub]:
    def make(**overrides: Any) -> GitHub:
        options: dict[str, Any] = dict(api_url=fake.url, app_id=str(fake.app_id),
                                       private_key=fake.private_key_pem, metrics=metrics,
                                       mutation_interval=0.0, clock=clock)
        options.update(overrides)
        return GitHub(session, **options)
    return make


@pytest.fixture
def github(make_github: Callable[..., GitHub]) -> GitHub:
    return make_github()


def counter(metrics: Metrics, endpoint: str, status: int | str) -> float:
    value = metrics.registry.get_sample_value(
        "cf_github_calls_total", {"endpoint": endpoint, "status": str(status)})
    return value or 0.0
