"""Fault-injection benchmark: the real bot (intake, worker, executor, GitHub client) against
the fake GitHub answering a share of calls with 502, 429 and secondary-limit 403 with
Retry-After, and stalling some; then the same with lost answers (the change happens, the
answer is a 502). Dead deliveries are re-queued once GitHub is healthy again.

    .venv/bin/python benchmarks/faults.py [--deliveries 60] [--share 0.2] [--database-url URL]

Prints deliveries done and dead (before the re-run), duplicates created (must be 0) and
requests sent before Retry-After had passed (must be 0). Keep --deliveries modest: the client
holds content-creating requests to GitHub's 80 a minute and 500 an hour per installation, so a
few hundred deliveries would mostly measure that pacing.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time

from _common import ROOT  # noqa: F401  (puts the repo on sys.path)

from bot.store import deliveries
from tests.e2e import fault_scenario as scenario
from tests.e2e.harness import BotHarness
from tests.fakegithub import FakeGitHub


async def run(args: argparse.Namespace, lost_answers: bool) -> None:
    fake = await FakeGitHub().start()
    fake.rate_limit = 10**9  # the primary hourly budget is not what this measures
    scenario.setup(fake, max_attempts=args.max_attempts)
    db_url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/faults.sqlite3"
    watch = scenario.RetryAfterWatch()
    async with BotHarness(fake, database_url=db_url) as bot:
        watch.attach(bot.runtime.session)
        items = scenario.workload(fake, args.deliveries)
        fake.faults.configure(share=args.share, kinds=("502", "429", "secondary_403"),
                              retry_after=1, stall_share=args.stall_share, stall_seconds=0.5,
                              seed=args.seed, after_effect=lost_answers)
        started = time.monotonic()
        for event, delivery_id, payload in items:
            await bot.deliver(event, payload, delivery_id=delivery_id, wait=False)
        await bot.settle(timeout=3600)
        elapsed = time.monotonic() - started
        first = scenario.figures(fake, await deliveries.listing(bot.runtime.db, limit=100_000), watch)
        fake.faults.off()
        requeued = await deliveries.requeue(bot.runtime.db, dead=True)
        await bot.settle(timeout=600)
        final = scenario.figures(fake, await deliveries.listing(bot.runtime.db, limit=100_000), watch)
    await fake.close()
    mode = "lost answers (502 after the change)" if lost_answers else "502 / 429 / secondary 403 + stalls"
    print(f"== {mode}, share {args.share}, {args.deliveries} deliveries, {watch.requests} requests, "
          f"{elapsed:.1f}s")
    print(f"   under faults: done {first.done}, dead {first.dead} (max_attempts {args.max_attempts}); "
          f"re-queued {requeued}, then done {final.done}/{final.deliveries}")
    print(f"   duplicates created: {final.duplicates}; sent before Retry-After: "
          f"{final.retry_after_violations}; already in flight when a limit answer went out: "
          f"{final.in_flight_at_limit}; faults injected: {final.faults_injected}")
    for line in final.detail[:10]:
        print(f"   ! {line}")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", type=int, default=60)
    ap.add_argument("--share", type=float, default=0.2)
    ap.add_argument("--stall-share", type=float, default=0.1)
    ap.add_argument("--max-attempts", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    for lost in (False, True):
        await run(args, lost)


if __name__ == "__main__":
    asyncio.run(main())
