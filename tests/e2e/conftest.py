from __future__ import annotations

import pytest_asyncio

from .harness import BotHarness


@pytest_asyncio.fixture
async def bot(fake_github, database_url):
    """The real bot, with credentials, against the fake GitHub (SQLite unless the test
    parametrises ``database_url``)."""
    fake_github.add_repo("octo/repo")
    async with BotHarness(fake_github, database_url=database_url) as harness:
        yield harness
