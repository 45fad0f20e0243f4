"""Durability benchmark: N deliveries into the real bot process, `kill -9` several times
while it processes them, restart each time; then count lost and duplicated work.

    .venv/bin/python benchmarks/durability.py [--deliveries 400] [--kills 3]

SQLite by default; set DATABASE_URL to an empty PostgreSQL database to measure the
procrastinate path (there the killed process's jobs are taken back after BOT_STALE_AFTER
seconds, as another replica would take them back).

Every delivery is a push changing the repo's config file, which the bot answers with one
check run on the pushed commit: a delivery with no check run was lost, one with two was
processed twice. The fake GitHub (tests/fakegithub) stalls some answers so the kills land
mid-processing.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
import time

from _common import ROOT  # noqa: F401  (puts the repo on sys.path)

from bot.store import deliveries
from bot.store.db import connect
from tests.e2e.botprocess import config_push, free_port, start_bot, wait_ready
from tests.e2e.harness import SECRET
from tests.fakegithub import FakeGitHub

REPO = "octo/repo"


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", type=int, default=400)
    ap.add_argument("--kills", type=int, default=3)
    args = ap.parse_args()
    fake = await FakeGitHub().start()
    fake.add_repo(REPO)
    fake.put_file(REPO, ".github/contributor-flow.yml", "core:\n  max_attempts: 10\n")
    fake.faults.configure(share=0.0, stall_share=0.3, stall_seconds=0.2, seed=7)
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/durability.sqlite3"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_bot(fake, db_url, port)
    await wait_ready(url, proc)
    acked = 0
    for i in range(args.deliveries):
        sent = await fake.deliver(url + "/webhook", "push", config_push(fake, REPO, i), SECRET,
                                  delivery_id=f"push-{i}")
        acked += sent.status_code == 202
    kills = 0
    for k in range(args.kills):
        target = (k + 1) * args.deliveries // (args.kills + 2)
        while len({r.head_sha for r in fake.state.check_runs.values()}) < target:
            await asyncio.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        kills += 1
        proc = start_bot(fake, db_url, port)
        await wait_ready(url, proc)
    db = await connect(db_url)
    started = time.monotonic()
    while await deliveries.queue_depth(db):
        if time.monotonic() - started > 300:
            break
        await asyncio.sleep(0.1)
    rows = await deliveries.listing(db, limit=args.deliveries * 2)
    await db.close()
    proc.terminate()
    proc.wait(20)
    await fake.close()

    per_sha: dict[str, int] = {}
    for run in fake.state.check_runs.values():
        per_sha[run.head_sha] = per_sha.get(run.head_sha, 0) + 1
    expected = {f"{i:040x}" for i in range(args.deliveries)}
    lost = len(expected - set(per_sha)) + sum(1 for r in rows if r["status"] != "done")
    twice = sum(1 for n in per_sha.values() if n > 1)
    print(f"store: {db_url.split(':')[0]}; deliveries acknowledged: {acked}/{args.deliveries};"
          f" kill -9: {kills}")
    print(f"done: {sum(1 for r in rows if r['status'] == 'done')}; lost: {lost}; processed twice: {twice}")


if __name__ == "__main__":
    asyncio.run(main())
