"""The intake budget in the real `python -m bot serve` (BOT_INTAKE_BUDGET_MB), over real HTTP:
unsigned bodies being sent slowly hold the budget, a signed delivery that does not fit is told
503 with Retry-After at once, and once they are gone it is taken and processed."""
from __future__ import annotations

import asyncio
import json
import re
import time

import aiohttp

from .botprocess import free_port, log_tail, start_bot, stop_bot, wait_ready
from .harness import retarget
from .test_intake_e2e import sign
from tests.fixtures.webhooks import load_example

BUDGET_MB = 2


async def metric(url: str, name: str) -> float:
    async with aiohttp.ClientSession() as s:
        async with s.get(url + "/metrics") as r:
            text = await r.text()
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def eventually(check, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"condition not met in time: {getattr(check, 'last', '')}"
        await asyncio.sleep(0.1)


async def stalled_sender(port: int, declared: int, sent: int):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=" + b"0" * 64
                 + b"\r\nX-GitHub-Event: issues\r\nX-GitHub-Delivery: flood\r\n"
                   b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % declared
                 + b"x" * sent)
    await writer.drain()
    return writer


async def test_unsigned_bodies_in_flight_keep_to_the_budget_and_give_it_back(fake_github, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_bot(fake_github, f"sqlite:///{tmp_path}/bot.sqlite3", port,
                     BOT_INTAKE_BUDGET_MB=str(BUDGET_MB))
    writers = []
    try:
        await wait_ready(url, proc)
        fake_github.add_repo("octo/repo")
        payload = retarget(load_example("issues", "opened"), "octo/repo", fake_github)
        payload["padding"] = "x" * 400_000
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "X-GitHub-Event": "issues",
                   "X-GitHub-Delivery": "signed-1", "X-Hub-Signature-256": sign(body)}

        for _ in range(3):
            writers.append(await stalled_sender(port, declared=650_000, sent=600_000))

        async def held() -> bool:
            held.last = await metric(url, "cf_intake_bytes_in_flight")
            return held.last == 1_800_000
        await eventually(held)

        async with aiohttp.ClientSession() as s:
            began = time.monotonic()
            async with s.post(url + "/webhook", data=body, headers=headers) as r:
                assert r.status == 503, await r.text()
                assert r.headers["Retry-After"].isdigit()
            assert time.monotonic() - began < 5
            assert await metric(url, 'cf_deliveries_rejected_total{reason="busy"}') == 1

            for w in writers:  # the senders give up: what they held comes back
                w.close()
            writers.clear()

            async def freed() -> bool:
                return await metric(url, "cf_intake_bytes_in_flight") == 0
            await eventually(freed)

            async with s.post(url + "/webhook", data=body, headers=headers) as r:
                assert r.status == 202, await r.text()
    finally:
        for w in writers:
            w.close()
        await stop_bot(proc)
    # A sender hanging up mid-body is no error of the bot's: no traceback for it.
    assert "Traceback" not in log_tail(proc, 20000), log_tail(proc, 20000)
