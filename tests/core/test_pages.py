"""Reading a GraphQL connection page after page, and stopping when it should."""
from __future__ import annotations

from bot.core.pages import dig, pages


def answer(nodes, *, next_page: bool, cursor: str | None):
    return {"board": {"fields": {"nodes": nodes, "pageInfo": {"hasNextPage": next_page, "endCursor": cursor}}}}


async def read(script: dict):
    asked, seen = [], []

    async def fetch(after):
        asked.append(after)
        return script[after]
    async for data in pages(fetch, "board", "fields"):
        seen += dig(data, "board", "fields", "nodes")
    return asked, seen


async def test_every_page_is_read_with_the_cursor_of_the_one_before():
    asked, seen = await read({None: answer([1, 2], next_page=True, cursor="c2"),
                              "c2": answer([3, 4], next_page=True, cursor="c4"),
                              "c4": answer([5], next_page=False, cursor="c5")})
    assert asked == [None, "c2", "c4"] and seen == [1, 2, 3, 4, 5]


async def test_an_answer_without_page_info_is_the_only_page():
    asked, seen = await read({None: {"board": {"fields": {"nodes": [1]}}}})
    assert asked == [None] and seen == [1]


async def test_a_cursor_seen_before_or_missing_ends_the_reading():
    looping = {None: answer([1], next_page=True, cursor="a"), "a": answer([2], next_page=True, cursor="b"),
               "b": answer([3], next_page=True, cursor="a")}
    assert await read(looping) == ([None, "a", "b"], [1, 2, 3])
    assert await read({None: answer([1], next_page=True, cursor=None)}) == ([None], [1])


def test_dig_stops_at_a_missing_or_null_step():
    assert dig({"a": {"b": 1}}, "a", "b") == 1
    assert dig({"a": None}, "a", "b") is None and dig(None, "a") is None and dig({"a": [1]}, "a", "b") is None
