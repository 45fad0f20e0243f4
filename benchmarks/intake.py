"""Intake benchmark: deliveries/s and ack latency of POST /webhook with durable storage,
side by side with a bare HMAC-checking handler, same load generator, same real payloads.

    .venv/bin/python benchmarks/intake.py [--seconds 10] [--rounds 3] [--rate 200] [--concurrency 32]

Delivery ids are made as GitHub makes its ``X-GitHub-Delivery`` GUIDs: time-based (version
1) UUIDs, whose first field is the low 32 bits of a 100 ns clock (GitHub's documentation
shows ``72d3162e-cc78-11e3-81ab-4c9367dc0958``, its OpenAPI examples
``0b989ba4-242f-11e5-81e1-c7b6966d2516``), so ids that arrive together sort together and
the delivery-id index is written near where it was last written. ``--ids random`` sends
random (version 4) ids instead: every row then lands on a random leaf of that index, the
worst case.

Prints, for each server: saturated throughput (deliveries/s) and p50/p99 ack latency at a
fixed offered rate; then the throughput ratio (target >= 0.7) and the p99 at 200/s (target
< 50 ms). Throughput is measured in rounds that alternate the two servers (bare first,
then the bot first, ...), so that drift in what else the machine is doing falls on both
alike; the ratio reported is the median of the rounds' ratios, with their range. The bot runs as `python -m bot serve --no-worker` on SQLite (intake only: the
worker would be busy calling GitHub); set DATABASE_URL to measure PostgreSQL.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
import uuid

import aiohttp

from _common import (SECRET, example_bodies, free_port, percentile, signed_headers, spawn,
                     wait_http)


def github_style_id() -> str:
    return str(uuid.uuid1())


def random_id() -> str:
    return str(uuid.uuid4())


new_id = github_style_id


async def saturate(url: str, bodies, seconds: float, concurrency: int) -> float:
    done = 0
    stop = time.monotonic() + seconds
    cycle = itertools.cycle(bodies)

    async def client(session):
        nonlocal done
        while time.monotonic() < stop:
            event, body = next(cycle)
            async with session.post(url, data=body,
                                    headers=signed_headers(event, body, new_id())) as r:
                assert r.status == 202, r.status
                await r.read()
            done += 1

    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as session:
        started = time.monotonic()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        return done / (time.monotonic() - started)


async def fixed_rate(url: str, bodies, seconds: float, rate: float) -> list[float]:
    latencies: list[float] = []
    cycle = itertools.cycle(bodies)
    conn = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=conn) as session:
        async def one(event, body):
            headers = signed_headers(event, body, new_id())
            t0 = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as r:
                await r.read()
                assert r.status == 202, r.status
            latencies.append((time.perf_counter() - t0) * 1000)

        tasks = []
        start = time.monotonic()
        n = int(seconds * rate)
        for i in range(n):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(*next(cycle))))
        await asyncio.gather(*tasks)
    return latencies


async def latency(name: str, url: str, bodies, args) -> dict:
    lat = await fixed_rate(url, bodies, args.seconds, args.rate)
    row = {"p50": percentile(lat, 50), "p99": percentile(lat, 99)}
    print(f"{name:28} at {args.rate:.0f}/s: p50 {row['p50']:.1f} ms  p99 {row['p99']:.1f} ms", flush=True)
    return row


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ids", choices=("github", "random"), default="github",
                    help="delivery ids: time-based as GitHub's (default) or random (worst case)")
    args = ap.parse_args()
    global new_id
    new_id = github_style_id if args.ids == "github" else random_id
    bodies = [b for b in example_bodies() if len(b[1]) < 200_000]
    print(f"payloads: {len(bodies)} real example deliveries; {args.ids} delivery ids; "
          f"{args.seconds:.0f}s per phase; {os.cpu_count()} CPUs")

    bare_port, bot_port = free_port(), free_port()
    bare = spawn(["benchmarks/bare_handler.py", str(bare_port)])
    tmp = tempfile.mkdtemp()
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    bot = spawn(["-m", "bot", "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(bot_port)],
                env={"GITHUB_WEBHOOK_SECRET": SECRET, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING",
                     "GITHUB_API_URL": "http://127.0.0.1:9"})
    try:
        await wait_http(f"http://127.0.0.1:{bare_port}/healthz", bare)
        await wait_http(f"http://127.0.0.1:{bot_port}/healthz", bot)
        servers = {"bare HMAC handler": f"http://127.0.0.1:{bare_port}/webhook",
                   f"bot intake ({db_url.split(':')[0]})": f"http://127.0.0.1:{bot_port}/webhook"}
        (bare_name, bare_url), (bot_name, bot_url) = servers.items()
        for url in servers.values():
            await saturate(url, bodies, 1.0, args.concurrency)  # warm-up
        ratios = []
        for r in range(args.rounds):
            order = list(servers.items()) if r % 2 == 0 else list(servers.items())[::-1]
            tput = {name: await saturate(url, bodies, args.seconds, args.concurrency) for name, url in order}
            ratios.append(tput[bot_name] / tput[bare_name])
            print(f"round {r + 1}: bare {tput[bare_name]:6.0f}/s  bot {tput[bot_name]:6.0f}/s  "
                  f"ratio {ratios[-1]:.2f}", flush=True)
        await latency(bare_name, bare_url, bodies, args)
        mine = await latency(bot_name, bot_url, bodies, args)
    finally:
        for p in (bare, bot):
            p.terminate()
            p.wait(10)
    print(f"throughput ratio bot/bare: {statistics.median(ratios):.2f} median of {len(ratios)} rounds "
          f"(range {min(ratios):.2f}-{max(ratios):.2f}; target >= 0.70)")
    print(f"bot p99 ack at {args.rate:.0f}/s: {mine['p99']:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    asyncio.run(main())
