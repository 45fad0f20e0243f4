"""JSON logs: every line about a delivery carries its id, event, repo and subject; tokens,
the app's JWT and private key, and the webhook secret never appear, even in errors."""
from __future__ import annotations

import io
import json
import logging

import pytest

from bot.log import configure

from .botprocess import config_push
from .harness import SECRET, BotHarness

REPO = "octo/repo"


@pytest.fixture
def json_logs():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure("DEBUG", "json")
    buf = io.StringIO()
    root.handlers[0].setStream(buf)
    try:
        yield buf
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


async def test_delivery_lines_carry_context_and_no_secret_leaks(fake_github, database_url, json_logs):
    fake = fake_github
    fake.add_repo(REPO)
    async with BotHarness(fake, database_url=database_url) as bot:
        await bot.deliver("push", config_push(fake, REPO, 1), delivery_id="push-ok")
        # A failing delivery: GitHub errors end up in warnings and the stored error.
        fake.faults.configure(share=1.0, kinds=("502",), only_methods=("POST",))
        await bot.deliver("push", config_push(fake, REPO, 2), delivery_id="push-failing", wait=False)
        await bot.wait_for("push-failing", states=("failed", "dead"))
        fake.faults.off()
        jwt = bot.runtime.github._jwt.header().split()[-1]  # the app's current JWT
        token = next(iter(fake.auth.tokens))
        # Code that carelessly logs a credential is scrubbed by the formatter.
        logging.getLogger("bot.test").warning("calling with token %s and %s", token, jwt)
        await bot.wait_for("push-failing")

    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.strip()]
    about = [ln for ln in lines if "push-ok" in json.dumps(ln) or "push-failing" in json.dumps(ln)]
    assert {ln["logger"] for ln in about} >= {"bot.pipeline", "bot.worker"}
    for ln in about:
        assert ln.get("delivery_id") in ("push-ok", "push-failing"), ln
        assert ln["event"] == "push" and ln["repo"] == REPO and ln["subject"] == REPO, ln
    assert any(ln["level"] == "warning" and ln.get("delivery_id") == "push-failing" for ln in about)

    text = json_logs.getvalue()
    key_body = "".join(fake.private_key_pem.strip().splitlines()[1:-1])
    for secret in (token, jwt, SECRET, key_body[:40], *list(fake.auth.tokens)):
        assert secret not in text
    assert "[redacted]" in text
