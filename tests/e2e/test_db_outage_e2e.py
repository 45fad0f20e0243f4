"""The database goes away for a while (PostgreSQL behind a proxy the test cuts): /readyz
says so, intake answers 503 (GitHub marks the delivery failed), and once the database is
back the pool reconnects, processing resumes and recovery brings the refused delivery back."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from bot.features.recovery.runner import recover

from .botprocess import config_push
from .harness import SECRET, BotHarness
from .recovery_helpers import FAST_RECOVERY, rules_dir_with
from .tcpproxy import TcpProxy

REPO = "octo/repo"


async def readiness(session: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with session.get(url + "/readyz") as r:
        return r.status, await r.json()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.timeout(120)
async def test_database_outage_is_reported_refused_and_recovered(fake_github, database_url, tmp_path):
    fake = fake_github
    fake.add_repo(REPO)
    assert "127.0.0.1:5432" in database_url
    proxy = await TcpProxy("127.0.0.1", 5432).start()
    url = database_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    rules = rules_dir_with(tmp_path, recovery=FAST_RECOVERY)
    try:
        async with BotHarness(fake, database_url=url, rules_dir=rules) as bot, \
                aiohttp.ClientSession() as http:
            await bot.deliver("push", config_push(fake, REPO, 0), delivery_id="push-0")
            assert (await readiness(http, bot.url))[0] == 200
            # The delivery is done, but procrastinate writes its job's end just after: cut the
            # database inside that window and the job stays "doing", holding its subject until
            # the stalled-job sweep takes it back (stale_after, 90 s), past this test's wait.
            # The outage is meant to find the queue idle.
            deadline = time.monotonic() + 10
            while await bot.runtime.db.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"):
                assert time.monotonic() < deadline, "push-0's job never ended"
                await asyncio.sleep(0.05)

            await proxy.cut()
            status, body = await readiness(http, bot.url)
            assert status == 503 and body["status"] == "unavailable"
            # Twice: the second finds the pool without any connection left to hand out.
            for i in (1, 3):
                started = time.monotonic()
                refused = await fake.deliver(bot.webhook_url, "push", config_push(fake, REPO, i), SECRET,
                                             delivery_id=f"push-{i}")
                assert refused.status_code == 503
                assert time.monotonic() - started < 6, "GitHub gives up after 10 s"
            async with http.get(bot.url + "/healthz") as r:
                assert r.status == 200  # alive: no restart needed, just not ready

            await proxy.restore()
            deadline = time.monotonic() + 30
            while (await readiness(http, bot.url))[0] != 200:
                assert time.monotonic() < deadline, "the pool did not reconnect"
                await asyncio.sleep(0.2)
            # The worker survived the outage: new work is processed.
            await bot.deliver("push", config_push(fake, REPO, 2), delivery_id="push-2")
            # GitHub recorded the 503 as a failed delivery; recovery asks for it again.
            fake.hook_url = bot.webhook_url
            # A refused delivery whose row was still committed once the database came back
            # (intake gave up waiting, not the commit) is stored: recovery skips it.
            stored = {d for d in ("push-1", "push-3") if await bot.status(d) is not None}
            report = await recover(bot.runtime, holder="t")
            assert set(report.requested) == {"push-1", "push-3"} - stored
            await fake.wait_redeliveries()
            assert await bot.wait_for("push-1") == "done"
            assert await bot.wait_for("push-3") == "done"
    finally:
        await proxy.close()
    per_sha: dict[str, int] = {}
    for run in fake.state.check_runs.values():
        per_sha[run.head_sha] = per_sha.get(run.head_sha, 0) + 1
    assert per_sha == {f"{i:040x}": 1 for i in range(4)}
