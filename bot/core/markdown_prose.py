"""Markdown prose: the lines of a comment a reader sees as its author's own paragraph text.

The text is read as CommonMark blocks and inlines (as GitHub renders them), and these are
not prose:

- fenced code (```` ``` ```` and ``~~~``, also inside list items) and indented code;
- block quotes, including their lazy continuation lines (``> quoted`` followed
  directly by ``/close`` renders as one quoted paragraph, so it is quoted; only a
  paragraph continues so, not a quoted heading, code block, HTML block, empty list item or
  thematic break), also quotes opened after list markers (``- - > a``);
- HTML blocks of CommonMark's seven kinds (comments, ``<pre>``-like blocks, ``<div>`` and
  other block tags, a line holding one lone tag, ...), their text raw HTML, not prose; a
  comment such a block leaves open (``<!-- a --> <!-- b``, a list item's block ending
  with the item before its ``-->``, or a quoted one ending with the quote) hides what
  follows, as a browser does, up to the next ``-->`` in raw HTML;
- text in a ``<pre>``, ``<code>``, ``<tt>``, ``<kbd>`` or ``<samp>`` that paragraph text or
  an HTML block opened and left open (``Log: <pre>``), up to its end tag or the end of the
  list item holding it: it is shown preformatted, like code;
- headings, ATX or setext (``/close`` underlined by ``===``);
- link reference definitions at a paragraph's start (``[x]:``, a destination perhaps on the
  next line, a title perhaps over several): GitHub shows nothing of them;
- inline code spans and comments, which may span lines inside a paragraph (not past a
  heading, thematic break or setext underline, which end it); a comment's line break is
  hidden with it, so ``/close<!--`` then ``-->text`` shows ``/closetext``;
- a line starting inside other raw HTML (a tag's attributes, ``<?...?>``, ``<![CDATA[...]]>``,
  ``<!X...>``) or inside brackets (link text, image alt text) or a link's destination and
  title, all of which may span lines (``bot.core.markdown_inline`` reads them);
- a line nested in more than ``_MAX_NESTING`` list items and quotes, and what follows it up
  to a blank line.

What is left, line by line, is what ``prose_lines`` yields: each paragraph line that starts
in shown text, as shown. Pure, and linear in the text: anyone can post a comment, and it is
read before any role is checked.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .markdown_inline import LinkTails, RawHtml, definitions_end

__all__ = ["prose_lines"]


_FENCE_OPEN = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_LIST_MARKER = re.compile(r"( {0,3})([-*+]|\d{1,9}[.)])( {1,4}|$)")
_QUOTE_PREFIX = re.compile(r"(?: {0,3}> ?)+")
_BLANK = re.compile(r"[ \t]*")
_ATX_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_THEMATIC_BREAK = re.compile(r" {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})")
_SETEXT_UNDERLINE = re.compile(r" {0,3}(?:=+|-+)[ \t]*")
_FAR = 1 << 62  # sorts after any end offset in (start, end) bisection
_COMMENT_CLOSE = re.compile(r"--!?>")  # as a browser ends a comment ("--!>" too)
# Elements whose text is shown as code, kept open across lines (and paragraphs) by a browser:
# <pre>, and the inline <code>, <tt>, <kbd>, <samp>. A browser carries an open <code> or <tt>
# into the following paragraphs (it reopens formatting elements); a <kbd> or <samp> ends with
# the paragraph opening it, but one an HTML block opens holds what follows. All are carried
# here: a command missed is the lesser error.
_PREFORMATTED = "pre|code|tt|kbd|samp"
# Outside comments, what a browser keeps open across lines: comments ("<!-->" and "<!--->"
# are empty ones) and those elements; and what hides their tags: other "<!" and "<?" open a
# bogus comment, up to the next ">".
_HTML_OPENERS = re.compile(
    rf"<!--(?:-?>)?|<[!?]|<(?:{_PREFORMATTED})(?=[\s/>]|$)|</(?:{_PREFORMATTED})\s*>", re.I)
_TAG_NAME_AT = re.compile(r"</?([A-Za-z0-9]+)")
Open = dict[str, int]  # the open preformatting elements, by name: how many of each
# Nested containers read on one line ("- - > a"); markdown-it stops at 20, and a bound keeps
# each line's work linear. cmark-gfm (GitHub) has no limit, so a line nested deeper is read
# as hidden, with the lines that would continue it lazily (as if it were a quoted paragraph):
# failing closed, since what such a line holds is not known.
_MAX_NESTING = 64

# HTML blocks (CommonMark's seven kinds): their text is raw HTML, never paragraph text, from a
# line starting so to the line matching the end (or, for the last two, to a blank line).
_ENDS_AT_BLANK = re.compile(r"(?!)")
_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|"
    "dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|"
    "header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|"
    "param|search|section|source|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul")
_ATTRIBUTE = r"""(?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)"""
_HTML_BLOCKS = [
    (re.compile(r"<(?:pre|script|style|textarea)(?=[\s>]|$)", re.I),
     re.compile(r"</(?:pre|script|style|textarea)>", re.I)),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
    (re.compile(rf"</?(?:{_BLOCK_TAGS})(?=\s|/?>|$)", re.I), _ENDS_AT_BLANK),
]
# The seventh: a line holding one whole open or closing tag. It cannot interrupt a paragraph.
_HTML_TAG_LINE = re.compile(
    rf"(?:<[A-Za-z][A-Za-z0-9-]*{_ATTRIBUTE}*\s*/?>|</[A-Za-z][A-Za-z0-9-]*\s*>)\s*")
# Their tags in paragraph text (inline HTML: whole tags only, others are shown as text).
_INLINE_PRE = re.compile(
    rf"<(?:{_PREFORMATTED}){_ATTRIBUTE}*\s*/?>|</(?:{_PREFORMATTED})\s*>", re.I)


@dataclass
class _Paragraph:
    lines: list[str]
    text: str                       # the lines joined
    code: list[tuple[int, int]]     # its code spans, comments, <pre>-like elements and
    comments: list[tuple[int, int]]  # other markup (raw HTML, links), as [start, end)
    pre: list[tuple[int, int]]      # offsets in text
    markup: list[tuple[int, int]]


@dataclass
class _Fence:
    char: str
    length: int
    base: int    # column of the container's content (a list item's), 0 at top level
    quotes: int = 0  # in a block quote: how deep (how many ">" before it)


def _expand_tabs(line: str) -> str:
    """Tabs among a line's leading spaces, quote and list markers count as tab stops of four,
    as in CommonMark (so ``>``, a tab and a fence is a quoted fence)."""
    if "\t" not in line:
        return line
    lead = _CONTAINER_PREFIX.match(line).end()
    return line[:lead].expandtabs(4) + line[lead:]


_CONTAINER_PREFIX = re.compile(r"(?:[ \t>]|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))*")


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


def _containers(text: str) -> tuple[str, int, bool] | None:
    """``text`` without the quote and list markers it opens with (``- > 1. a``): what
    follows them, how many ``>`` there are, and whether a list item starts there; None when
    they nest deeper than ``_MAX_NESTING``."""
    quotes, item = 0, False
    for _ in range(_MAX_NESTING):
        if m := _QUOTE_PREFIX.match(text):
            quotes += m.group().count(">")
        elif (m := _LIST_MARKER.match(text)) and not _THEMATIC_BREAK.fullmatch(text):
            item = True
        else:
            return text, quotes, item
        text = text[m.end():]
    return None


def _html_block(content: str, continuing: bool) -> re.Pattern[str] | None:
    """What ends the HTML block that ``content`` (indented at most three spaces) starts, or
    None when it starts none. A line holding a lone tag cannot interrupt a paragraph, so it
    starts none when one is ``continuing``."""
    text = content.lstrip(" ")
    if not text.startswith("<"):
        return None
    for start, end in _HTML_BLOCKS:
        if start.match(text):
            return end
    return _ENDS_AT_BLANK if not continuing and _HTML_TAG_LINE.fullmatch(text) else None


def _read_html(html: str, comment: bool, pre: Open) -> tuple[bool, Open]:
    """What a browser has open after the raw HTML ``html``, given what was open before it:
    a comment, and the preformatting elements (``<pre>``, ``<code>``...). A comment left open
    runs on through what follows, paragraphs too, up to the next ``-->`` of raw HTML (in
    paragraph text ``>`` is escaped); text in an open ``<pre>`` or ``<code>`` is shown like
    code, up to its end tag (another's does not end it)."""
    i = 0
    while m := (_COMMENT_CLOSE if comment else _HTML_OPENERS).search(html, i):
        token, i = m.group(), m.end()
        if comment:
            comment = False
        elif token.startswith("<!--"):
            comment = not token.endswith(">")
        elif token in ("<!", "<?"):
            # A bogus comment: an end tag in it ends nothing. (Left open, it ends at the next
            # tag GitHub writes, before any paragraph: it is not carried.)
            end = html.find(">", i)
            i = len(html) if end < 0 else end + 1
        else:
            pre = _tag_counted(pre, token)
    return comment, pre


def _tag_counted(pre: Open, tag: str) -> Open:
    """``pre`` after the start or end tag ``tag`` of a preformatting element."""
    name = _TAG_NAME_AT.match(tag).group(1).lower()
    depth = pre.get(name, 0) + (-1 if tag.startswith("</") else 1)
    return {k: v for k, v in pre.items() if k != name} | ({name: depth} if depth > 0 else {})


def _formatting(pre: Open) -> Open:
    """What of ``pre`` outlasts the list item holding it: ``<code>`` and ``<tt>``, which a
    browser reopens after the item (formatting elements), not ``<pre>``, ``<kbd>``, ``<samp>``."""
    return {k: v for k, v in pre.items() if k in ("code", "tt")}


def _read_html_opened(html: str, comment: bool, pre: Open) -> tuple[bool, Open]:
    """``comment`` and ``pre`` with whatever ``html`` may open, read as raw HTML, and nothing
    closed: for a line whose blocks are not known, the safe side."""
    opened_comment, opened = _read_html(html, False, {})
    return comment or opened_comment, _carried(pre, opened)


def _code_opened(text: str) -> Open:
    """The ``<code>`` and ``<tt>`` elements ``text`` (a heading's or quoted paragraph's, not
    read otherwise) leaves open: they outlast its block."""
    return _formatting(_read_html(text, False, {})[1])


def _carried(pre: Open, opened: Open) -> Open:
    """``pre`` with the elements ``opened`` also open."""
    return pre | {k: v + pre.get(k, 0) for k, v in opened.items()}


def _pre_spans(text: str, code: list[tuple[int, int]], comments: list[tuple[int, int]]
               ) -> tuple[list[tuple[int, int]], Open]:
    """The preformatting elements (``<pre>``, ``<code>``...) opened in paragraph text (not in
    its code or comments), as [start, end) offsets, and those still open at its end: they are
    carried past the paragraph."""
    spans: list[tuple[int, int]] = []
    pre: Open = {}
    start = 0
    for m in _INLINE_PRE.finditer(text):
        if _inside(m.start(), code) or _inside(m.start(), comments):
            continue
        was_open, pre = bool(pre), _tag_counted(pre, m.group())
        if pre and not was_open:
            start = m.start()
        elif was_open and not pre:
            spans.append((start, m.end()))
    if pre:
        spans.append((start, len(text)))
    return spans, pre


def _quoted_paragraph(leaf: str, continuing: bool, in_list: bool) -> bool:
    """Whether a quoted line (``leaf``: what follows its quote and list markers, not a fence
    or HTML) is paragraph text, which the next, unquoted line may continue lazily. When
    unsure it is: a quoted command that runs is worse than a command missed."""
    if _BLANK.fullmatch(leaf):
        return False  # a blank line, or an empty list item
    if _indent(leaf) >= 4:
        # Indented code, unless it continues the paragraph (or a list item's, whose
        # column is not tracked inside quotes).
        return continuing or in_list
    return not (_ATX_HEADING.match(leaf) or _THEMATIC_BREAK.fullmatch(leaf))


def _interrupts_paragraph(line: str, list_item: bool) -> bool:
    """Whether an unquoted line after a quoted paragraph starts a block (closing the quote)
    instead of continuing that paragraph lazily. A list item always does there, even an
    empty one or one not numbered 1 (as cmark and GitHub render it).

    Judged on the whole line: which list items are still open after a quote is not tracked,
    and a line indented four or more may only continue the paragraph."""
    if _indent(line) > 3:
        return False
    return bool(list_item or _opens_fence(line) or _html_block(line, continuing=True)
                or _ATX_HEADING.match(line) or _THEMATIC_BREAK.fullmatch(line))


def _item_interrupts(marker: re.Match[str], content: str) -> bool:
    """Whether a list item may start where the line would continue a paragraph: only a
    bullet or ``1.``, with text after it."""
    number = marker.group(2)[:-1]
    return (not number or number.lstrip("0") == "1") \
        and not _BLANK.fullmatch(content[marker.end():])


def _paragraphs(text: str) -> list[_Paragraph]:
    """The paragraph text of ``text``: lines outside code, quotes, headings and HTML blocks
    (and outside a comment or ``<pre>`` left open by raw HTML), grouped into paragraphs
    (inline code, comments and ``<pre>`` may span their lines)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraphs: list[_Paragraph] = []
    para: list[str] = []
    para_open = False           # a paragraph is open (hidden if a comment or <pre> is open)
    fence: _Fence | None = None
    quote_fence: _Fence | None = None
    html_end: re.Pattern[str] | None = None   # what ends the open HTML block
    html_base = 0               # the column of the list item holding that block, 0 at top level
    quote_html: re.Pattern[str] | None = None  # what ends the open HTML block in a quote
    quote_html_at = (0, 0, 0)   # and its quote's list column, depth (how many ">") and item
    comment_open = False        # the raw HTML so far leaves a comment open: text is hidden
    pre_open: Open = {}         # and <pre>, <code>...: text is shown as code, hidden too
    pre_base = 0                # the column of the list item holding them (it closes them)
    quote_lazy = False          # the last line was a quoted paragraph line
    quote_list = False          # the open block quote holds a list (its columns are not tracked)
    after_blank = True
    lists: list[int] = []       # content columns of the open list items, increasing
    para_base = 0               # the column of the container of the open paragraph

    def flush() -> None:
        nonlocal para, para_open, pre_open, pre_base
        if para:
            # Link reference definitions at its start are no text (cmark reads them when
            # the paragraph ends; they end at a line's end).
            text = "\n".join([para[0][para_base:].lstrip(" "), *para[1:]])
            end = definitions_end(text)
            del para[:len(para) if end == len(text) else text.count("\n", 0, end)]
        if para:
            joined = "\n".join(para)
            code, comments, markup = _hidden_spans(joined)
            pre, pre_open = _pre_spans(joined, code, comments)
            pre_base = para_base
            paragraphs.append(_Paragraph(para, joined, code, comments, pre, markup))
        para, para_open = [], False

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
        if html_end is not None:
            if not blank and _indent(line) < html_base:
                html_end = None  # the item ends, and its block (a comment in it stays open)
            elif blank and html_end is _ENDS_AT_BLANK:
                html_end = None
            else:
                was_open = pre_open
                comment_open, pre_open = _read_html(line, comment_open, pre_open)
                pre_base = pre_base if was_open else html_base
                if html_end.search(line):
                    html_end = None
                continue
        if pre_open and not blank and not para_open and _indent(line) < pre_base:
            # The list item holding the <pre> ends, and so does the <pre>.
            pre_open = _formatting(pre_open)
        if blank:
            flush()
            quote_lazy, quote_fence, quote_html, quote_list = False, None, None, False
            after_blank = True
            continue
        indent = _indent(line)
        if after_blank or not (para_open or quote_lazy):
            # Less indented than an item's content, and no lazy continuation: the item ended.
            while lists and indent < lists[-1]:
                lists.pop()
        k = bisect.bisect_right(lists, indent)
        base = lists[k - 1] if k else 0  # the innermost item holding the line
        content = line[base:]
        if para_open and base == para_base and _SETEXT_UNDERLINE.fullmatch(content):
            # An underline in the paragraph's container (it is never lazy) makes the paragraph
            # a heading: no command, and no code span pairs a backtick across it.
            para, para_open = [], False
            quote_lazy, quote_fence, quote_html, quote_list = False, None, None, False
            continue
        marker = _LIST_MARKER.match(content)
        if marker and para_open and not (indent < para_base or _item_interrupts(marker, content)):
            # No item starts here ("2. a" or an empty "-" after paragraph text): the whole line
            # continues the paragraph, so nothing after the marker starts a block either.
            para.extend([] if comment_open or pre_open else [line])
            after_blank = False
            continue
        if marker:
            flush()
            quote_fence = quote_html = None  # a quote in the item is a new one
            del lists[k:]  # items holding no line at this indent end
            if pre_open and indent < pre_base:
                # A new item: the one holding the <pre> ends, and the <pre>.
                pre_open = _formatting(pre_open)
        heading = _ATX_HEADING.match(content) or _THEMATIC_BREAK.fullmatch(content)
        for _ in range(_MAX_NESTING):  # "- - 1. a" opens three items
            if heading or not (item := _LIST_MARKER.match(content)):
                break
            # After the marker and one space, or more up to four when text follows them (five
            # or more: one, then indented code).
            spaced = item.group(3) and not _BLANK.fullmatch(content[item.end():]) \
                and not content.startswith(" ", item.end())
            column = base + (item.end() if spaced else item.end(2) + 1)
            lists.append(column)
            base, content = column, line[column:] if len(line) > column else ""
            heading = _ATX_HEADING.match(content) or _THEMATIC_BREAK.fullmatch(content)
        else:
            flush()
            # Nested too deep to read: hidden, and its lazy continuation lines too, as if a
            # quoted paragraph (the lines that would interrupt a paragraph are read). Whatever
            # raw HTML it may open is taken as opened.
            quote_lazy, quote_fence, quote_html = True, None, None
            comment_open, pre_open = _read_html_opened(content, comment_open, pre_open)
            continue
        after_blank = False
        if heading or (marker and _BLANK.fullmatch(content)):
            # A heading or break (also one in a list item) is a block of its own; an empty
            # list item holds no paragraph.
            flush()
            quote_lazy, quote_fence, quote_html, quote_list = False, None, None, False
            pre_open = _carried(pre_open, _code_opened(content))  # outlasting the heading
            continue

        quote = _QUOTE_PREFIX.match(content)
        if quote:
            flush()
            inner = content[quote.end():]
            depth = quote.group().count(">")
            if quote_fence is not None and (depth < quote_fence.quotes or base != quote_fence.base):
                quote_fence = None  # a shallower quote line (or another item's) closes the fence
            if quote_fence is not None:
                if _FENCE_CLOSE.fullmatch(inner) and inner.strip()[0] == quote_fence.char \
                        and len(inner.strip()) >= quote_fence.length:
                    quote_fence = None
                quote_lazy = False
                continue
            at_base, at_depth, at_column = quote_html_at
            if quote_html is not None and base == at_base and depth >= at_depth and (
                    _indent(inner) >= at_column if not _BLANK.fullmatch(inner)
                    else quote_html is not _ENDS_AT_BLANK):
                # The quote ends a <pre>, not a <code> (a browser reopens it after).
                comment_open, opened = _read_html(inner, comment_open, {})
                pre_open = _carried(pre_open, _formatting(opened))
                quote_html = None if quote_html.search(inner) else quote_html
                continue
            first = _LIST_MARKER.match(inner)
            if quote_lazy and first and not _item_interrupts(first, inner):
                continue  # "2. a" or an empty item continues the quoted paragraph
            if (containers := _containers(inner)) is None:
                quote_lazy, quote_html = True, None  # as past the bound above
                comment_open, pre_open = _read_html_opened(inner, comment_open, pre_open)
                continue
            leaf, nested, item_here = containers
            quote_fence = _opens_fence(leaf) if _indent(leaf) <= 3 else None
            if quote_fence is not None:
                quote_fence.quotes, quote_fence.base = depth + nested, base
                quote_lazy, quote_html = False, None
                continue
            html = _html_block(leaf, quote_lazy and not item_here) if _indent(leaf) <= 3 else None
            if html is not None:
                # Quoted HTML is still HTML: a comment it leaves open hides what follows.
                comment_open, opened = _read_html(leaf, comment_open, {})
                pre_open = _carried(pre_open, _formatting(opened))
                quote_html = None if html.search(leaf) else html
                # (and the column of the quoted list item holding it: a line indented less
                # ends the item and the block)
                quote_html_at = (base, depth, len(inner) - len(leaf) if item_here else 0)
                quote_lazy = False
                continue
            quote_html = None
            quote_list = quote_list or item_here
            quote_lazy = _quoted_paragraph(leaf, quote_lazy, quote_list)
            # A <code> its text leaves open outlasts the quote (a browser reopens it after).
            pre_open = _carried(pre_open, _code_opened(leaf))
            continue
        quote_fence = quote_html = None
        if quote_lazy and not para_open and not _interrupts_paragraph(line, marker is not None):
            # Lazy continuation: still the quoted paragraph (a <code> it opens outlasts it).
            pre_open = _carried(pre_open, _code_opened(line))
            continue
        quote_lazy = quote_list = False

        opened = _opens_fence(content) if _indent(content) <= 3 else None
        if opened is not None:
            flush()
            opened.base = base
            fence = opened
            continue
        if _indent(content) >= 4 and not para_open:
            # Indented code (it cannot interrupt a paragraph; then it is a continuation).
            continue
        html = _html_block(content, para_open) if _indent(content) <= 3 else None
        if html is not None:
            flush()
            if not pre_open:
                pre_base = base
            comment_open, pre_open = _read_html(content, comment_open, pre_open)
            html_end, html_base = (None if html.search(content) else html), base
            continue
        if not para_open:
            para_base, para_open = base, True
        if not comment_open and not pre_open:
            para.append(line)
    flush()
    return paragraphs


Spans = list[tuple[int, int]]


def _hidden_spans(text: str) -> tuple[Spans, Spans, Spans]:
    """(code spans, HTML comments, other markup) in paragraph text, as [start, end) offsets,
    each list sorted and not overlapping. The markup is what a line must not start in to be
    shown as a line of text: raw HTML (a tag's attributes, ``<?...?>``, CDATA...), and links
    and images, their text or alt text with their destination and title. Link text is shown,
    but as a link: a command there is not run, the safe side; so any bracketed text is taken
    for one (``[a\n/close\n]`` is a link when ``[a\n/close\n]: u`` is defined anywhere).

    No opener makes a scan to the end of the text: a code span closes at the next backtick
    run of its length (looked up among all runs, listed once), and once one ``<!--`` has no
    ``-->`` after it, no later one has; brackets pair on a stack, and raw HTML and link tails
    are read by ``markdown_inline``, linear over the paragraph."""
    code: Spans = []
    comments: Spans = []
    markup: Spans = []
    brackets: list[int] = []    # where the open "[" (or "![") are
    raw_html, tails = RawHtml(text), LinkTails(text)
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
        if c == "<" and (end := raw_html.end(i)) > 0:
            markup.append((i, end))
            i = end
            continue
        if c == "[":
            brackets.append(i - 1 if i and text[i - 1] == "!" else i)
        elif c == "]" and brackets:
            end = tails.end(i + 2) if text.startswith("(", i + 1) else -1
            markup.append((brackets.pop(), max(end, i + 1)))
            if end > 0:
                i = end  # the tail is not read as text
                continue
        i += 1
    return code, comments, _union(markup)


def _union(spans: Spans) -> Spans:
    """The sorted, not overlapping spans covering what ``spans`` cover."""
    merged: Spans = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


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


def prose_lines(text: str) -> Iterator[tuple[str, bool]]:
    """Each paragraph line of ``text`` that starts in shown text (not in a code span, comment
    or ``<pre>``), as shown: without its comments, and joined to the lines a comment's line
    break joins it to; with whether a line break follows it in its paragraph."""
    for para in _paragraphs(text):
        joined, code, comments = para.text, para.code, para.comments
        offset = 0
        for line in para.lines:
            first = offset + _indent(line)
            start = offset
            offset += len(line) + 1
            if any(_inside(first, spans) for spans in (code, comments, para.pre, para.markup)):
                continue
            end = _line_end(joined, start, comments)
            yield _without(start, joined[start:end], comments), end < len(joined)


def _line_end(text: str, start: int, comments: list[tuple[int, int]]) -> int:
    """Where the line of ``text`` starting at ``start`` ends as shown: at its first line break
    outside a comment (``/close<!--`` then ``-->text`` shows ``/closetext``). The lines it
    takes in start inside a comment, and are skipped: no text is looked at twice."""
    end = text.find("\n", start)
    while end >= 0 and _inside(end, comments):
        k = bisect.bisect_right(comments, (end, _FAR)) - 1
        end = text.find("\n", comments[k][1])
    return len(text) if end < 0 else end
