"""A try that GitHub's rate limits held back is not one of the delivery's attempts.

On a busy installation the primary budget can stay exhausted for hours, or secondary limits
ask for long waits: every delivery in line is then tried at each reset and held back again
(``RateLimited``, nothing sent). Counted as failed attempts, these made deliveries dead after
``core.max_attempts`` such windows, through no fault of theirs: lost until an operator ran
``deliveries retry --dead``. They now wait for GitHub however long it takes; a real failure
still counts.
"""
from __future__ import annotations

import time

from bot.github import RateLimited, TransientGitHubError
from bot.runtime import open_runtime
from bot.settings import Settings
from bot.store import deliveries
from bot.worker import handle
from tests.conftest import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS


async def _take(db, delivery_id: str):
    row = await deliveries.get(db, delivery_id)
    return await deliveries.begin(db, row.seq, worker="w") if db.dialect == "postgresql" else \
        (await deliveries.claim(db, worker="w", busy_subjects=set(), limit=1, now=time.time() + 10 ** 6))[0]


async def test_rate_limited_tries_never_make_a_delivery_dead(database_url):
    settings = Settings(webhook_secret="s", database_url=database_url, retry_base=0.05)
    async with open_runtime(settings, with_github=False) as rt:
        max_attempts = int(rt.bundled["core"]["max_attempts"])
        await deliveries.insert(rt.db, delivery_id="d", event="issues", action="opened", repo="",
                                subject="o/r#1", installation_id=None, body="{}")
        reset = time.time() + 3000

        async def held_back(runtime, d):
            raise RateLimited("primary rate limit exhausted: retry in 3000s", retry_at=reset, status=403)

        for _ in range(max_attempts + 2):
            outcome = await handle(rt, await _take(rt.db, "d"), held_back)
            assert (outcome.status, outcome.retry_at) == ("failed", reset)
        row = await deliveries.get(rt.db, "d")
        assert (row.status, row.attempts) == ("failed", 0)

        async def broken(runtime, d):
            raise TransientGitHubError("502", status=502)

        outcome = await handle(rt, await _take(rt.db, "d"), broken)
        assert outcome.status == "failed" and (await deliveries.get(rt.db, "d")).attempts == 1


async def test_rate_limited_without_an_instant_waits_a_minute_not_the_backoff(database_url):
    settings = Settings(webhook_secret="s", database_url=database_url, retry_base=0.05)
    async with open_runtime(settings, with_github=False) as rt:
        await deliveries.insert(rt.db, delivery_id="g", event="issues", action="opened", repo="",
                                subject="o/r#2", installation_id=None, body="{}")

        async def graphql_rate_limited(runtime, d):
            raise RateLimited("RATE_LIMITED", retry_at=0.0, status=200)

        before = time.time()
        outcome = await handle(rt, await _take(rt.db, "g"), graphql_rate_limited)
        assert outcome.status == "failed" and outcome.retry_at >= before + 60
