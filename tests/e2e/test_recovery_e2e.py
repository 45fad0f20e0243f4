"""Missed deliveries are found in the App's delivery log (JWT, cursor pages) and asked for
again, once, against the fake GitHub's deliveries endpoints."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest

from bot.features.recovery import store as recovery_store
from bot.features.recovery.runner import recover
from bot.store import deliveries
from bot.store.db import connect

from tests.conftest import BOTH_BACKENDS
from .botprocess import config_push, free_port, start_bot, stop_bot, wait_ready
from .harness import SECRET, BotHarness
from .recovery_helpers import FAST_RECOVERY, dead_url, rules_dir_with

REPO = "octo/repo"
ATTEMPTS = "/app/hook/deliveries/{delivery_id}/attempts"


def check_runs_per_sha(fake) -> dict[str, int]:
    out: dict[str, int] = {}
    for run in fake.state.check_runs.values():
        out[run.head_sha] = out.get(run.head_sha, 0) + 1
    return out


def age(fake, *, hours: float) -> None:
    """Make every attempt in the fake's delivery log ``hours`` older."""
    for d in fake.state.deliveries:
        at = datetime.fromisoformat(d.delivered_at.replace("Z", "+00:00")) - timedelta(hours=hours)
        d.delivered_at = at.isoformat().replace("+00:00", "Z")


async def miss(fake, url: str, ids: range) -> None:
    for i in ids:
        sent = await fake.deliver(url, "push", config_push(fake, REPO, i), SECRET, delivery_id=f"push-{i}")
        assert sent.status_code in (0, 503)


@BOTH_BACKENDS
async def test_missed_deliveries_are_asked_for_once_even_by_concurrent_replicas(
        fake_github, database_url, tmp_path):
    fake_github.add_repo(REPO)
    down = dead_url()
    # More than one page of the delivery log (100 a page), so the cursor is followed.
    for i in range(110):
        await fake_github.deliver(down, "star", {"action": "created", "starred_at": None},
                                  SECRET, delivery_id=f"star-{i}")
    await miss(fake_github, down, range(5))
    rules = rules_dir_with(tmp_path, recovery=FAST_RECOVERY)
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules) as bot:
        delivered = await bot.deliver("push", config_push(fake_github, REPO, 99), delivery_id="push-99")
        fake_github.hook_url = bot.webhook_url
        # Two replicas' runs at once: the claims make each request happen once.
        first, second = await asyncio.gather(recover(bot.runtime, holder="replica-a"),
                                             recover(bot.runtime, holder="replica-b"))
        assert sorted(first.requested + second.requested) == [f"push-{i}" for i in range(5)]
        assert first.looked_at == 116
        await fake_github.wait_redeliveries()
        await bot.settle()
        for i in range(5):
            assert await bot.status(f"push-{i}") == "done"
        # Irrelevant events (no feature handles 'star') are not asked for.
        assert await bot.status("star-0") is None
        assert await bot.status(delivered) == "done"
        posts = fake_github.calls_to("POST", ATTEMPTS)
        assert len(posts) == 5
        lists = fake_github.calls_to("GET", "/app/hook/deliveries")
        assert any("cursor" in c.query for c in lists), "the second page was not read"

        again = await recover(bot.runtime, holder="replica-a")
        assert again.requested == [] and again.missed == 0
        assert len(fake_github.calls_to("POST", ATTEMPTS)) == 5
        rows = await recovery_store.listing(bot.runtime.db)
        assert sorted(r["guid"] for r in rows) == [f"push-{i}" for i in range(5)]
        assert {r["status"] for r in rows} == {"requested"}
    assert check_runs_per_sha(fake_github) == {f"{i:040x}": 1 for i in (0, 1, 2, 3, 4, 99)}


async def test_a_redelivery_that_fails_too_is_asked_for_again(fake_github, database_url, tmp_path):
    fake_github.add_repo(REPO)
    await miss(fake_github, dead_url(), range(1))
    rules = rules_dir_with(tmp_path, recovery=FAST_RECOVERY)
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules) as bot:
        fake_github.hook_url = dead_url()  # the bot is still unreachable when GitHub sends again
        assert (await recover(bot.runtime, holder="a")).requested == ["push-0"]
        await fake_github.wait_redeliveries()
        assert await bot.status("push-0") is None
        fake_github.hook_url = bot.webhook_url
        assert (await recover(bot.runtime, holder="a")).requested == ["push-0"]
        await fake_github.wait_redeliveries()
        await bot.wait_for("push-0")
        ids = [c.path.rsplit("/", 2)[-2] for c in fake_github.calls_to("POST", ATTEMPTS)]
        assert len(ids) == 2 and ids[0] != ids[1], "each failed attempt is asked for once"


async def test_dry_run_looks_for_nothing(fake_github, database_url, tmp_path):
    fake_github.add_repo(REPO)
    await miss(fake_github, dead_url(), range(1))
    async with BotHarness(fake_github, database_url=database_url, with_credentials=False,
                          rules_dir=rules_dir_with(tmp_path, recovery=FAST_RECOVERY)) as bot:
        report = await recover(bot.runtime, holder="a")
    assert report.skipped == "dry-run"
    assert not fake_github.calls_to("GET", "/app/hook/deliveries")


@pytest.mark.timeout(120)
async def test_serve_recovers_what_it_missed_while_down_at_start_up(fake_github, tmp_path):
    """The real `python -m bot serve`: deliveries sent while it was not running are asked
    for at start-up and processed once; a restart asks for nothing more."""
    fake_github.add_repo(REPO)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db_url = f"sqlite:///{tmp_path}/bot.sqlite3"
    await miss(fake_github, url + "/webhook", range(4))
    env = {"BOT_RULES_DIR": rules_dir_with(tmp_path, recovery=FAST_RECOVERY)}
    for run in range(2):
        proc = start_bot(fake_github, db_url, port, **env)
        try:
            await wait_ready(url, proc)
            deadline = time.monotonic() + 60
            db = await connect(db_url)
            try:
                while True:
                    rows = await deliveries.listing(db, limit=100)
                    if len(rows) == 4 and {r["status"] for r in rows} == {"done"}:
                        break
                    assert time.monotonic() < deadline, rows
                    await asyncio.sleep(0.1)
                # Start-up and periodic passes both ran by now; nothing more was asked.
                while not await db.fetchval("SELECT COUNT(*) FROM job_runs WHERE job = ?"
                                            " AND finished_at IS NOT NULL", ("delivery_recovery",)):
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.1)
            finally:
                await db.close()
        finally:
            await stop_bot(proc)
    assert len(fake_github.calls_to("POST", ATTEMPTS)) == 4
    assert check_runs_per_sha(fake_github) == {f"{i:040x}": 1 for i in range(4)}


async def test_rate_limited_run_stops_and_the_next_one_asks(fake_github, database_url, tmp_path):
    fake_github.add_repo(REPO)
    await miss(fake_github, dead_url(), range(3))
    # An hour old: the next pass must still read back that far (the stopped one settled nothing).
    age(fake_github, hours=1)
    rules = rules_dir_with(tmp_path, recovery=FAST_RECOVERY)
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules) as bot:
        fake_github.hook_url = bot.webhook_url
        # GitHub asks to wait longer than a call may block: the run stops, nothing is lost.
        fake_github.faults.configure(share=1.0, kinds=("429",), retry_after=600, only_methods=("POST",))
        report = await recover(bot.runtime, holder="a")
        assert report.requested == [] and report.missed == 3
        assert len(fake_github.calls_to("POST", ATTEMPTS)) == 1  # not one more before Retry-After
        assert await recovery_store.listing(bot.runtime.db) == []  # the claim was given back
        fake_github.faults.reset()
        bot.runtime.github.app()._transport.state.gate.not_before = 0.0  # as if 600 s had passed
        assert len((await recover(bot.runtime, holder="a")).requested) == 3
        await fake_github.wait_redeliveries()
        await bot.settle()
        assert [await bot.status(f"push-{i}") for i in range(3)] == ["done"] * 3


@BOTH_BACKENDS
async def test_after_a_complete_pass_the_next_reads_only_since_then(fake_github, database_url, tmp_path):
    """A busy App's three days are many pages: once a pass has settled all it saw, the next
    reads back to a little before it; ``full`` reads them all again."""
    fake_github.add_repo(REPO)
    down = dead_url()
    for i in range(230):  # yesterday's noise: three pages of the log
        await fake_github.deliver(down, "star", {"action": "created", "starred_at": None},
                                  SECRET, delivery_id=f"star-{i}")
    await miss(fake_github, down, range(2))
    age(fake_github, hours=24)
    rules = rules_dir_with(tmp_path, recovery=FAST_RECOVERY)
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules) as bot:
        fake_github.hook_url = bot.webhook_url
        first = await recover(bot.runtime, holder="a")
        assert first.looked_at == 232 and first.requested == ["push-0", "push-1"]
        await fake_github.wait_redeliveries()
        await bot.settle()
        await miss(fake_github, down, range(2, 3))  # missed since (the bot "down" for it)
        fake_github.hook_url = bot.webhook_url
        pages_before = len(fake_github.calls_to("GET", "/app/hook/deliveries"))
        second = await recover(bot.runtime, holder="a")
        # push-0/1's redeliveries and push-2: one page, nothing of yesterday.
        assert second.looked_at == 3 and second.requested == ["push-2"]
        assert len(fake_github.calls_to("GET", "/app/hook/deliveries")) == pages_before + 1
        await fake_github.wait_redeliveries()
        full = await recover(bot.runtime, holder="a", full=True)
        assert full.looked_at == 236 and full.requested == []  # with push-2's redelivery


async def test_the_start_up_pass_and_the_first_tick_take_turns(fake_github, database_url, tmp_path):
    """They fall together at start-up: one after the other, the second reads the log only
    after the first has asked for everything (and then only from there)."""
    from bot.features.recovery.service import recovery_job

    fake_github.add_repo(REPO)
    await miss(fake_github, dead_url(), range(3))
    age(fake_github, hours=1)
    rules = rules_dir_with(tmp_path, recovery=FAST_RECOVERY)
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules) as bot:
        fake_github.hook_url = bot.webhook_url
        job = recovery_job(bot.runtime, "a")
        await asyncio.gather(job.run(None), job.run(None))
        wanted = {("GET", "/app/hook/deliveries"), ("POST", ATTEMPTS)}
        order = [c.method for c in fake_github.recorder.calls
                 if (c.method, c.template) in wanted or (c.method, c.path) in wanted]
        assert order == ["GET", "POST", "POST", "POST", "GET"]
        assert await recovery_store.covered_at(bot.runtime.db) is not None
