"""kill -9 at any moment after a 202 loses nothing: the real `python -m bot serve`
process is killed mid-processing and restarted; every delivery ends done, once."""
from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from bot.store import deliveries
from bot.store.db import connect
from .botprocess import config_push, free_port, start_bot, stop_bot, wait_ready
from .harness import SECRET

REPO = "octo/repo"
N = 24


@pytest.mark.timeout(180)
async def test_kill_minus_nine_mid_processing_loses_nothing_and_repeats_nothing(fake_github, tmp_path):
    fake_github.add_repo(REPO)
    fake_github.put_file(REPO, ".github/contributor-flow.yml", "core:\n  max_attempts: 6\n")
    db_url = f"sqlite:///{tmp_path}/bot.sqlite3"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Slow GitHub down so the kill lands while deliveries are being processed.
    fake_github.faults.configure(share=0.0, stall_share=0.5, stall_seconds=0.3, seed=4)

    proc = start_bot(fake_github, db_url, port)
    try:
        await wait_ready(url, proc)
        for i in range(N):
            sent = await fake_github.deliver(url + "/webhook", "push", config_push(fake_github, REPO, i),
                                             SECRET, delivery_id=f"push-{i}")
            assert sent.status_code == 202
        # Let part of the work happen, then kill without warning.
        deadline = time.monotonic() + 30
        while not any(r.head_sha == f"{3:040x}" for r in fake_github.state.check_runs.values()):
            assert time.monotonic() < deadline, "nothing processed"
            await asyncio.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        db = await connect(db_url)
        states = {r["status"] for r in await deliveries.listing(db, limit=1000)}
        await db.close()
        assert states & {"pending", "processing"}, "the kill came too late to prove anything"

        proc = start_bot(fake_github, db_url, port)
        await wait_ready(url, proc)
        db = await connect(db_url)
        deadline = time.monotonic() + 90
        while await deliveries.queue_depth(db):
            assert time.monotonic() < deadline, "deliveries not finished after restart"
            await asyncio.sleep(0.1)
        rows = await deliveries.listing(db, limit=1000)
        await db.close()
    finally:
        await stop_bot(proc)

    assert len(rows) == N and {r["status"] for r in rows} == {"done"}
    per_sha: dict[str, int] = {}
    for run in fake_github.state.check_runs.values():
        per_sha[run.head_sha] = per_sha.get(run.head_sha, 0) + 1
    # Every delivery acted, and none twice.
    assert sorted(per_sha) == sorted(f"{i:040x}" for i in range(N))
    assert set(per_sha.values()) == {1}
