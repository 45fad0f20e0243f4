"""POST /webhook over real HTTP: verify, store, acknowledge; then processed once."""
from __future__ import annotations

import hashlib
import hmac
import json

import aiohttp
import pytest

from bot.store import deliveries
from tests.conftest import BOTH_BACKENDS

from .harness import SECRET, retarget
from tests.fixtures.webhooks import load_example


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post(bot, body: bytes, *, event="issues", delivery="d-1", signature=None,
               content_type="application/json", headers=None):
    h = {"Content-Type": content_type}
    if event:
        h["X-GitHub-Event"] = event
    if delivery:
        h["X-GitHub-Delivery"] = delivery
    h["X-Hub-Signature-256"] = sign(body) if signature is None else signature
    h.update(headers or {})
    async with aiohttp.ClientSession() as s:
        async with s.post(bot.webhook_url, data=body, headers=h) as r:
            return r.status, await r.json()


def example_body(fake, event="issues", action="opened") -> bytes:
    return json.dumps(retarget(load_example(event, action), "octo/repo", fake)).encode()


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc", "sha256=zz"])
async def test_bad_or_missing_signature_is_401_and_stores_nothing(bot, signature):
    status, body = await post(bot, example_body(bot.fake), signature=signature)
    assert status == 401 and "Signature" in body["error"]
    assert await deliveries.listing(bot.runtime.db) == []


async def test_signature_with_another_secret_is_refused(bot):
    body = example_body(bot.fake)
    status, _ = await post(bot, body, signature=sign(body, "not-the-secret"))
    assert status == 401


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"])
async def test_malformed_body_is_400(bot, raw):
    status, body = await post(bot, raw)
    assert status == 400 and "JSON" in body["error"]
    assert await deliveries.listing(bot.runtime.db) == []


@pytest.mark.parametrize("missing", ["event", "delivery"])
async def test_missing_github_headers_is_400(bot, missing):
    status, _ = await post(bot, example_body(bot.fake), **{missing: ""})
    assert status == 400


async def test_oversize_body_is_413_and_large_bodies_are_accepted(bot):
    big = retarget(load_example("issues", "opened"), "octo/repo", bot.fake)
    big["issue"]["body"] = "x" * (3 * 1024 * 1024)  # beyond aiohttp's 1 MiB default
    status, _ = await post(bot, json.dumps(big).encode(), delivery="big")
    assert status == 202
    too_big = b'{"a": "' + b"x" * (25 * 1024 * 1024 + 10) + b'"}'
    status, _ = await post(bot, too_big, delivery="too-big")
    assert status == 413
    assert await deliveries.get(bot.runtime.db, "too-big") is None


async def test_form_encoded_delivery_is_accepted(bot):
    from urllib.parse import urlencode

    body = urlencode({"payload": example_body(bot.fake).decode()}).encode()
    status, _ = await post(bot, body, content_type="application/x-www-form-urlencoded", delivery="form")
    assert status == 202
    assert (await deliveries.get(bot.runtime.db, "form")).event == "issues"


@BOTH_BACKENDS
async def test_duplicate_delivery_is_acknowledged_and_processed_once(bot, fake_github):
    payload = retarget(load_example("issues", "opened"), "octo/repo", fake_github)
    d1 = await bot.deliver("issues", payload, delivery_id="same-id")
    assert await bot.status(d1) == "done"
    sent = await fake_github.deliver(bot.webhook_url, "issues", payload, SECRET, delivery_id="same-id")
    assert sent.status_code == 202
    rows = await deliveries.listing(bot.runtime.db)
    assert len(rows) == 1 and rows[0]["attempts"] == 1


async def test_health_ready_and_metrics(bot):
    await bot.deliver_example("issues", "opened")
    await bot.deliver_example("push")  # runs a handler (config check)
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{bot.url}/healthz") as r:
            assert r.status == 200
        async with s.get(f"{bot.url}/readyz") as r:
            assert r.status == 200 and (await r.json())["database"] == "sqlite"
        async with s.get(f"{bot.url}/metrics") as r:
            text = await r.text()
    assert 'cf_deliveries_received_total{event="issues"} 1.0' in text
    assert 'cf_deliveries_processed_total{event="issues"} 1.0' in text
    assert "cf_queue_depth " in text
    assert 'cf_handler_seconds_bucket{feature="config_check"' in text


async def test_serve_refuses_to_start_without_secret(fake_github, tmp_path):
    from bot.settings import Settings
    from bot.web.app import create_app

    with pytest.raises(SystemExit, match="GITHUB_WEBHOOK_SECRET"):
        create_app(Settings(webhook_secret=None, database_url=f"sqlite:///{tmp_path}/x.db"))
