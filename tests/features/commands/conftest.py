"""Fixtures for the commands feature: the shared fake GitHub and a read-only client on it."""
from __future__ import annotations

from typing import AsyncIterator

import aiohttp
import pytest

from bot.context import ReadOnlyGitHub
from bot.github import GitHub
from tests.fakegithub.server import FakeGitHub

REPO = "octo/widgets"


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_repo(REPO)
    return fake_github


@pytest.fixture
async def reader(fake: FakeGitHub) -> AsyncIterator[ReadOnlyGitHub]:
    async with aiohttp.ClientSession() as session:
        github = GitHub(session, api_url=fake.url, app_id=str(fake.app_id),
                        private_key=fake.private_key_pem, mutation_interval=0.0)
        yield ReadOnlyGitHub(await github.installation(1))
