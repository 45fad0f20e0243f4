"""POST /webhook with header values and fields the store cannot take.

Headers are not covered by the signature: a captured signed body can be replayed with any
header bytes. Such a request is refused alone (400, or 401 for the signature header) before
it reaches the store, and never fails the legitimate deliveries that share its batch.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from urllib.parse import quote

import pytest_asyncio
from aiohttp import web

from bot.settings import Settings
from bot.store import deliveries
from bot.web.app import create_app
from tests.conftest import BOTH_BACKENDS

SECRET = "s3cret"
BODY = json.dumps({"action": "opened", "repository": {"full_name": "o/r"},
                   "installation": {"id": 1}, "issue": {"number": 1}}).encode()


def sign(body: bytes) -> bytes:
    return b"sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().encode()


class Intake:
    def __init__(self, app: web.Application, port: int) -> None:
        self.app, self.port = app, port

    @property
    def db(self):
        from bot.web.app import RUNTIME

        return self.app[RUNTIME].db

    async def post(self, *, event: bytes = b"issues", delivery: bytes = b"d-1", body: bytes = BODY,
                   signature: bytes | None = None,
                   content_type: bytes = b"application/json") -> int:
        """One request written byte for byte, so header values need not be valid UTF-8."""
        headers = (b"X-Hub-Signature-256: " + (sign(body) if signature is None else signature) + b"\r\n"
                   b"X-GitHub-Event: " + event + b"\r\nX-GitHub-Delivery: " + delivery + b"\r\n"
                   b"Content-Type: " + content_type + b"\r\n")
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(b"POST /webhook HTTP/1.1\r\nHost: x\r\n" + headers
                     + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return int(answer.split(b" ", 2)[1])


@pytest_asyncio.fixture
async def intake(database_url):
    app = create_app(Settings(webhook_secret=SECRET, database_url=database_url),
                     run_worker=False, run_scheduler=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield Intake(app, site._server.sockets[0].getsockname()[1])
    finally:
        await runner.cleanup()


@BOTH_BACKENDS
async def test_a_header_that_is_not_utf8_is_refused_alone_and_its_batch_is_stored(intake):
    for round_ in range(3):
        requests = [intake.post(delivery=f"ok-{round_}-{i}".encode()) for i in range(30)]
        requests.insert(15, intake.post(event=b"issu\xffes", delivery=f"bad-{round_}".encode()))
        codes = await asyncio.gather(*requests)
        assert codes[15] == 400
        assert codes[:15] + codes[16:] == [202] * 30
    stored = {row["delivery_id"] for row in await deliveries.listing(intake.db, limit=1000)}
    assert stored == {f"ok-{r}-{i}" for r in range(3) for i in range(30)}


@BOTH_BACKENDS
async def test_header_values_of_the_wrong_shape_are_400_and_store_nothing(intake):
    for event, delivery in [(b"issues", b"d\xff"), (b"issues\x01", b"d1"), (b"issues", b"a b"),
                            ("évènement".encode(), b"d2"), (b"issues", b"x" * 200),
                            (b"i" * 100, b"d3")]:
        assert await intake.post(event=event, delivery=delivery) == 400, (event, delivery)
    assert await deliveries.listing(intake.db) == []
    # GitHub's own shapes pass.
    assert await intake.post(event=b"pull_request_review_comment",
                             delivery=b"72d3162e-cc78-11e3-81ab-4c9367dc0958") == 202


async def test_a_signature_header_that_is_not_ascii_is_401(intake):
    assert await intake.post(signature=b"sha256=\xff\xfe") == 401
    assert await intake.post(signature="sha256=é".encode()) == 401
    assert await deliveries.listing(intake.db) == []


@BOTH_BACKENDS
async def test_payload_fields_the_database_cannot_hold_are_400(intake):
    nul_repo = b'{"repository": {"full_name": "o/r\\u0000x"}, "issue": {"number": 1}}'
    wide_installation = b'{"installation": {"id": 9223372036854775808}, "repository": {"full_name": "o/r"}}'
    nul_form = b"payload=" + quote('{"repository": {"full_name": "o/r"}, "x": "a\x00b"}').encode()
    assert await intake.post(body=nul_repo, delivery=b"nul") == 400
    assert await intake.post(body=wide_installation, delivery=b"wide") == 400
    wide_repository = b'{"repository": {"full_name": "o/r", "id": 9223372036854775808}}'
    assert await intake.post(body=wide_repository, delivery=b"wide-repo") == 400
    assert await intake.post(body=nul_form, delivery=b"form",
                             content_type=b"application/x-www-form-urlencoded") == 400
    assert await deliveries.listing(intake.db) == []
    # Right at the edge of what fits is stored.
    edge = b'{"installation": {"id": 9223372036854775807}, "repository": {"full_name": "o/r"}}'
    assert await intake.post(body=edge, delivery=b"edge") == 202
