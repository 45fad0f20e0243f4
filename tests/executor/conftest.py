"""The executor against the fake GitHub: a runtime on SQLite whose App is installed on the
test module's ``REPO``."""
from __future__ import annotations

import pytest_asyncio

from bot.runtime import open_runtime
from tests.helpers import app_settings


@pytest_asyncio.fixture
async def rt(request, fake_github, tmp_path):
    fake_github.add_repo(request.module.REPO)
    settings = app_settings(fake_github, f"sqlite:///{tmp_path}/db.sqlite3")
    async with open_runtime(settings) as runtime:
        yield runtime
