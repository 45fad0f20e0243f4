"""Differential fuzz of the slash-command parser against CommonMark (markdown-it-py).

Random comments are built from markdown fragments (list and quote markers, also nested past
the parser's bound, fences, backticks, HTML comments, ``<pre>``-like blocks, inline tags whose
attributes span lines, ``<code>``, ``<?...?>``, CDATA, link reference definitions, links and
images, headings, breaks, ...) with commands ``/c0``, ``/c1``, ...
(each name once, so a command is known by its name). Each comment is given to
``bot.core.commands_parser.parse_commands`` and to markdown-it-py's CommonMark renderer, and the
two sets of commands are compared. For CommonMark a command is a source line starting (after at
most three spaces) with ``/name`` whose text a browser shows at the start of a line of paragraph
text, outside any block quote, followed by whitespace or the end of the line (see ``expected``).

Each divergent comment is shrunk (lines, then characters, as long as the same command still
diverges the same way) and the distinct shrunk forms are printed with how many comments led to
them, the dangerous direction first:

- RUNS: the parser finds a command CommonMark shows as code, quote or HTML, or hides;
- MISSED: CommonMark shows a command the parser does not find.

    .venv/bin/python benchmarks/commands_fuzz.py [--cases 20000] [--seed 1] [--show 40]

Deterministic for a given seed. Not a test: the figures (divergent comments out of all) are for
the report of a parser change.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter
from pathlib import Path

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.commands_parser import parse_commands  # noqa: E402

# --- the CommonMark side -----------------------------------------------------------------

_P_OPEN, _P_CLOSE, _HIDDEN = "\ue000", "\ue001", "\ue002"  # never in generated comments
# cmark-gfm (GitHub) nests containers without limit; markdown-it stops at 20 unless told.
_MD = MarkdownIt("commonmark", {"maxNesting": 1000})


def _paragraph_open(self, tokens, idx, options, env):
    return _P_OPEN if tokens[idx].meta.get("shown") else ""


def _paragraph_close(self, tokens, idx, options, env):
    return _P_CLOSE + "\n" if tokens[idx].meta.get("shown") else "\n"


_MD.add_render_rule("paragraph_open", _paragraph_open)
_MD.add_render_rule("paragraph_close", _paragraph_close)

# GitHub's tag filter (GFM) writes these tags' "<" as "&lt;": they are shown as text, and the
# text after them is not swallowed as raw text (an HTML block they start still is no paragraph).
_TAG_FILTER = re.compile(
    r"<(?=/?(?:title|textarea|style|xmp|iframe|noembed|noframes|script|plaintext)(?:[\s>]|/>))",
    re.I)
_TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)"
    r"(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*\s*/?>")
# Containers a browser closes a <pre> with (its end tag pops the elements opened inside it).
_CONTAINERS = {"li", "ul", "ol", "blockquote", "div", "details", "pre",
               "h1", "h2", "h3", "h4", "h5", "h6"}


def _shown_paragraph_text(html: str) -> str:
    """The text a browser shows in the marked (unquoted) paragraphs of ``html``, one line per
    line; markup other than comments becomes one ``_HIDDEN`` character (the parser keeps code
    and tags on a command's line, so ``/close`x``` is no command), code and ``<pre>`` content
    too, and comments vanish, as HTML tokenizes them (``<!-->``, ``--!>``, unclosed: to the end).

    An open ``<code>`` or ``<tt>`` (a code span's, or raw HTML's) lasts to its end tag, across
    paragraphs: a browser reopens formatting elements a ``</p>`` closed. A ``<kbd>`` or
    ``<samp>`` opened in a paragraph ends with it, one opened outside lasts to its end tag or
    the end of the element holding it, as a ``<pre>`` does."""
    out: list[str] = []
    in_paragraph = False
    code: Counter[str] = Counter()     # open <code>, <tt>
    in_p: Counter[str] = Counter()     # <kbd>, <samp> opened in the paragraph
    stack: list[str] = []  # open container elements
    i, n = 0, len(html)
    while i < n:
        c = html[i]
        if c == _P_OPEN:
            in_paragraph, i = True, i + 1
            continue
        if c == _P_CLOSE:
            in_paragraph, i = False, i + 1
            in_p.clear()
            continue
        hidden = +code or +in_p or any(name in stack for name in ("pre", "kbd", "samp"))
        if html.startswith("<!--", i):
            for empty in ("<!-->", "<!--->"):
                if html.startswith(empty, i):
                    i += len(empty)
                    break
            else:
                ends = [e for e in (html.find("-->", i + 4), html.find("--!>", i + 4)) if e >= 0]
                end = min(ends) if ends else -1
                # Sentinels inside a comment still open and close their paragraphs.
                skipped = html[i:] if end < 0 else html[i:end]
                for s in skipped:
                    if s == _P_OPEN:
                        in_paragraph = True
                    elif s == _P_CLOSE:
                        in_paragraph = False
                        in_p.clear()
                if end < 0:
                    break
                i = end + (3 if html.startswith("-->", end) else 4)
            continue
        if html.startswith("<?", i) or html.startswith("<!", i):
            # A bogus comment (processing instruction, CDATA, <!X ...>) ends at the next ">",
            # also a paragraph's tag (here a sentinel, read next).
            ends = [e for e in (html.find(c, i) for c in (">", _P_OPEN, _P_CLOSE)) if e >= 0]
            if not ends:
                break
            i = min(ends) + (html[min(ends)] == ">")
            continue
        m = _TAG.match(html, i)
        if m:
            closing, name = m.group(1) == "/", m.group(2).lower()
            i = m.end()
            if in_paragraph and not hidden and name != "br":
                out.append(_HIDDEN)
            kept_in_p = name in ("kbd", "samp") and (in_paragraph if not closing else in_p[name])
            if name in ("code", "tt") or kept_in_p:
                counts = code if name in ("code", "tt") else in_p
                counts[name] = max(counts[name] + (-1 if closing else 1), 0)
            elif name in _CONTAINERS or name in ("p", "kbd", "samp"):
                if not closing and name != "p":
                    stack.append(name)
                elif closing and name in stack:
                    del stack[len(stack) - 1 - stack[::-1].index(name):]
            continue
        if in_paragraph:
            out.append(_HIDDEN if hidden and c != "\n" else c)
        elif c == "\n":
            out.append("\n")
        i += 1
    import html as html_module

    return html_module.unescape("".join(out))


_NAME = r"^/([A-Za-z][A-Za-z0-9_-]*)(?=\s|$)"   # as shown: the name ends at whitespace
_WRITTEN = re.compile(r" {0,3}/([A-Za-z][A-Za-z0-9_-]*)")  # how the source line starts


def expected(text: str) -> set[str]:
    """The commands CommonMark shows (see the module docstring)."""
    tokens = _MD.parse(text)
    quotes = 0
    for token in tokens:
        if token.type == "blockquote_open":
            quotes += 1
        elif token.type == "blockquote_close":
            quotes -= 1
        elif token.type in ("paragraph_open", "paragraph_close"):
            token.meta["shown"] = quotes == 0
    html = _TAG_FILTER.sub("&lt;", _MD.renderer.render(tokens, _MD.options, {}))
    shown = _shown_paragraph_text(html)
    at_line_start = {m.group(1) for m in re.finditer(_NAME, shown, re.M)}
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    written = {m.group(1) for line in lines for m in [re.match(_WRITTEN, line)] if m}
    # A comment may join a name to the text after it: "/c0<!-- x -->text" shows "/c0text".
    return {name for name in at_line_start if any(name.startswith(w) for w in written)}


def found(text: str) -> set[str]:
    return {c.name for c in parse_commands(text)}


# --- comments ----------------------------------------------------------------------------

PREFIXES = ["", "", "", "", " ", "  ", "   ", "    ", "\t", "- ", "* ", "+ ", "1. ", "2) ", "10. ",
            "> ", ">", "-", "- - ", "1. - ", "* > ", "> - ", "- > ", ">> ", "> > "]
# Nested past markdown-it's default bound (20) and the parser's (64); rarer, as they are long
# to shrink.
DEEP = ["- " * 21 + "> ", "- " * 63 + "> ", "- " * 64, "- " * 70 + "> ", "> " + "- " * 70]
ATOMS = ["text", "more words", "", "```", "~~~", "````", "```sh", "`", "``", "a `b", "b` c",
         "<!--", "-->", "<!-- x -->", "<!-->", "<!--->", "<pre>", "</pre>", "<PRE class=x>",
         "<pre", "<script>", "</script>", "<style>", "</style>", "<textarea>", "</textarea>",
         "# h", "## `x", "---", "===", "***", "- - -", "<div>", "</div>", "<details>",
         "</details>", "\\", "a  ", "*em*", "[a]: /u",
         # link reference definitions, links and images, their parts apart (across lines)
         "[x]:", "[x]: /u", '[x]: /u "', "[y]: <a b>", '"', "'", "(", ")", "[", "]", "![",
         "](u)", '](u "', "](", '")', "[a](b", "[x]",
         # inline raw HTML whose tags and attributes may span lines
         '<span title="', '">', "<n e=", " e>", "<img alt='", "'>", "<?", "?>", "<![CDATA[", "]]>",
         "<!X", "</b", "<a", "<b>", "</b>",
         # code-like elements opened as raw HTML
         "<code>", "</code>", "<tt>", "</tt>", "<kbd>", "</kbd>", "<samp>"]


def comment(rng: random.Random) -> str:
    lines, names = [], iter(range(1000))
    for _ in range(rng.randint(1, 7)):
        if rng.random() < 0.15:
            lines.append("")
            continue
        prefix = "".join(rng.choice(PREFIXES) for _ in range(rng.choice((0, 1, 1, 2))))
        if rng.random() < 0.02:
            prefix = rng.choice(DEEP) + prefix
        parts = [rng.choice(ATOMS) for _ in range(rng.choice((1, 1, 2, 3)))]
        if rng.random() < 0.5:
            command = f"/c{next(names)}" + rng.choice(("", "", " x", "\t", "."))
            parts.insert(rng.choice((0, 0, 0, len(parts))), command)
        lines.append(prefix + rng.choice(("", " ")).join(parts))
    return rng.choice(("\n", "\n", "\r\n")).join(lines)


def divergences(text: str) -> set[tuple[str, str]]:
    """(RUNS or MISSED, name) for each command the two sides disagree on."""
    ours, theirs = found(text), expected(text)
    return {("RUNS", n) for n in ours - theirs} | {("MISSED", n) for n in theirs - ours}


def shrink(text: str, target: tuple[str, str]) -> str:
    """A shorter comment with the same divergence: lines dropped, then characters."""
    def keeps(candidate: str) -> bool:
        return f"/{target[1]}" in candidate and target in divergences(candidate)

    lines = text.replace("\r\n", "\n").split("\n")
    if keeps("\n".join(lines)):
        text = "\n".join(lines)
    changed = True
    while changed:
        changed = False
        lines = text.split("\n")
        for k in range(len(lines)):
            candidate = "\n".join(lines[:k] + lines[k + 1:])
            if keeps(candidate):
                text, changed = candidate, True
                break
    changed = True
    while changed:
        changed = False
        for k in range(len(text)):
            candidate = text[:k] + text[k + 1:]
            if keeps(candidate):
                text, changed = candidate, True
                break
    return re.sub("/" + re.escape(target[1]) + r"(?![\w-])", "/close", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=40, help="shrunk forms printed per direction")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    divergent = 0
    forms: dict[str, Counter[str]] = {"RUNS": Counter(), "MISSED": Counter()}
    for _ in range(args.cases):
        text = comment(rng)
        found_here = divergences(text)
        if not found_here:
            continue
        divergent += 1
        for direction in ("RUNS", "MISSED"):
            mine = sorted(d for d in found_here if d[0] == direction)
            if mine:
                forms[direction][shrink(text, mine[0])] += 1
    print(f"{divergent} of {args.cases} comments diverge (seed {args.seed})")
    for direction in ("RUNS", "MISSED"):
        total = sum(forms[direction].values())
        print(f"\n{direction}: {total} comments, {len(forms[direction])} distinct shrunk forms")
        for form, count in forms[direction].most_common(args.show):
            print(f"{count:6}  {form!r}")


if __name__ == "__main__":
    main()
