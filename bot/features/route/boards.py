"""Checking a configured board before routing to it, so a missing board or field is
told to the maintainers instead of failing quietly in the executor.

Ids are looked up by name (read-only GraphQL) and cached for ten minutes per process, per
installation: what one installation's token can see says nothing of another's. A board's
fields are read page by page: the Status field may come after the hundredth.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from ...core.pages import dig, pages

log = logging.getLogger("bot.route")

BOARD_QUERY = """
query($owner: String!, $number: Int!, $after: String) {
  repositoryOwner(login: $owner) {
    ... on ProjectV2Owner {
      projectV2(number: $number) {
        id
        title
        fields(first: 100, after: $after) {
          pageInfo { hasNextPage endCursor }
          nodes {
            ... on ProjectV2FieldCommon { id name }
            ... on ProjectV2SingleSelectField { id name options { id name } }
          }
        }
      }
    }
  }
}
"""

TTL = 600.0
_cache: dict[tuple[int | None, str, int], tuple[float, dict | None]] = {}


@dataclass(frozen=True)
class BoardCheck:
    ok: bool
    problem: str = ""   # a sentence for the maintainers
    key: str = ""       # identifies the problem, so it is reported once
    solved: tuple[str, ...] = ()  # the problems this check shows are not (or no longer) there


async def _board(gh: Any, installation: int | None, owner: str, number: int, *, fresh: bool = False) -> dict | None:
    hit = None if fresh else _cache.get((installation, owner, number))
    if hit and time.monotonic() - hit[0] < TTL:
        return hit[1]
    try:
        board = await _read(gh, owner, number)
    except Exception as exc:
        from ...github import TransientGitHubError

        if isinstance(exc, TransientGitHubError):
            raise
        log.info("board %s#%s lookup failed: %s", owner, number, exc)
        board = None
    _cache[(installation, owner, number)] = (time.monotonic(), board)
    return board


async def _read(gh: Any, owner: str, number: int) -> dict | None:
    """The board with all its fields, or None when it is not found."""
    board: dict | None = None
    fields: list[Any] = []
    async for data in pages(lambda after: gh.graphql(BOARD_QUERY, owner=owner, number=number, after=after),
                            "repositoryOwner", "projectV2", "fields"):
        page = dig(data, "repositoryOwner", "projectV2")
        if page is None:
            return None
        board = board or page
        fields += dig(page, "fields", "nodes") or []
    return {**board, "fields": {"nodes": fields}} if board is not None else None


async def check(gh: Any, installation: int | None, owner: str, number: int, field: str,
                value: str | None) -> BoardCheck:
    """``installation``: whose token ``gh`` reads with (the cache is kept per installation)."""
    hit = _cache.get((installation, owner, number))
    cached = hit is not None and hit[1] is not None and time.monotonic() - hit[0] < TTL
    found = _check(await _board(gh, installation, owner, number), owner, number, field, value)
    if not found.ok and cached:
        # A field or option renamed or added since the board was read (the rules often
        # change with it): read it again before telling the maintainers it is missing.
        # (A board not found stays so for the cache's life.)
        found = _check(await _board(gh, installation, owner, number, fresh=True), owner, number, field, value)
    return found


def _named(nodes: Any, name: str) -> dict | None:
    """The node called ``name``: spelt so, else ignoring case (the executor's lookup)."""
    nodes = [n for n in nodes or () if n and n.get("name")]
    return (next((n for n in nodes if n["name"] == name), None)
            or next((n for n in nodes if n["name"].casefold() == name.casefold()), None))


def _check(board: dict | None, owner: str, number: int, field: str, value: str | None) -> BoardCheck:
    where = f"{owner}#{number}"
    if board is None:
        return BoardCheck(False, f"the project board {where} does not exist or the app cannot see it",
                          f"board:{where}")
    if not value:
        return BoardCheck(True, solved=(f"board:{where}",))
    single_selects = [n for n in (board.get("fields") or {}).get("nodes") or () if n and "options" in n]
    node = _named(single_selects, field)
    if node is None:
        return BoardCheck(False, f"the board {board.get('title')!r} ({where}) has no single-select field "
                                 f"{field!r}", f"field:{where}:{field}")
    if _named(node.get("options"), value) is None:
        return BoardCheck(False, f"the field {field!r} of board {board.get('title')!r} ({where}) has no "
                                 f"option {value!r}", f"option:{where}:{field}:{value}")
    return BoardCheck(True, solved=(f"board:{where}", f"field:{where}:{field}", f"option:{where}:{field}:{value}"))


def forget() -> None:
    _cache.clear()
