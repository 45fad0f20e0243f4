"""The card's sandbox line, as pure text from what the store holds.

URLs come from deployment statuses, which whoever deploys writes: one is shown only when it is
an http(s) URL, percent-encoded so it cannot end the markdown link it is in, and shown as text
neutralised (no mention, no reference, no markup). The line is the same on every rendering
while nothing changes (the executor edits the card only on change): no "ago", a fixed UTC time.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import quote, urlsplit

from ...core.markdown import neutralize

SHA = re.compile(r"[0-9a-f]{40}")
# Characters kept as they are in a shown URL: RFC 3986's unreserved and reserved ones, and "%"
# (an escape already made), but not those that could end or break the markdown link around it
# ("(", ")", "[", "]", "<", ">", quotes, "`", "\\", spaces and controls are encoded).
_SAFE = "-._~:/?#@!$&*+,;=%"
MAX_URL = 2000


def safe_url(value: Any) -> str | None:
    """``value`` as a link target when it is an absolute http(s) URL with a host, else None."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        return None
    if any(ord(ch) < 0x21 or ord(ch) == 0x7f for ch in value):
        return None  # spaces, line breaks, controls: not a URL GitHub or a browser would take
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(value, safe=_SAFE)


def link(url: str, text: str | None = None) -> str:
    shown = neutralize(text if text is not None else url, max_len=100)
    return f"[{shown}]({url})"


def short(sha: str) -> str:
    return f"`{sha[:7]}`" if SHA.fullmatch(sha or "") else "`unknown`"


def when(timestamp: float) -> str:
    return datetime.fromtimestamp(float(timestamp), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def status_text(row: Mapping[str, Any], *, wait_days: int) -> str:
    """What the card says of the sandbox for one merged pull request's row."""
    merge = short(str(row["merge_sha"]))
    state = row["state"]
    if state == "live":
        url = safe_url(row.get("env_url"))
        where = f" at {link(url)}" if url else ""
        return (f"Sandbox: live{where} since {when(row['status_at'])}"
                f" (deployment of {short(str(row['deployed_sha'] or ''))})")
    if state == "failed":
        log = safe_url(row.get("log_url"))
        logs = f" ({link(log, 'log')})" if log else ""
        return (f"Sandbox: the deployment of {short(str(row['deployed_sha'] or ''))} failed{logs};"
                f" waiting for the next deployment that includes {merge}")
    if state == "expired":
        return f"Sandbox: no deployment that includes {merge} succeeded within {wait_days} days of the merge"
    return f"Sandbox: waiting for a deployment that includes {merge}"
