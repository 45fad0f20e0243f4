"""Inline constructs of paragraph text that hide what they span, as CommonMark reads them:
link reference definitions, raw HTML (tags, processing instructions, declarations, CDATA)
and the tails of inline links (destination and title).

A line of a paragraph that starts inside one of them is not shown as the start of a line of
text: inside a tag's attribute value, a ``<?...?>``, a link's title or destination, a
definition. Each scanner is linear in what it reads, and the callers' scans together stay
linear in the paragraph (see each one's note): anyone can post a comment.
"""
from __future__ import annotations

import bisect
import re

__all__ = ["RawHtml", "definitions_end", "LinkTails"]


# One link reference definition at a paragraph's start: a label (not blank, at most 999
# characters, no unescaped brackets), a colon, a destination (perhaps on the next line), and a
# title (perhaps over several lines) or none, then the end of a line. A paragraph has no blank
# lines, so none is looked for. Indentation is not checked (the paragraph has its first
# line's removed; cmark allows it on the next definitions' lines). The raw destination is
# taken up to whitespace, parentheses unchecked: a destination cmark refuses only makes more
# text a definition, the safe side. Whitespace is matched one way only (no backtracking
# through a long run of it: that would be quadratic).
_LABEL = r"[ \t]*\[(?P<label>(?:[^\\\[\]]|\\.){0,999})\]:"
_SPNL = r"[ \t]*(?:\n[ \t]*)?"
_DESTINATION = r"(?:<(?:[^<>\n\\]|\\.)*>|\S+)"
_TITLE = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\))"""
_LINE_END = r"[ \t]*(?:\n|\Z)"
_TITLED = rf"(?:[ \t]+(?:\n[ \t]*)?|\n[ \t]*){_TITLE}{_LINE_END}"  # whitespace, then a title
_DEFINITION = re.compile(rf"{_LABEL}{_SPNL}{_DESTINATION}(?:{_TITLED}|{_LINE_END})", re.S)


def definitions_end(text: str) -> int:
    """Where the link reference definitions that ``text`` (a paragraph, without its first
    line's indentation) starts with end: at the start of a line, or at the end of ``text``.
    GitHub shows nothing of them.

    Linear: each definition is matched once; a title that fails to close may be scanned to
    the end of the paragraph, but only once, as the definition then ends before it (on the
    destination's line) and the next line, starting with a quote, starts no definition."""
    end = 0
    while (m := _DEFINITION.match(text, end)) and m.group("label").strip():
        end = m.end()
    return end


_TAG_OPEN_NAME = re.compile(r"<[A-Za-z][A-Za-z0-9-]*")
_TAG_CLOSING = re.compile(r"</[A-Za-z][A-Za-z0-9-]*\s*>")
_TAG_END = re.compile(r"\s*/?>")
_GAP = re.compile(r"\s*")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_.:-]*")
_ATTRIBUTE_VALUE = re.compile(r"""\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*")""")


class RawHtml:
    """Raw HTML in one paragraph's text (comments apart): ``end(i)`` is where the tag,
    processing instruction, declaration or CDATA section starting at ``i`` ends, or -1 when
    none does. All may span lines; a browser shows none of their text.

    Linear over all calls: once a ``<?``, ``<!X`` or ``<![CDATA[`` has no end after it, no
    later one has; an open tag's attributes are read from positions remembered with their
    outcome (two tags reaching the same position end alike), so no attribute is read twice."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.unclosed: set[str] = set()   # the ends known to occur no more
        self.after_attribute: dict[int, int] = {}

    def end(self, i: int) -> int:
        text = self.text
        if text.startswith("<?", i):
            return self._through(i + 2, "?>")
        if text.startswith("<![CDATA[", i):
            return self._through(i + 9, "]]>")
        if text.startswith("<!", i) and text[i + 2:i + 3].isascii() and text[i + 2:i + 3].isalpha():
            return self._through(i + 3, ">")
        if m := _TAG_CLOSING.match(text, i):
            return m.end()
        if m := _TAG_OPEN_NAME.match(text, i):
            return self._open_tag_end(m.end())
        return -1

    def _through(self, start: int, closer: str) -> int:
        if closer in self.unclosed:
            return -1
        found = self.text.find(closer, start)
        if found < 0:
            self.unclosed.add(closer)
            return -1
        return found + len(closer)

    def _open_tag_end(self, pos: int) -> int:
        text, known = self.text, self.after_attribute
        path = []
        while True:
            if pos in known:
                end = known[pos]
                break
            path.append(pos)
            if m := _TAG_END.match(text, pos):
                end = m.end()
                break
            gap = _GAP.match(text, pos).end()
            name = _ATTRIBUTE_NAME.match(text, gap) if gap > pos else None
            if name is None:
                end = -1
                break
            pos = name.end()
            if value := _ATTRIBUTE_VALUE.match(text, pos):
                pos = value.end()
        for p in path:
            known[p] = end
        return end


_TAIL_SPACE = re.compile(_SPNL)
_ANGLE_DESTINATION = re.compile(r"<(?:[^<>\n\\]|\\.)*>")
_TAIL_TITLE = re.compile(_TITLE, re.S)
_WHITESPACE = re.compile(r"\s")


class LinkTails:
    """Inline link tails in one paragraph's text: ``end(i)``, with ``i`` just after the
    ``](``, is where the tail (destination, title, ``)``) ends, or -1 when there is none.

    Read generously, on the safe side: a raw destination runs to whitespace (cmark also ends
    it at an unbalanced ``)``, but then the link ends on that line, and no line starts in its
    tail). Linear over all calls: a destination's end is looked up, and what follows it read
    once per end."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spaces = [m.start() for m in _WHITESPACE.finditer(text)]
        self.parens = [m.start() for m in re.finditer(r"\)", text)]
        self.after_destination: dict[int, int] = {}

    def end(self, i: int) -> int:
        text = self.text
        start = _TAIL_SPACE.match(text, i).end()
        if text.startswith(")", start):
            return start + 1
        if m := _ANGLE_DESTINATION.match(text, start):
            return self._after_destination(m.end())
        k = bisect.bisect_left(self.spaces, start)
        destination_end = self.spaces[k] if k < len(self.spaces) else len(text)
        end = self._after_destination(destination_end)
        if end < 0 and self._paren_between(start, destination_end):
            # cmark may end the destination, and the link, at that ")": on this line.
            return destination_end
        return end

    def _paren_between(self, start: int, end: int) -> bool:
        k = bisect.bisect_left(self.parens, start)
        return k < len(self.parens) and self.parens[k] < end

    def _after_destination(self, pos: int) -> int:
        if pos not in self.after_destination:
            self.after_destination[pos] = self._read_after_destination(pos)
        return self.after_destination[pos]

    def _read_after_destination(self, pos: int) -> int:
        text = self.text
        space = _TAIL_SPACE.match(text, pos).end()
        if space > pos and (title := _TAIL_TITLE.match(text, space)):
            after = _TAIL_SPACE.match(text, title.end()).end()
            if text.startswith(")", after):
                return after + 1
        if text.startswith(")", space):
            return space + 1
        return -1
