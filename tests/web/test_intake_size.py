"""POST /webhook at GitHub's 25 MB cap, over real HTTP, however the body is framed.

A body with a Content-Length over the cap is refused before it is read; one sent chunked
(no length) is refused as soon as more than the cap has arrived, without waiting for the
rest. Either way nothing is stored, and a body of exactly the cap is taken.
"""
from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json

import pytest
import pytest_asyncio
from aiohttp import web

from bot.settings import Settings
from bot.store import deliveries
from bot.web.app import RUNTIME, create_app
from bot.web.intake import MAX_BODY

SECRET = "s3cret"


def payload(size: int) -> bytes:
    """A signed-able issues payload of exactly ``size`` bytes."""
    head = json.dumps({"action": "opened", "repository": {"full_name": "o/r"},
                       "installation": {"id": 1}, "issue": {"number": 1}})[:-1] + ', "padding": "'
    tail = '"}'
    return (head + "x" * (size - len(head) - len(tail)) + tail).encode()


async def post(port: int, body: bytes, *, delivery: str, framing: str, finish: bool = True,
               encoding: bytes | None = None, wire: bytes | None = None) -> tuple[int, bytes]:
    """One request written by hand: ``framing`` "length" (Content-Length) or "chunked"
    (Transfer-Encoding: chunked, 1 MiB chunks; ``finish=False`` leaves out the last chunk, as a
    client still sending would). ``wire``: the bytes sent when they differ from ``body``
    (compressed). Returns the status and the answer's body."""
    wire = body if wire is None else wire
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    head = (f"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: {signature}\r\n"
            f"X-GitHub-Event: issues\r\nX-GitHub-Delivery: {delivery}\r\n"
            "Content-Type: application/json\r\nConnection: close\r\n").encode()
    if encoding:
        head += b"Content-Encoding: " + encoding + b"\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if framing == "length":
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(wire) + wire)
        else:
            writer.write(head + b"Transfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(wire), 1 << 20):
                piece = wire[i:i + (1 << 20)]
                writer.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                await writer.drain()
            if finish:
                writer.write(b"0\r\n\r\n")
        await writer.drain()
        status = int((await asyncio.wait_for(reader.readline(), 20)).split(b" ", 2)[1])
        headers = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
        length = next(int(line.split(b":", 1)[1]) for line in headers.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        return status, await asyncio.wait_for(reader.readexactly(length), 20)
    finally:
        writer.close()


@pytest_asyncio.fixture
async def intake(database_url):
    app = create_app(Settings(webhook_secret=SECRET, database_url=database_url),
                     run_worker=False, run_scheduler=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield app, site._server.sockets[0].getsockname()[1]
    finally:
        await runner.cleanup()


def rejected(app, reason: str) -> float:
    return app[RUNTIME].metrics.deliveries_rejected.labels(reason=reason)._value.get()


@pytest.mark.parametrize("framing", ["chunked", "length"])
async def test_a_body_one_byte_over_the_cap_is_413_and_stores_nothing(intake, framing):
    app, port = intake
    status, answer = await post(port, payload(MAX_BODY + 1), delivery="over", framing=framing)
    assert status == 413 and b"larger than 25 MB" in answer
    assert await deliveries.get(app[RUNTIME].db, "over") is None
    assert rejected(app, "too_large") == 1


@pytest.mark.parametrize("framing", ["chunked", "length"])
async def test_a_body_of_exactly_the_cap_is_stored_whole(intake, framing):
    app, port = intake
    body = payload(MAX_BODY)
    status, _ = await post(port, body, delivery="edge", framing=framing)
    assert status == 202
    stored = await deliveries.get(app[RUNTIME].db, "edge")
    assert stored is not None and stored.body.encode() == body


async def test_a_chunked_body_past_the_cap_is_answered_without_waiting_for_its_end(intake):
    # Were the whole body read first, this client, which never sends its last chunk, would
    # wait for its answer forever.
    app, port = intake
    status, _ = await post(port, payload(MAX_BODY + 1), delivery="endless", framing="chunked",
                           finish=False)
    assert status == 413
    assert await deliveries.get(app[RUNTIME].db, "endless") is None


@pytest.mark.parametrize("framing", ["chunked", "length"])
async def test_a_compressed_body_is_measured_as_it_expands(intake, framing):
    # A few kilobytes on the wire that decompress to just over the cap.
    app, port = intake
    body = payload(MAX_BODY + 1)
    status, _ = await post(port, body, delivery="gz", framing=framing, encoding=b"gzip",
                           wire=gzip.compress(body))
    assert status == 413
    assert await deliveries.get(app[RUNTIME].db, "gz") is None


@pytest.mark.parametrize("framing", ["chunked", "length"])
async def test_a_body_that_is_not_what_its_encoding_says_is_400_not_a_server_error(intake, framing):
    # Plain JSON labelled gzip: aiohttp cannot decompress it. A malformed body (anyone can
    # send one, signed or not) is the client's 400, not a 500 with a traceback in the log.
    app, port = intake
    status, answer = await post(port, payload(1000), delivery="not-gzip", framing=framing,
                                encoding=b"gzip")
    assert status == 400 and b"Content-Encoding" in answer
    assert await deliveries.get(app[RUNTIME].db, "not-gzip") is None
    assert rejected(app, "malformed") == 1
