"""POST /webhook: verify, store, acknowledge. Nothing here waits on GitHub.

Order matters: the signature is checked over the raw body before anything else is
looked at, so an unsigned request learns nothing and stores nothing.
"""
from __future__ import annotations

import asyncio

import hashlib
import hmac
import logging
import re
from typing import TYPE_CHECKING, Callable
from urllib.parse import parse_qs

import orjson
from aiohttp import web

from ..store.db import DatabaseUnavailable
from ..store.deliveries import NewDelivery
from ..store.group_commit import GroupCommitter, StoreTimeout
from .envelope import EnvelopeReader, MalformedBody, UnexpectedFields

if TYPE_CHECKING:  # pragma: no cover
    from ..metrics import Metrics

log = logging.getLogger("bot.intake")

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
# What a request refused for lack of budget is told: the budget frees as soon as the bodies
# being read are checked, and GitHub's redelivery (or recovery) brings a refused delivery back.
BUSY_RETRY_AFTER = "5"
# How long a body may take to arrive. GitHub gives up on a delivery it has no answer to within
# 10 s, so a body still coming after that is not a delivery GitHub waits for: a client that
# sends part of one and stalls would otherwise hold its share of the budget for as long as it
# keeps the connection open (a few such would keep every signed delivery out).
BODY_READ_DEADLINE = 10.0

# The headers intake stores. They are not covered by the signature: a captured signed body can
# be replayed with any header values, so their shape is checked before they go near the store
# (a value the database cannot take must be this request's 400, not a failed batch).
# GitHub's event names are snake_case words; its delivery ids are GUIDs.
_EVENT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}", re.ASCII)
_DELIVERY_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}", re.ASCII)
_INT64 = range(-(2 ** 63), 2 ** 63)  # what an INTEGER / BIGINT column holds


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    # Headers are not covered by the HMAC and arrive as any bytes (aiohttp keeps what is not
    # UTF-8 as surrogates): anything but ASCII is simply not a signature.
    if not header or not header.isascii() or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def _payload(body: bytes, content_type: str) -> tuple[str, bytes | str]:
    """The payload as text (what is stored) and as what the JSON reader gets (the raw
    bytes when they are the JSON). GitHub sends JSON, or a form with a ``payload`` field
    when so configured."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields = parse_qs(body.decode("utf-8"), strict_parsing=False)
        if "payload" not in fields:
            raise MalformedBody("form body without a payload field")
        text = fields["payload"][0]
        if "\x00" in text:  # %00 in the form: PostgreSQL text cannot hold NUL
            raise MalformedBody("payload contains a NUL character")
        return text, text
    return body.decode("utf-8"), body


class UndecodableBody(ValueError):
    """The body is not what its Content-Encoding says (e.g. plain text labelled gzip)."""


class ClientGone(Exception):
    """The client closed the connection before its body was complete."""


class OverBudget(Exception):
    """Reading this body would take the bytes held by unverified requests past the budget."""


class ReadBudget:
    """Bytes of bodies held at once before their signature is checked, over all requests.

    The per-request cap alone lets N unsigned requests cost N x 25 MB. One event loop takes
    and gives back, so plain arithmetic is enough (no lock)."""

    def __init__(self, capacity: int, gauge=None) -> None:
        self.capacity = capacity
        self.in_use = 0
        self._gauge = gauge

    def fits(self, amount: int) -> bool:
        return self.in_use + amount <= self.capacity

    def take(self, amount: int) -> bool:
        if not self.fits(amount):
            return False
        self.in_use += amount
        self._show()
        return True

    def give_back(self, amount: int) -> None:
        self.in_use -= amount
        self._show()

    def _show(self) -> None:
        if self._gauge is not None:
            self._gauge.set(self.in_use)


async def _read_at_most(request: web.Request, limit: int, budget: ReadBudget,
                        held: list[int]) -> bytearray | None:
    """The body, or None once it is known to be longer than ``limit``: by its Content-Length,
    or, for a body sent chunked (no length), as soon as more than ``limit`` bytes have
    arrived. Nothing past that is kept (aiohttp discards the rest after the answer), so a
    body never costs more than ``limit`` and one network read of memory.

    Its bytes are charged to ``budget`` as they arrive, before they are kept; a declared
    length that does not fit in what is left is refused unread. Only what arrived is held, not
    what was declared: a client that declares 25 MB and then stalls holds what it sent, so a few
    stalled connections cannot shut the door on GitHub. ``OverBudget`` when the budget cannot
    take them. ``held[0]`` is what this request holds: the caller gives it back, whatever
    happens here. ``UndecodableBody`` when aiohttp cannot decode it as its Content-Encoding says."""
    declared = request.content_length
    if declared is not None and declared > limit:
        return None
    if declared and not budget.fits(declared):
        raise OverBudget
    body = bytearray()
    try:
        while chunk := await request.content.readany():
            if len(body) + len(chunk) > limit:
                return None
            if not budget.take(len(chunk)):
                raise OverBudget
            held[0] += len(chunk)
            body += chunk
    except web.RequestPayloadError:
        raise UndecodableBody from None
    except ConnectionError:
        # Anyone can open a request and hang up: not worth aiohttp's traceback in the log.
        raise ClientGone from None
    # Not bytes(body): a copy would hold the body twice for a moment, past what the budget
    # counts (the HMAC, the decoding and the JSON reader all take a bytearray).
    return body


def _json(data: dict, status: int) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def make_handler(*, secret: str, store: GroupCommitter, metrics: "Metrics",
                 notify: Callable[[], None],
                 budget: int = 64 * 1024 * 1024) -> Callable[[web.Request], object]:
    key = secret.encode()
    deadline = BODY_READ_DEADLINE
    unverified = ReadBudget(budget, metrics.intake_bytes_in_flight)
    # A body larger than the whole budget could never be read: refused as too large, not
    # as busy (which would have GitHub try it again and again).
    limit = min(MAX_BODY, budget)
    too_large = ("payload larger than 25 MB" if limit == MAX_BODY else
                 f"payload larger than this service's intake budget ({limit} bytes)")
    envelopes = EnvelopeReader()
    received = {}  # counter per event name: .labels() looks the child up on every call

    def reject(status: int, reason: str, message: str) -> web.Response:
        metrics.deliveries_rejected.labels(reason=reason).inc()
        return _json({"error": message}, status)

    async def webhook(request: web.Request) -> web.Response:
        held = [0]
        try:  # the finally gives the bytes back on every way out, a client gone included
            try:
                async with asyncio.timeout(deadline):
                    body = await _read_at_most(request, limit, unverified, held)
            except TimeoutError:
                return reject(408, "slow", f"body not received within {deadline:g} s")
            except UndecodableBody:
                return reject(400, "malformed", "body does not decode as its Content-Encoding says")
            except ClientGone:
                return reject(400, "incomplete", "connection closed before the body was complete")
            except OverBudget:
                response = reject(503, "busy", "intake busy reading other requests, try again later")
                response.headers["Retry-After"] = BUSY_RETRY_AFTER
                return response
            if body is None:
                return reject(413, "too_large", too_large)
            if not signature_ok(key, body, request.headers.get("X-Hub-Signature-256")):
                return reject(401, "signature", "missing or invalid X-Hub-Signature-256")
        finally:
            unverified.give_back(held[0])
        # Signed from here on: the body is GitHub's own, no longer charged to the budget.
        event_name = request.headers.get("X-GitHub-Event", "").strip()
        delivery_id = request.headers.get("X-GitHub-Delivery", "").strip()
        if not event_name or not delivery_id:
            return reject(400, "headers", "X-GitHub-Event and X-GitHub-Delivery are required")
        if not _EVENT_NAME.fullmatch(event_name) or not _DELIVERY_ID.fullmatch(delivery_id):
            return reject(400, "headers", "X-GitHub-Event or X-GitHub-Delivery is not a GitHub "
                                          "event name or delivery id")
        try:
            text, json_body = _payload(body, request.content_type or "")
            envelope = envelopes.read(event_name, json_body)
        except UnexpectedFields as exc:
            # e.g. "repository" not an object, "installation.id" a string: processing could
            # only fail on it, every retry, so it is refused now (the message names the field).
            return reject(400, "malformed", str(exc))
        except MalformedBody as exc:
            return reject(400, "malformed", str(exc))
        except UnicodeDecodeError:
            return reject(400, "malformed", "body is not valid JSON")
        if envelope.installation_id is not None and envelope.installation_id not in _INT64:
            return reject(400, "malformed", "installation.id is out of range")
        if "\x00" in envelope.repo or "\x00" in envelope.action:  # e.g. "o/r\u0000": not storable
            return reject(400, "malformed", "repository.full_name or action contains a NUL character")
        new = NewDelivery(delivery_id=delivery_id, event=event_name, action=envelope.action,
                          repo=envelope.repo, subject=envelope.subject,
                          installation_id=envelope.installation_id, body=text)
        try:
            result = await store.submit(new)  # bounded: StoreTimeout after STORE_TIMEOUT
        except (DatabaseUnavailable, StoreTimeout):
            # GitHub marks the delivery failed; recovery asks for it again later (if the row
            # still gets committed after this answer, recovery finds it stored and skips it).
            return reject(503, "database", "storage unavailable, try again later")
        except Exception:
            # This row alone could not be stored (the batch writer retried the others
            # without it): a value the checks above let through. Not the store's health.
            log.exception("delivery %r could not be stored", delivery_id)
            return reject(500, "store_error", "this delivery could not be stored")
        if result.stored or result.requeued:
            counter = received.get(event_name)
            if counter is None:
                counter = received[event_name] = metrics.deliveries_received.labels(event=event_name)
            counter.inc()
            notify()
            return _json({"status": "queued", "delivery": delivery_id}, 202)
        metrics.deliveries_duplicate.inc()
        return _json({"status": "duplicate", "delivery": delivery_id, "state": result.status}, 202)

    return webhook
