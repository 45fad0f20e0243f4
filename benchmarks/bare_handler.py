"""The baseline for benchmarks/intake.py: a bare aiohttp handler that only checks the
HMAC and answers 202 (no storage)."""
from __future__ import annotations

import hashlib
import hmac
import sys

from aiohttp import web

SECRET = b"bench-secret"


async def webhook(request: web.Request) -> web.Response:
    body = await request.read()
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
        return web.Response(status=401)
    return web.Response(status=202)


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


if __name__ == "__main__":
    app = web.Application(client_max_size=26 * 1024 * 1024)
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", health)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
