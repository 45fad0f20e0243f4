"""Repeating user text safely: no pings, no escaping the surrounding markdown."""
from __future__ import annotations

import re

_MENTION = re.compile(r"(?<![\w`])@(?=[A-Za-z0-9])")
_REF = re.compile(r"(?<![\w&])#(?=\d)")
_ZWJ = "\u200b"  # a zero-width space breaks GitHub's mention and reference parsing

_ESCAPE = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()+!|~"})


def neutralize(text: str, *, max_len: int = 300, inline: bool = True) -> str:
    """Make ``text`` inert inside a bot comment.

    Mentions (``@user``, ``@org/team``) and cross references (``#123``) get a
    zero-width space so they neither notify nor link; markdown and HTML are escaped
    so the text cannot close a table, open a code block or inject a hidden marker;
    line breaks become spaces when ``inline``.
    """
    text = text or ""
    if inline:
        text = " ".join(text.split())
    if len(text) > max_len:
        text = text[: max_len - 1] + "…"
    text = text.translate(_ESCAPE)
    text = _MENTION.sub("@" + _ZWJ, text)
    text = _REF.sub("#" + _ZWJ, text)
    return text


def mention(login: str) -> str:
    """A deliberate mention of a login the bot decided to ping (validated shape)."""
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9_.-]+)?(\[bot\])?", login):
        raise ValueError(f"not a GitHub login: {login!r}")
    return "@" + login


def code(text: str) -> str:
    """Inline code that cannot be broken out of (backticks in text get a longer fence)."""
    text = " ".join((text or "").split())
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
