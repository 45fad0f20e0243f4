"""Slash commands in comment text: which lines are commands, and their arguments.

A command is a line whose first character (after at most three spaces) is ``/``
followed by a name, then whitespace or the end of the line: ``/label "good first
issue" docs``. Several commands may share a comment, one per line.

Only text a reader sees as the commenter's own prose counts, so the parser follows
the markdown block structure (CommonMark, as GitHub renders it):

- fenced code (```` ``` ```` and ``~~~``, also inside list items) and indented code;
- block quotes, including their lazy continuation lines (``> quoted`` followed
  directly by ``/close`` renders as one quoted paragraph, so it is quoted; only a
  paragraph continues so, not a quoted heading, code block or thematic break);
- HTML comments, on one line or many, as blocks or inline, and ``<pre>``-like blocks; a
  comment block whose last line opens another comment (``<!-- a --> <!-- b``), or a list
  item's block ending with the item before its ``-->``, hides what follows, as a browser
  does, up to the next comment block;
- inline code spans, which may span lines inside a paragraph (not past a heading, thematic
  break or setext underline, which end it).

Paths such as ``/usr/bin`` or ``/close.`` are not commands: the name must end at
whitespace. Line ends may be ``\\n``, ``\\r\\n`` or ``\\r``. A command line longer
than ``MAX_LINE`` is reported but not read. The module is pure, and linear in the text:
anyone can post a comment, and it is parsed before any role is checked.
"""
from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass

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
_FENCE_OPEN = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_LIST_MARKER = re.compile(r"( {0,3})([-*+]|\d{1,9}[.)])( {1,4}|$)")
_QUOTE_PREFIX = re.compile(r"(?: {0,3}> ?)+")
_BLANK = re.compile(r"[ \t]*")
_ATX_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_THEMATIC_BREAK = re.compile(r" {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})")
_SETEXT_UNDERLINE = re.compile(r" {0,3}(?:=+|-+)[ \t]*")
_FAR = 1 << 62  # sorts after any end offset in (start, end) bisection
# HTML blocks whose content is shown verbatim (CommonMark type 1): like code.
_RAW_HTML = re.compile(r" {0,3}<(pre|script|style|textarea)(?=[\s>]|$)", re.I)


@dataclass
class _Fence:
    char: str
    length: int
    base: int    # column of the container's content (a list item's), 0 at top level
    quotes: int = 0  # in a block quote: how deep (how many ">" before it)


def _expand_tabs(line: str) -> str:
    """Leading tabs count as tab stops of four, as in CommonMark."""
    if "\t" not in line:
        return line
    lead = len(line) - len(line.lstrip(" \t"))
    return line[:lead].expandtabs(4) + line[lead:]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _closes(fence: _Fence, line: str) -> bool:
    rest = line[fence.base:] if _indent(line) >= fence.base else line
    m = _FENCE_CLOSE.fullmatch(rest)
    return bool(m) and m.group(1)[0] == fence.char and len(m.group(1)) >= fence.length


def _opens_fence(content: str) -> _Fence | None:
    m = _FENCE_OPEN.fullmatch(content)
    if not m:
        return None
    marker, info = m.group(2), m.group(3)
    if marker[0] == "`" and "`" in info:  # not a fence: an inline code span
        return None
    return _Fence(marker[0], len(marker), 0)


def _quoted_paragraph(inner: str, continuing: bool, in_list: bool) -> bool:
    """Whether a quoted line (``inner``: what follows its ``>`` markers) is paragraph text,
    which the next, unquoted line may continue lazily. When unsure it is: a quoted command
    that runs is worse than a command missed."""
    if _BLANK.fullmatch(inner):
        return False
    if _indent(inner) >= 4:
        # Indented code, unless it continues the paragraph (or a list item's, whose
        # column is not tracked inside quotes).
        return continuing or in_list
    return not (inner.lstrip().startswith("<!--") or _ATX_HEADING.match(inner)
                or _THEMATIC_BREAK.fullmatch(inner) or _RAW_HTML.match(inner))


def _interrupts_paragraph(line: str, list_item: bool) -> bool:
    """Whether an unquoted line after a quoted paragraph starts a block (closing the quote)
    instead of continuing that paragraph lazily. A list item always does there, even an
    empty one or one not numbered 1 (as cmark and GitHub render it).

    Judged on the whole line: which list items are still open after a quote is not tracked,
    and a line indented four or more may only continue the paragraph."""
    if _indent(line) > 3:
        return False
    return bool(list_item or _opens_fence(line) or line.lstrip().startswith("<!--")
                or _ATX_HEADING.match(line) or _THEMATIC_BREAK.fullmatch(line)
                or _RAW_HTML.match(line))


def _leaves_comment_open(html: str) -> bool:
    """Whether the last line of an HTML block leaves a comment open: its last ``<!--`` comes
    after its last ``-->`` (an earlier opener is closed by that ``-->``, and ``<!-->`` is an
    empty comment). The block ends there, but a browser hides what follows up to the next
    ``-->`` of raw HTML (in paragraph text ``>`` is escaped), so all is hidden up to the next
    comment block. Other raw HTML might close it sooner: hiding more only misses commands."""
    return html.rfind("<!--") > html.rfind("-->")


def _paragraphs(text: str) -> list[list[str]]:
    """The paragraph text of ``text``: lines outside code, quotes and HTML comment blocks,
    grouped into paragraphs (inline code and inline comments may span their lines)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraphs: list[list[str]] = []
    para: list[str] = []
    fence: _Fence | None = None
    quote_fence: _Fence | None = None
    in_comment = False          # in an HTML comment block (it ends at a line with "-->")
    comment_base = 0            # the column of the list item holding that block, 0 at top level
    comment_left_open = False   # a block left a comment open: hidden up to the next comment block
    raw_end: str | None = None  # the closing tag of an open <pre>-like block
    quote_lazy = False          # the last line was a quoted paragraph line
    quote_list = False          # the open block quote holds a list (its columns are not tracked)
    after_blank = True
    lists: list[int] = []       # content columns of the open list items
    para_base = 0               # the column of the container of the open paragraph

    def flush() -> None:
        nonlocal para
        if para:
            paragraphs.append(para)
        para = []

    i = 0
    while i < len(lines):
        line = _expand_tabs(lines[i])
        i += 1
        blank = _BLANK.fullmatch(line) is not None
        if fence is not None:
            # A list item's fence also ends where the item ends (a less indented line).
            if not blank and fence.base and _indent(line) < fence.base:
                fence = None
            elif _closes(fence, line):
                fence = None
                continue
            else:
                continue
        if in_comment and not blank and _indent(line) < comment_base:
            in_comment, comment_left_open = False, True  # the item ends, and its block, not the comment
        elif in_comment:
            if "-->" in line:
                in_comment, comment_left_open = False, _leaves_comment_open(line)
            continue
        if raw_end is not None:
            raw_end = None if raw_end in line.lower() else raw_end
            continue
        if blank:
            flush()
            quote_lazy, quote_fence, quote_list, after_blank = False, None, False, True
            continue
        indent = _indent(line)
        if after_blank:
            while lists and indent < lists[-1]:
                lists.pop()
        base = lists[-1] if lists and indent >= lists[-1] else 0
        content = line[base:]
        if _ATX_HEADING.match(content) or _THEMATIC_BREAK.fullmatch(content) \
                or (para and base == para_base and _SETEXT_UNDERLINE.fullmatch(content)):
            # A heading or break is a block of its own, and a setext underline (in the
            # paragraph's container: it is never lazy) ends its paragraph: no code span pairs a
            # backtick across it.
            flush()
            quote_lazy, quote_fence, quote_list = False, None, False
            continue
        marker = _LIST_MARKER.match(content)
        if marker:
            column = base + marker.end() if marker.group(3) else base + marker.end() + 1
            lists.append(column)
            base, content = column, line[column:] if len(line) > column else ""
        after_blank = False

        quote = _QUOTE_PREFIX.match(content)
        if quote:
            flush()
            inner = content[quote.end():]
            depth = quote.group().count(">")
            if quote_fence is not None and depth < quote_fence.quotes:
                quote_fence = None  # a shallower quote line closes the deeper quote and its fence
            if quote_fence is not None:
                if _FENCE_CLOSE.fullmatch(inner) and inner.strip()[0] == quote_fence.char \
                        and len(inner.strip()) >= quote_fence.length:
                    quote_fence = None
                quote_lazy = False
                continue
            quote_fence = _opens_fence(inner)
            if quote_fence is not None:
                quote_fence.quotes = depth
            quote_list = quote_list or _LIST_MARKER.match(inner) is not None
            quote_lazy = quote_fence is None and _quoted_paragraph(inner, quote_lazy, quote_list)
            continue
        quote_fence = None
        if quote_lazy and not para and not _interrupts_paragraph(line, marker is not None):
            continue  # lazy continuation: still the quoted paragraph
        quote_lazy = quote_list = False

        opened = _opens_fence(content) if _indent(content) <= 3 else None
        if opened is not None:
            flush()
            opened.base = base
            fence = opened
            continue
        if _indent(content) >= 4 and not para:
            # Indented code (it cannot interrupt a paragraph; then it is a continuation).
            continue
        if content.lstrip().startswith("<!--") and _indent(content) <= 3:
            flush()
            in_comment, comment_base = "-->" not in content, base
            comment_left_open = not in_comment and _leaves_comment_open(content)
            continue
        raw = _RAW_HTML.match(content)
        if raw:
            flush()
            end = f"</{raw.group(1).lower()}>"
            raw_end = None if end in content.lower() else end
            continue
        if not comment_left_open:
            if not para:
                para_base = base
            para.append(line)
    flush()
    return paragraphs


def _hidden_spans(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(code spans, HTML comments) in paragraph text, as [start, end) offsets.

    No opener makes a scan to the end of the text: a code span closes at the next backtick
    run of its length (looked up among all runs, listed once), and once one ``<!--`` has no
    ``-->`` after it, no later one has."""
    code: list[tuple[int, int]] = []
    comments: list[tuple[int, int]] = []
    runs: dict[int, list[int]] = {}  # length -> starts of the backtick runs that long
    for m in re.finditer(r"`+", text):
        runs.setdefault(m.end() - m.start(), []).append(m.start())
    comments_close = True
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "`":
            j = i
            while j < n and text[j] == "`":
                j += 1
            run = j - i
            starts = runs[run] if run in runs else []
            k = bisect.bisect_left(starts, j)
            if k < len(starts):
                code.append((i, starts[k] + run))
                i = starts[k] + run
            else:
                i = j  # an unmatched run is literal backticks
            continue
        if comments_close and text.startswith("<!--", i):
            # "<!-->" and "<!--->" are empty comments (in HTML and CommonMark 0.31).
            empty = 5 if text.startswith(">", i + 4) else 6 if text.startswith("->", i + 4) else 0
            end = i + empty - 3 if empty else text.find("-->", i + 4)
            if end >= 0:
                comments.append((i, end + 3))
                i = end + 3
                continue
            comments_close = False
        i += 1
    return code, comments


def _inside(offset: int, spans: list[tuple[int, int]]) -> bool:
    """Whether ``offset`` is in one of ``spans`` (sorted, not overlapping)."""
    k = bisect.bisect_right(spans, (offset, _FAR)) - 1
    return k >= 0 and spans[k][0] <= offset < spans[k][1]


def _without(line_start: int, line: str, spans: list[tuple[int, int]]) -> str:
    """``line`` with the parts covered by ``spans`` (paragraph offsets) removed."""
    end = line_start + len(line)
    k = max(bisect.bisect_right(spans, (line_start, _FAR)) - 1, 0)
    kept, pos = [], line_start
    while k < len(spans) and spans[k][0] < end:
        lo, hi = spans[k]
        if hi > pos:
            kept.append(line[max(pos, line_start) - line_start:max(lo, pos) - line_start])
            pos = max(pos, hi)
        k += 1
    if pos < end:
        kept.append(line[pos - line_start:])
    return "".join(kept)


def parse_commands(text: str | None) -> list[ParsedCommand]:
    """Every command in ``text``, in order."""
    found: list[ParsedCommand] = []
    for para in _paragraphs(text or ""):
        joined = "\n".join(para)
        code, comments = _hidden_spans(joined)
        offset = 0
        for line in para:
            first = offset + _indent(line)
            start = offset
            offset += len(line) + 1
            if _inside(first, code) or _inside(first, comments):
                continue
            visible = _without(start, line, comments)
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
