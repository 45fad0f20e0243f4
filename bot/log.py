"""Logging: text or JSON lines; every line about a delivery carries its id, event,
repo and subject (from a context variable); tokens and keys are scrubbed."""
from __future__ import annotations

import contextvars
import json
import logging
import re
import time
from contextlib import contextmanager
from typing import Any, Iterator

_delivery: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("delivery", default={})

_SECRETS = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
    r"|(?i:(?:token|bearer)\s+)[A-Za-z0-9._-]{16,}|sha256=[0-9a-f]{64})")


def scrub(text: str) -> str:
    return _SECRETS.sub("[redacted]", text)


@contextmanager
def delivery_context(**fields: Any) -> Iterator[None]:
    token = _delivery.set({k: v for k, v in fields.items() if v not in (None, "")})
    try:
        yield
    finally:
        _delivery.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _delivery.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


_FIELDS = ("delivery_id", "event", "repo", "subject", "feature", "job")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key in _FIELDS:
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(data, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = " ".join(f"{k}={getattr(record, k)}" for k in _FIELDS if hasattr(record, k))
        return scrub(f"{base} [{extras}]" if extras else base)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level, logging.INFO))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # procrastinate says two lines per job at INFO; the bot's own lines already tell the story.
    if root.level > logging.DEBUG:
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
