"""Replicas share GitHub's holds: when one is told to wait (Retry-After, secondary limit),
the others wait too, since the limit is the installation's, not the process's."""
from __future__ import annotations

import asyncio
import time

import pytest

from bot.runtime import open_runtime
from bot.settings import Settings
from bot.store import holds
from bot.queue_worker import QueueWorker

from .harness import SECRET

REPO = "octo/repo"
WAIT = 3


def settings(fake, url: str) -> Settings:
    return Settings(webhook_secret=SECRET, app_id=str(fake.app_id), private_key=fake.private_key_pem,
                    api_url=fake.url, database_url=url, mutation_interval=0.0)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.timeout(60)
async def test_a_hold_one_replica_is_given_holds_the_others(fake_github, database_url):
    fake = fake_github
    fake.add_repo(REPO)
    issue = fake.add_issue(REPO)
    async with open_runtime(settings(fake, database_url)) as a, \
            open_runtime(settings(fake, database_url)) as b:
        api_a, api_b = await a.api(1), await b.api(1)
        await api_b.getitem("/repos/{owner}/{repo}", {"owner": "octo", "repo": "repo"})
        fake.faults.configure(share=1.0, kinds=("429",), retry_after=WAIT, only_methods=("POST",))
        told = time.monotonic()
        # Replica A is told to wait; its call waits WAIT seconds and then goes through.
        call = asyncio.create_task(api_a.post("/repos/{owner}/{repo}/issues/{issue_number}/labels",
                                              {"owner": "octo", "repo": "repo", "issue_number": issue.number},
                                              data={"labels": ["x"]}))
        while not fake.faults.injected:
            await asyncio.sleep(0.01)
        fake.faults.off()
        deadline = time.monotonic() + 5
        while not await holds.current(b.db, time.time()):
            assert time.monotonic() < deadline, "the hold was not shared"
            await asyncio.sleep(0.05)
        # Replica B's worker looks at the shared holds (about once a second)...
        await QueueWorker(b).apply_shared_holds()
        # ... and its next request waits too, although B itself was never told anything.
        await api_b.getitem("/repos/{owner}/{repo}", {"owner": "octo", "repo": "repo"})
        assert time.monotonic() - told >= WAIT - 0.1
        await call
