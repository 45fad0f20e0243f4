"""BotHarness: the real app (intake, worker, executor, GitHub client) over real HTTP,
pointed at the shared fake GitHub."""
from __future__ import annotations

import asyncio
import copy
import os
import time
import uuid
from typing import Any

from aiohttp import web

from bot.runtime import Runtime
from bot.settings import BUNDLED_RULES, Settings
from bot.store import deliveries
from bot.web.app import RUNTIME, WORKER, create_app
from tests.fixtures.webhooks import load_example

SECRET = "e2e-webhook-secret"
FINAL = ("done", "dead")


def retarget(payload: dict[str, Any], repo: str, fake, installation_id: int = 1) -> dict[str, Any]:
    """Point an example payload at ``repo`` as the fake has it (added there if missing: GitHub
    sends deliveries about repositories that exist) and at the fake's installation.

    The repository's id and node id become the fake's, as do those of every other reference
    to the same repository (a pull request's head and base, a check run's ``pull_requests``):
    GitHub's examples carry another repository's ids, and a feature that compares repository
    ids would otherwise take a path it never takes on GitHub."""
    payload = copy.deepcopy(payload)
    served = fake.serializer.repo(fake.add_repo(repo))
    keys = ("id", "node_id", "name", "full_name")
    repository = payload.get("repository")
    if repository:
        old_id = repository.get("id")
        same = [r for r in _repository_objects(payload)
                if r is not repository and old_id is not None and r.get("id") == old_id]
        repository.update({k: served[k] for k in keys})
        repository.setdefault("owner", {})["login"] = served["owner"]["login"]
        for ref in same:  # GitHub's short references ({id, name, url}) keep their shape
            ref.update({k: served[k] for k in keys if k == "id" or k in ref})
            if isinstance(ref.get("owner"), dict):
                ref["owner"]["login"] = served["owner"]["login"]
    payload["installation"] = {"id": installation_id, "node_id": f"MDIz{installation_id}"}
    return payload


def _repository_objects(node: Any) -> list[dict[str, Any]]:
    """Every object under a ``repo`` or ``repository`` key in ``node``, at any depth."""
    found: list[dict[str, Any]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if key in ("repo", "repository") and isinstance(value, dict):
            found.append(value)
        found.extend(_repository_objects(value))
    return found


def comment_payload(fake, repo: str, number: int, comment: Any, user: str) -> dict[str, Any]:
    """An ``issue_comment.created`` delivery for a comment already added to the fake."""
    payload = retarget(load_example("issue_comment", "created"), repo, fake)
    payload["issue"] = fake.serializer.issue(fake.issue(repo, number))
    payload["comment"] = fake.serializer.comment(fake.repo(repo), comment, number)
    payload["sender"] = fake.serializer.user(user)
    return payload


class BotHarness:
    def __init__(self, fake, *, database_url: str, rules_dir: str | None = None,
                 with_credentials: bool = True, worker: bool = True, scheduler: bool = False,
                 **settings: Any) -> None:
        self.fake = fake
        self.settings = Settings(
            webhook_secret=SECRET,
            app_id=str(fake.app_id) if with_credentials else None,
            private_key=fake.private_key_pem if with_credentials else None,
            api_url=fake.url, database_url=database_url,
            # Like the bot itself, the tests honour BOT_RULES_DIR.
            rules_dir=rules_dir or os.environ.get("BOT_RULES_DIR") or BUNDLED_RULES,
            mutation_interval=0.0, retry_base=0.05, **settings)
        self.run_worker = worker
        self.run_scheduler = scheduler
        self.url = ""
        self._runner: web.AppRunner | None = None
        self.app: web.Application | None = None

    @property
    def runtime(self) -> Runtime:
        assert self.app is not None
        return self.app[RUNTIME]

    @property
    def worker(self):
        assert self.app is not None
        return self.app[WORKER]

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook"

    async def start(self) -> "BotHarness":
        self.app = create_app(self.settings, run_worker=self.run_worker,
                              run_scheduler=self.run_scheduler)
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "BotHarness":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def deliver(self, event: str, payload: dict[str, Any], *, delivery_id: str | None = None,
                      wait: bool = True, timeout: float = 15.0) -> str:
        """Send a signed delivery through the fake (as GitHub would) and, by default,
        wait until the bot has finished with it."""
        delivery_id = delivery_id or str(uuid.uuid4())
        sent = await self.fake.deliver(self.webhook_url, event, payload, SECRET, delivery_id=delivery_id)
        assert sent.status_code == 202, f"webhook answered {sent.status_code}"
        if wait:
            await self.wait_for(delivery_id, timeout=timeout)
        return delivery_id

    async def deliver_example(self, event: str, action: str | None = None, *, repo: str = "octo/repo",
                              patch: Any = None, **kw: Any) -> str:
        payload = retarget(load_example(event, action), repo, self.fake)
        if patch is not None:
            patch(payload)
        return await self.deliver(event, payload, **kw)

    async def comment(self, repo: str, number: int, body: str, user: str,
                      created_at: str | None = None) -> str:
        """Add a comment to the fake and deliver its webhook, as GitHub would."""
        c = self.fake.add_comment(repo, number, body, user)
        if created_at:
            c.created_at = c.updated_at = created_at
        return await self.deliver("issue_comment", comment_payload(self.fake, repo, number, c, user))

    async def wait_for(self, delivery_id: str, *, timeout: float = 15.0, states=FINAL) -> str:
        deadline = time.monotonic() + timeout
        while True:
            d = await deliveries.get(self.runtime.db, delivery_id)
            if d is not None and d.status in states:
                return d.status
            if time.monotonic() > deadline:
                raise AssertionError(f"delivery {delivery_id} not finished in {timeout}s: "
                                     f"{d.status if d else 'not stored'} {d.last_error if d else ''}")
            self.worker.wake.set()
            await asyncio.sleep(0.02)

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait until no delivery is pending, processing or waiting for a retry."""
        deadline = time.monotonic() + timeout
        while await deliveries.queue_depth(self.runtime.db):
            if time.monotonic() > deadline:
                raise AssertionError("deliveries still queued")
            self.worker.wake.set()
            await asyncio.sleep(0.02)

    async def status(self, delivery_id: str) -> str | None:
        d = await deliveries.get(self.runtime.db, delivery_id)
        return d.status if d else None
