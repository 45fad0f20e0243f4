"""Three `python -m bot serve` replicas on one PostgreSQL database share the work through
procrastinate: every delivery is processed once, deliveries about one subject in arrival
order, periodic jobs once per period, and a replica killed with -9 mid-processing leaves
nothing stuck."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import time

import aiohttp
import pytest

from bot.store.db import connect

from .botprocess import config_push, free_port, start_bot, stop_bot, wait_ready
from .harness import SECRET
from .recovery_helpers import rules_dir_with

# A push's subject is its repository. More subjects than one replica's worker slots
# (BOT_WORKER_CONCURRENCY 4): with fewer, one survivor can legitimately hold every subject
# in turn and the other find nothing it may take.
REPOS = [f"octo/r{k}" for k in range(12)]
N = 60
PERIOD = 2  # seconds between delivery-recovery passes in this test
RECOVERY_TASK = "bot.job.delivery_recovery"


async def processed_by(url: str) -> float:
    async with aiohttp.ClientSession() as s, s.get(url + "/metrics") as r:
        text = await r.text()
    return sum(float(m) for m in re.findall(r"^cf_deliveries_processed_total\{[^}]*\} (\S+)$",
                                            text, re.M))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.timeout(240)
async def test_three_replicas_share_the_work_and_survive_a_kill(fake_github, database_url, tmp_path):
    fake = fake_github
    for repo in REPOS:
        fake.add_repo(repo)
        fake.put_file(repo, ".github/contributor-flow.yml", "core:\n  max_attempts: 10\n")
    env = {"BOT_RULES_DIR": rules_dir_with(
               tmp_path, recovery=f"every: {PERIOD}s\npace: 0.0\nstartup_delay: 0s\n"),
           "BOT_STALE_AFTER": "3", "BOT_WORKER_CONCURRENCY": "4"}
    ports = [free_port() for _ in range(3)]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    procs = [start_bot(fake, database_url, p, **env) for p in ports]
    db = await connect(database_url)
    try:
        await asyncio.gather(*(wait_ready(u, p) for u, p in zip(urls, procs)))
        # Slow GitHub down so work is in flight on every replica, and the kill lands mid-way.
        fake.faults.configure(share=0.0, stall_share=0.3, stall_seconds=0.3, seed=5)
        for i in range(N):
            sent = await fake.deliver(urls[i % 3] + "/webhook", "push",
                                      config_push(fake, REPOS[i % len(REPOS)], i), SECRET,
                                      delivery_id=f"push-{i}")
            assert sent.status_code == 202

        victim = procs[0]
        mine = f"%:{victim.pid}:%"
        deadline = time.monotonic() + 60
        while not await db.fetchval("SELECT COUNT(*) FROM deliveries WHERE status = 'processing'"
                                    " AND locked_by LIKE ?", (mine,)):
            assert time.monotonic() < deadline, "replica 0 never held a delivery"
            await asyncio.sleep(0.01)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        stuck = [r["delivery_id"] for r in await db.fetchall(
            "SELECT delivery_id FROM deliveries WHERE status = 'processing' AND locked_by LIKE ?",
            (mine,))]
        assert stuck, "the kill came too late to prove anything"

        deadline = time.monotonic() + 90
        while await db.fetchval("SELECT COUNT(*) FROM deliveries WHERE status <> 'done'"):
            assert time.monotonic() < deadline, await db.fetchall(
                "SELECT delivery_id, status, locked_by, last_error FROM deliveries WHERE status <> 'done'")
            await asyncio.sleep(0.1)
        survivors = [await processed_by(u) for u in urls[1:]]
        assert all(n > 0 for n in survivors), survivors  # both survivors worked
        # Let a few recovery periods pass: each replica's procrastinate deferrer offers every
        # tick, and procrastinate queues each tick's job once.
        deadline = time.monotonic() + 60
        while await db.fetchval("SELECT COUNT(*) FROM procrastinate_jobs WHERE task_name = ?"
                                " AND status = 'succeeded' AND args->>'at_start' IS NULL", (RECOVERY_TASK,)) < 3:
            assert time.monotonic() < deadline, "the periodic job stopped running"
            await asyncio.sleep(0.2)
    finally:
        fake.faults.configure(share=0.0, stall_share=0.0)  # what is in flight finishes at GitHub's pace
        # SIGTERM lets running work finish, up to 30 s (README, Operations).
        await asyncio.gather(*(stop_bot(p, 35) for p in procs))
    rows = await db.fetchall("SELECT delivery_id, status, attempts FROM deliveries")
    runs = await db.fetchall("SELECT args, status, attempts FROM procrastinate_jobs WHERE task_name = ?",
                             (RECOVERY_TASK,))
    await db.close()

    assert len(rows) == N and {r["status"] for r in rows} == {"done"}
    # Each delivery acted once: one check run per pushed commit.
    per_sha: dict[str, int] = {}
    for run in fake.state.check_runs.values():
        per_sha[run.head_sha] = per_sha.get(run.head_sha, 0) + 1
    assert per_sha == {f"{i:040x}": 1 for i in range(N)}
    # Per subject (repository), check runs were created in arrival order, across replicas.
    for repo in REPOS:
        order = [int(r.head_sha, 16) for r in sorted(fake.state.check_runs.values(), key=lambda r: r.id)
                 if r.repo == repo]
        assert order == sorted(order), (repo, order)
    # Periodic jobs: one run per period between all replicas. Every run lists the App's
    # deliveries once; three uncoordinated replicas would list three times per period. A
    # run the kill cut short is run again (procrastinate counts it in `attempts`).
    ticks = [r["args"]["timestamp"] for r in runs if not r["args"].get("at_start")]
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks), ticks
    listings = [c for c in fake.calls_to("GET", "/app/hook/deliveries") if "cursor" not in c.query]
    executions = sum(1 + r["attempts"] for r in runs)
    assert len(listings) <= executions, (len(listings), runs)
