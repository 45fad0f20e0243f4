"""pytest fixture `fake_github`: a started FakeGitHub that must end the test without violations.

Enable with `pytest_plugins = ["tests.fakegithub.pytest_plugin"]` in a conftest.py.
"""

from __future__ import annotations

from typing import AsyncIterator

import pytest_asyncio

from .server import FakeGitHub


@pytest_asyncio.fixture
async def fake_github() -> AsyncIterator[FakeGitHub]:
    fake = FakeGitHub()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
    assert not fake.violations, "fake GitHub saw invalid requests:\n" + "\n".join(fake.violations)
