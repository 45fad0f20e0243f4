"""Running the real `python -m bot serve` as a separate process (crash tests, benchmarks)."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from tests.fixtures.webhooks import load_example

from .harness import SECRET, retarget

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_bot(fake, db_url: str, port: int, **env: str) -> subprocess.Popen:
    full_env = {**os.environ, "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_APP_ID": str(fake.app_id),
                "GITHUB_PRIVATE_KEY": fake.private_key_pem, "GITHUB_API_URL": fake.url,
                "DATABASE_URL": db_url, "PORT": str(port), "BOT_MUTATION_INTERVAL": "0",
                "BOT_RETRY_BASE": "0.1", "LOG_LEVEL": "WARNING", **env}
    # The log goes to a file, not a pipe: nobody reads a pipe while the bot runs, and a bot
    # that logs more than the pipe holds (64 KiB of retry warnings) would block on a write.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"], env=full_env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    proc.log = log  # type: ignore[attr-defined]
    return proc


def log_tail(proc: subprocess.Popen, size: int = 3000) -> str:
    """The end of what a bot started by start_bot wrote to stderr."""
    log = proc.log  # type: ignore[attr-defined]
    log.seek(0)
    return log.read().decode(errors="replace")[-size:]


async def stop_bot(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, then wait for the bot to exit without blocking the event loop: the fake GitHub
    answers from this loop, and a bot finishing a request to it on its way out would otherwise
    wait for an answer that cannot come until the wait gave up."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(proc.wait, timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the bot ignored SIGTERM: " + log_tail(proc)) from None


async def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError("bot exited: " + log_tail(proc, 2000))
            try:
                async with s.get(url + "/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("bot not ready")


def config_push(fake, repo: str, i: int) -> dict:
    """A push that changes the repo's config file: the bot answers with one check run on
    the pushed commit, so every delivery leaves exactly one visible trace."""
    payload = retarget(load_example("push"), repo, fake)
    payload["ref"] = "refs/heads/main"
    payload["repository"]["default_branch"] = "main"
    payload["after"] = f"{i:040x}"
    payload["commits"] = [{"id": payload["after"], "added": [], "removed": [],
                           "modified": [".github/contributor-flow.yml"]}]
    return payload
