"""Reading a GraphQL connection to its end: GitHub serves at most 100 nodes a page, and a
board may have more fields (or an issue more project items) than one page holds.

The query asks for ``first: 100`` (GitHub's largest page), takes ``$after: String`` for the
connection's ``after`` argument and selects its ``pageInfo { hasNextPage endCursor }``;
``fetch(after)`` sends it (``None`` for the first page).
"""
from __future__ import annotations

from typing import Any, AsyncIterator, Awaitable, Callable


def dig(data: Any, *path: str) -> Any:
    """``data[path[0]][path[1]]...``, or None where a step is missing or null."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


async def pages(fetch: Callable[[str | None], Awaitable[Any]], *path: str) -> AsyncIterator[Any]:
    """Each answer of the query, page after page of the connection at ``path``, until GitHub
    says there is no next page. A cursor seen before stops it too, so a server that repeats
    itself cannot keep the bot asking."""
    after: str | None = None
    seen: set[str] = set()
    while True:
        data = await fetch(after)
        yield data
        info = dig(data, *path, "pageInfo") or {}
        cursor = info.get("endCursor")
        if not info.get("hasNextPage") or not isinstance(cursor, str) or cursor in seen:
            return
        seen.add(cursor)
        after = cursor
