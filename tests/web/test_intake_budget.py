"""POST /webhook under a shared budget of bytes read before their signature is checked.

Anyone can send a 25 MB body; without a cap over all requests at once, many of them would
exhaust memory before any signature is looked at. Over real HTTP: a request that would take
the budget past its size is answered 503 with Retry-After without being read, and what a
request held is given back however it ends (answered, refused, or the client gone).
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time

import pytest_asyncio
from aiohttp import web

from bot.settings import Settings
from bot.store import deliveries
from bot.web.app import RUNTIME, create_app

SECRET = "s3cret"
BUDGET = 1 << 20  # 1 MiB for the whole app


def payload(size: int) -> bytes:
    head = json.dumps({"action": "opened", "repository": {"full_name": "o/r"},
                       "installation": {"id": 1}, "issue": {"number": 1}})[:-1] + ', "padding": "'
    tail = '"}'
    return (head + "x" * (size - len(head) - len(tail)) + tail).encode()


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def head(delivery: str, signature: str) -> bytes:
    return (f"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: {signature}\r\n"
            f"X-GitHub-Event: issues\r\nX-GitHub-Delivery: {delivery}\r\n"
            "Content-Type: application/json\r\nConnection: close\r\n").encode()


async def answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status = int((await asyncio.wait_for(reader.readline(), 10)).split(b" ", 2)[1])
    raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.decode().partition(":") for line in raw.split(b"\r\n") if line)}
    return status, headers, await asyncio.wait_for(
        reader.readexactly(int(headers["content-length"])), 10)


async def post(port: int, body: bytes, *, delivery: str, signature: str | None = None,
               chunked: bool = False) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        start = head(delivery, sign(body) if signature is None else signature)
        if chunked:
            writer.write(start + b"Transfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(body), 1 << 16):
                piece = body[i:i + (1 << 16)]
                writer.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            writer.write(b"0\r\n\r\n")
        else:
            writer.write(start + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        return await answer(reader)
    finally:
        writer.close()


async def start_slow_sender(port: int, declared: int, sent: int, *, chunked: bool = False):
    """An unsigned request that sends ``sent`` bytes of a body of ``declared`` and stalls."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    start = head(f"slow-{time.monotonic_ns()}", "sha256=" + "0" * 64)
    if chunked:
        writer.write(start + b"Transfer-Encoding: chunked\r\n\r\n"
                     + b"%x\r\n" % sent + b"x" * sent + b"\r\n")
    else:
        writer.write(start + b"Content-Length: %d\r\n\r\n" % declared + b"x" * sent)
    await writer.drain()
    return reader, writer


def in_flight(app) -> float:
    return app[RUNTIME].metrics.intake_bytes_in_flight._value.get()


def rejected(app, reason: str) -> float:
    return app[RUNTIME].metrics.deliveries_rejected.labels(reason=reason)._value.get()


async def eventually(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def serving(settings: Settings):
    """The app on a real TCP port: (app, port)."""
    app = create_app(settings, run_worker=False, run_scheduler=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield app, site._server.sockets[0].getsockname()[1]
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def intake(database_url):
    async with serving(Settings(webhook_secret=SECRET, database_url=database_url,
                                intake_budget=BUDGET)) as served:
        yield served


async def test_a_request_past_the_budget_is_503_at_once_and_the_budget_comes_back_on_disconnect(
        intake, caplog):
    app, port = intake
    # Unsigned, declares 900 KB, sends 800 KB and stalls.
    reader, writer = await start_slow_sender(port, declared=900_000, sent=800_000)
    await eventually(lambda: in_flight(app) == 800_000)
    body = payload(400_000)
    began = time.monotonic()
    status, headers, text = await post(port, body, delivery="squeezed")
    assert status == 503 and "retry-after" in headers and b"busy" in text
    assert time.monotonic() - began < 5  # answered, not left waiting for the stalled one
    assert await deliveries.get(app[RUNTIME].db, "squeezed") is None
    assert rejected(app, "busy") == 1

    writer.close()  # the client goes away mid-body: what it held is given back
    await eventually(lambda: in_flight(app) == 0)
    await eventually(lambda: rejected(app, "incomplete") == 1)
    assert "Traceback" not in caplog.text and "Error handling request" not in caplog.text
    status, _, _ = await post(port, body, delivery="squeezed")
    assert status == 202
    assert await deliveries.get(app[RUNTIME].db, "squeezed") is not None
    assert in_flight(app) == 0


async def test_a_stalled_sender_holds_what_it_sent_not_what_it_declared(intake):
    # Else a few connections declaring 25 MB and sending nothing would keep GitHub out.
    app, port = intake
    reader, writer = await start_slow_sender(port, declared=BUDGET, sent=1000)
    await eventually(lambda: in_flight(app) == 1000)
    status, _, _ = await post(port, payload(400_000), delivery="beside")
    assert status == 202
    writer.close()
    await eventually(lambda: in_flight(app) == 0)


async def test_chunked_bodies_are_charged_as_they_arrive(intake):
    app, port = intake
    reader, writer = await start_slow_sender(port, declared=0, sent=700_000, chunked=True)
    await eventually(lambda: in_flight(app) >= 600_000)
    status, headers, _ = await post(port, payload(500_000), delivery="chunky", chunked=True)
    assert status == 503 and "retry-after" in headers
    assert await deliveries.get(app[RUNTIME].db, "chunky") is None
    writer.close()
    await eventually(lambda: in_flight(app) == 0)


async def test_refused_and_accepted_requests_all_give_their_bytes_back(intake):
    app, port = intake
    body = payload(300_000)
    results = await asyncio.gather(
        *[post(port, body, delivery=f"bad-{i}", signature="sha256=" + "0" * 64) for i in range(6)],
        *[post(port, payload(2000), delivery=f"ok-{i}") for i in range(10)])
    statuses = [status for status, _, _ in results]
    # Three 300 KB bodies fit in 1 MiB at once; any others were refused before being read.
    # The small signed ones may have met a full budget too: that is what the budget is for.
    assert set(statuses[:6]) <= {401, 503} and set(statuses[6:]) <= {202, 503}
    await eventually(lambda: in_flight(app) == 0)
    # With the budget free again, every signed delivery is taken.
    for i in range(10):
        status, _, _ = await post(port, payload(2000), delivery=f"ok-{i}")
        assert status == 202
    assert len(await deliveries.listing(app[RUNTIME].db)) == 10


async def test_a_body_larger_than_the_whole_budget_is_413_not_a_retry_forever(intake):
    app, port = intake
    status, headers, text = await post(port, payload(BUDGET + 1), delivery="huge")
    assert status == 413 and "retry-after" not in headers
    assert await deliveries.get(app[RUNTIME].db, "huge") is None
    assert in_flight(app) == 0


async def test_signed_deliveries_get_through_under_normal_load(database_url):
    # The default budget: 50 ordinary deliveries at once are all taken.
    async with serving(Settings(webhook_secret=SECRET, database_url=database_url)) as (app, port):
        results = await asyncio.gather(*[post(port, payload(20_000), delivery=f"n-{i}")
                                         for i in range(50)])
        assert [status for status, _, _ in results] == [202] * 50
        assert in_flight(app) == 0


async def test_a_sender_that_stalls_mid_body_is_cut_off_at_the_deadline_and_gives_its_bytes_back(
        database_url, monkeypatch):
    # Else a few connections each sending most of a budget-sized body and stalling would keep
    # every signed delivery out for as long as they keep their sockets open.
    from bot.web import intake as intake_module

    monkeypatch.setattr(intake_module, "BODY_READ_DEADLINE", 1.0)
    async with serving(Settings(webhook_secret=SECRET, database_url=database_url,
                                intake_budget=BUDGET)) as (app, port):
        reader, writer = await start_slow_sender(port, declared=900_000, sent=800_000)
        await eventually(lambda: in_flight(app) == 800_000)
        status, _, text = await answer(reader)  # the server answers without the rest
        assert status == 408 and b"1 s" in text
        assert in_flight(app) == 0 and rejected(app, "slow") == 1
        writer.close()
        status, _, _ = await post(port, payload(400_000), delivery="after")
        assert status == 202
