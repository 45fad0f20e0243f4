"""Slash commands in comment text: which lines are commands, and their arguments.

A command is a line whose first character (after at most three spaces) is ``/``
followed by a name, then whitespace or the end of the line: ``/label "good first
issue" docs``. Several commands may share a comment, one per line.

Only text a reader sees as the commenter's own prose counts: code, quotes, HTML, headings
and the rest are left out as ``bot.core.markdown_prose`` reads the markdown (CommonMark, as
GitHub renders it).

Paths such as ``/usr/bin`` or ``/close.`` are not commands: the name must end at
whitespace (or at a backslash ending the line: a hard line break). Line ends may be
``\\n``, ``\\r\\n`` or ``\\r``. A command line longer than ``MAX_LINE`` is reported but not
read. The module is pure, and linear in the text: anyone can post a comment, and it is
parsed before any role is checked.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .markdown_prose import prose_lines

__all__ = ["MAX_LINE", "ParsedCommand", "parse_commands", "new_commands", "split_args"]


# Longer command lines are not read: no command needs this much, and one comment (GitHub
# allows 65,536 characters) should not make the bot split and echo kilobytes.
MAX_LINE = 1000


@dataclass(frozen=True)
class ParsedCommand:
    name: str               # lower case, without the slash
    args: tuple[str, ...]   # empty when the line is too long to read
    line: str               # the visible command line, stripped

    @property
    def too_long(self) -> bool:
        return len(self.line) > MAX_LINE

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        # A line too long to read has no arguments: its text tells two such lines apart.
        return (self.name, (self.line,) if self.too_long else self.args)


_COMMAND = re.compile(r" {0,3}/([A-Za-z][A-Za-z0-9_-]*)(?=\s|$)(.*)")


def parse_commands(text: str | None) -> list[ParsedCommand]:
    """Every command in ``text``, in order."""
    found: list[ParsedCommand] = []
    for visible, broken in prose_lines(text or ""):
        m = _COMMAND.match(visible)
        if not m and broken and (len(visible) - len(visible.rstrip("\\"))) % 2:
            # "/close\" then a line break: the backslash is a hard break, not shown.
            visible = visible[:-1]
            m = _COMMAND.match(visible)
        if not m:
            continue
        stripped = visible.strip()
        args = split_args(m.group(2)) if len(stripped) <= MAX_LINE else ()
        found.append(ParsedCommand(m.group(1).lower(), args, stripped))
    return found


def new_commands(text: str | None, previous: str | None) -> list[ParsedCommand]:
    """Commands of an edited comment that its previous version did not have
    (compared as name and arguments, counting repeats)."""
    before = Counter(c.key for c in parse_commands(previous))
    fresh = []
    for command in parse_commands(text):
        if before[command.key] > 0:
            before[command.key] -= 1
        else:
            fresh.append(command)
    return fresh


def split_args(text: str) -> tuple[str, ...]:
    """Whitespace-separated arguments; "double" or 'single' quotes group words, and a
    backslash escapes a quote inside double quotes. An unmatched quote is literal, so
    ``/hold can't merge yet`` still reads as three words.

    Linear in ``len(text)``: whether a quote is matched is known from the last closer of its
    kind (found once, up front), so an unmatched quote costs no scan to the end of the line."""
    last = {'"': _last_double_closer(text), "'": text.rfind("'")}
    args: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        word: list[str] = []
        quoted = False
        while i < n and not text[i].isspace():
            c = text[i]
            if c in "\"'" and i < last[c]:
                # Matched: the scan to its closer consumes the quoted text, so no character
                # is scanned twice.
                end = _closing_quote(text, i)
                inner = text[i + 1:end]
                if c == '"':
                    inner = re.sub(r'\\(["\\])', r"\1", inner)
                word.append(inner)
                quoted = True
                i = end + 1
                continue
            word.append(c)
            i += 1
        if word or quoted:
            args.append("".join(word))
    return tuple(args)


def _last_double_closer(text: str) -> int:
    """Offset of the last ``"`` that can close a double-quoted argument, or -1.

    A ``"`` is escaped when an odd run of backslashes precedes it. The run is the same from
    any opening quote before it (the opening ``"`` is not a backslash, so a scan from just
    after it pairs the run's backslashes as they are paired here): every opening ``"``
    before this offset is matched, and none after it."""
    end = len(text)
    while (q := text.rfind('"', 0, end)) >= 0:
        j = q
        while j > 0 and text[j - 1] == "\\":
            j -= 1
        if (q - j) % 2 == 0:
            return q
        end = j  # only backslashes between j and q: no quote to look at there
    return -1


def _closing_quote(text: str, start: int) -> int:
    """The offset of the quote that closes the one at ``start`` (the caller knows there is one)."""
    quote = text[start]
    if quote == "'":
        return text.index("'", start + 1)
    i = start + 1
    while text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return i
