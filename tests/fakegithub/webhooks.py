"""Outgoing webhooks, signed and recorded as GitHub's app hook deliveries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import aiohttp

from .state import HookDelivery, State, now_iso

HOOK_ID = 109948940


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Deliveries:
    state: State
    app_id: int

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._delivery_ids = iter(range(10_000_001, 10**12))
        self.pending_redeliveries: set[asyncio.Task[HookDelivery]] = set()
        # The app's webhook URL: the last one delivered to, as GitHub keeps one URL per app.
        self.hook_url: str | None = None

    async def wait_redeliveries(self) -> None:
        """Wait until redeliveries requested through the API have been sent."""
        while self.pending_redeliveries:
            await asyncio.gather(*list(self.pending_redeliveries), return_exceptions=True)

    async def close_deliveries(self) -> None:
        await self.wait_redeliveries()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, url: str, event: str, payload: dict[str, Any], secret: str,
                      delivery_id: str | None = None, action: str | None = None) -> HookDelivery:
        """POST `payload` to `url` the way GitHub does; returns the recorded delivery."""
        action = action if action is not None else payload.get("action")
        guid = delivery_id or str(uuid.uuid1())  # GitHub's delivery GUIDs are time-based (version 1)
        self.hook_url = url
        return await self._send(url, event, action, payload, secret, guid, redelivery=False)

    async def redeliver(self, delivery: HookDelivery) -> HookDelivery:
        """Send a recorded delivery again, same GUID, to the app's current webhook URL."""
        return await self._send(self.hook_url or delivery.url, delivery.event, delivery.action, delivery.payload,
                                delivery.secret, delivery.guid, redelivery=True)

    async def _send(self, url: str, event: str, action: str | None, payload: dict[str, Any],
                    secret: str, guid: str, redelivery: bool) -> HookDelivery:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        body = json.dumps(payload).encode()
        installation_id = (payload.get("installation") or {}).get("id")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake0001",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": guid,
            "X-GitHub-Hook-ID": str(HOOK_ID),
            "X-GitHub-Hook-Installation-Target-ID": str(self.app_id),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-Hub-Signature-256": sign(secret, body),
        }
        started = time.monotonic()
        try:
            async with self._session.post(url, data=body, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=10)) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0  # GitHub shows failed connections and timeouts as no status code
        delivery = HookDelivery(
            id=next(self._delivery_ids), guid=guid, event=event, action=action, status_code=status,
            delivered_at=now_iso(), redelivery=redelivery, url=url, payload=payload, secret=secret,
            installation_id=installation_id,
            repository_id=(payload.get("repository") or {}).get("id"),
            duration=time.monotonic() - started)
        self.state.deliveries.append(delivery)
        return delivery

    def delivery_summary(self, d: HookDelivery) -> dict[str, Any]:
        ok = 200 <= d.status_code < 300
        return {"id": d.id, "guid": d.guid, "delivered_at": d.delivered_at,
                "redelivery": d.redelivery, "duration": round(d.duration, 3),
                "status": "OK" if ok else ("failed to connect" if d.status_code == 0 else "Invalid HTTP Response"),
                "status_code": d.status_code, "event": d.event, "action": d.action,
                "installation_id": d.installation_id, "repository_id": d.repository_id,
                "throttled_at": None}
