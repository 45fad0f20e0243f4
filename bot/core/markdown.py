"""Repeating user text safely: no pings, no escaping the surrounding markdown."""
from __future__ import annotations

import re

# GitHub's mention filter treats only ASCII letters, digits and "_" as word characters, and an
# escaped backtick is a literal one: anything else before "@" lets the mention through.
_MENTION = re.compile(r"(?<![A-Za-z0-9_])@(?=[A-Za-z0-9])")
_REF = re.compile(r"(?<![\w&])#(?=\d)")
_ZWJ = "\u200b"  # a zero-width space breaks GitHub's mention and reference parsing

# "&" too: an entity such as "&#64;" would otherwise render as "@" and ping.
_ESCAPE = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()+!|~&"})


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


# A login (letters, digits, hyphens; Enterprise Managed Users add "_shortcode"), a bot's
# "[bot]" suffix, or org/team.
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:_[A-Za-z0-9]{1,20})?(?:\[bot\])?(?:/[A-Za-z0-9_.-]+)?")


def is_login(text: str) -> bool:
    """Whether ``text`` is shaped like a GitHub login (or org/team)."""
    return bool(_LOGIN.fullmatch(text or ""))


def mention(login: str) -> str:
    """A deliberate mention of a login the bot decided to ping. Anything not shaped like a
    login is shown inert in a code span instead: a reply or check must never be lost (nor
    the work around it) because one name in it looked odd."""
    if not is_login(login):
        return code(login)
    return "@" + login


def code(text: str) -> str:
    """Inline code that cannot be broken out of (backticks in text get a longer fence).

    HTML comment delimiters get a zero-width space: a code span's raw text is still searched
    for the bot's hidden markers, so it must not carry one."""
    text = " ".join((text or "").split()).replace("<!--", "<\u200b!--").replace("-->", "--\u200b>")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def cell(markdown: str) -> str:
    """Inline markdown made safe for a table cell: GitHub splits cells on every bare ``|``,
    even inside a code span, so a path like ``x| ✅ verified |.patch`` would forge columns.
    An escaped ``\\|`` is a literal pipe in a cell, code spans included (GFM's table rule).
    ``neutralize`` already escapes pipes; this is for ``code`` spans and trusted text."""
    return re.sub(r"(?<!\\)\|", r"\\|", markdown or "")
