"""The slash-command parser, table-driven: text in, (name, args) out."""
from __future__ import annotations

import random
import re
import sys

import pytest

from bot.core.commands_parser import MAX_LINE, new_commands, parse_commands, split_args

C = tuple  # (name, *args), for readable tables

CASES: list[tuple[str, str, list[tuple[str, ...]]]] = [
    # --- plain commands -----------------------------------------------------------
    ("one command", "/close", [("close",)]),
    ("arguments", "/assign @alice @bob", [("assign", "@alice", "@bob")]),
    ("upper case name", "/LGTM", [("lgtm",)]),
    ("up to three spaces of indent", "   /hold", [("hold",)]),
    ("after prose on the line before", "Thanks, looks good!\n/lgtm\n/approve",
     [("lgtm",), ("approve",)]),
    ("several commands and prose", "/kind bug\nsome words\n\n/priority high\n/cc @carol",
     [("kind", "bug"), ("priority", "high"), ("cc", "@carol")]),
    ("tab between name and args", "/label\tdocs", [("label", "docs")]),
    ("trailing spaces", "/unhold   ", [("unhold",)]),
    ("dashes in names", "/remove-label needs-info", [("remove-label", "needs-info")]),
    ("not at the start of a line", "please /close this", []),
    ("a path is not a command", "/usr/bin/env python", []),
    ("punctuation right after the name", "/close.", []),
    ("slash alone", "/ close", []),
    ("digits first", "/1st", []),
    ("list item is not a command", "- /close\n* /hold", []),
    ("heading is not a command", "# /close", []),
    ("empty", "", []),
    # --- line ends -------------------------------------------------------------------
    ("CRLF", "LGTM\r\n/lgtm\r\n/hold\r\n", [("lgtm",), ("hold",)]),
    ("CRLF args keep no carriage return", "/label a b\r\n", [("label", "a", "b")]),
    ("old Mac CR", "/lgtm\r/approve", [("lgtm",), ("approve",)]),
    # --- quoting ---------------------------------------------------------------------------
    ("double quotes group", '/label "good first issue" docs', [("label", "good first issue", "docs")]),
    ("single quotes group", "/label 'help wanted'", [("label", "help wanted")]),
    ("escaped quote in double quotes", r'/label "say \"hi\""', [("label", 'say "hi"')]),
    ("unmatched apostrophe is literal", "/hold can't merge yet", [("hold", "can't", "merge", "yet")]),
    ("quotes inside a word", '/label area/"a b"', [("label", "area/a b")]),
    ("empty quoted arg", '/label ""', [("label", "")]),
    # --- fenced code -------------------------------------------------------------------
    ("backtick fence", "```\n/close\n```\n/hold", [("hold",)]),
    ("tilde fence", "~~~\n/close\n~~~", []),
    ("fence with info string", "```sh\n/close\n```", []),
    ("longer closing fence", "````\n/close\n```\n/hold\n`````\n/lgtm", [("lgtm",)]),
    ("other fence char does not close", "~~~\n/close\n```\n/hold\n~~~\n/lgtm", [("lgtm",)]),
    ("unclosed fence runs to the end", "```\n/close\n\n/hold", []),
    ("indented fence", "  ```\n/close\n  ```\n/hold", [("hold",)]),
    ("fence in a list item", "- step:\n  ```\n  /close\n  ```\n/hold", [("hold",)]),
    ("list fence ends with the item", "- ```\n  /close\n/hold", [("hold",)]),
    ("backticks in info is not a fence", "``` foo ` bar\n/close", [("close",)]),
    ("fence interrupts a paragraph", "text\n```\n/close\n```", []),
    # --- indented code --------------------------------------------------------------
    ("indented code", "text\n\n    /close\n\n/hold", [("hold",)]),
    ("tab-indented code", "\t/close", []),
    ("indented paragraph continuation is not a command", "text\n    /close", []),
    # --- block quotes ----------------------------------------------------------------------
    ("quoted command", "> /close", []),
    ("quote then own command", "> please /close\n\n/close", [("close",)]),
    ("nested quote", "> > /close", []),
    ("quote without space", ">/close", []),
    ("lazy continuation is quoted", "> some quoted text\n/close", []),
    ("quoted fence then own command", "> ```\n> code\n/close", [("close",)]),
    ("quote ended by a blank line", "> /approve\n\n/lgtm", [("lgtm",)]),
    ("reply quote style", "> @bob wrote:\n> /close\n\nNo, /hold:\n/hold", [("hold",)]),
    # Only a quoted paragraph continues lazily (LAZY below checks these against CommonMark).
    ("after a quoted heading", "> # a\n/close", [("close",)]),
    ("after quoted indented code", ">     code\n/close", [("close",)]),
    ("after a quoted thematic break", "> ---\n/close", [("close",)]),
    ("a list item ends the quote", "> foo\n- a\n  /close", [("close",)]),
    ("a hash that is no heading is lazy", "> a\n#foo\n/close", []),
    ("an indented comment is lazy", "> a\n    <!-- x\n/close", []),
    # --- HTML comments ------------------------------------------------------------------------
    ("comment on one line", "<!-- /close -->\n/hold", [("hold",)]),
    ("multi-line comment block", "<!--\n/close\n/approve\n-->\n/hold", [("hold",)]),
    ("comment block across blank lines", "<!--\n/close\n\n/approve\n-->", []),
    ("unclosed comment block runs to the end", "<!--\n/close", []),
    ("inline comment spanning lines", "Note <!-- hidden\n/close\n--> shown\n/hold", [("hold",)]),
    ("comment after a command is not an argument", "/label docs <!-- bug -->", [("label", "docs")]),
    ("comment then text on the same line", "<!-- x --> /close", []),
    ("template comment around a command", "Fixes #1\n<!-- Use /kind bug -->\n/kind feature",
     [("kind", "feature")]),
    ("comment inside code is code", "`<!--`\n/close", [("close",)]),
    ("pre block", "<pre>\n/close\n</pre>\n/hold", [("hold",)]),
    ("pre block on one line", "<PRE>/close</PRE>\n/hold", [("hold",)]),
    ("details block keeps commands", "<details>\n\n/hold\n\n</details>", [("hold",)]),
    # A block may leave a comment open (its last "<!--" after its last "-->"): a browser hides
    # what follows up to the next "-->" in raw HTML, so past paragraph text, to the next comment.
    ("comment left open on its line", "<!-- note --> <!-- hidden\n/approve", []),
    ("left open past a paragraph's -->", "<!-- a --> <!-- b\n/approve\n-->\n/close", []),
    ("left open until the next comment block", "<!-- a --> <!-- b\n/approve\n<!-- c -->\n/close",
     [("close",)]),
    ("reopened on a comment block's last line", "<!--\nfoo\n--> <!-- bar\n/close", []),
    ("an opener inside a comment opens nothing", "<!-- a <!-- b -->\n/close", [("close",)]),
    ("empty comment", "<!-->\n/close", [("close",)]),
    ("a list item's comment block ends with the item", "1. <!--\n/close\n-->\n/hold", []),
    ("an item's comment closed in the item", "- <!--\n  /close\n  -->\n/hold", [("hold",)]),
    ("empty inline comment hides nothing", "/close<!-->*\n-->", []),
    # --- inline code ------------------------------------------------------------------------
    ("inline code", "`/close`", []),
    ("code span across lines", "run `this\n/close\n` please\n/hold", [("hold",)]),
    ("unmatched backtick is literal", "a ` here\n/close", [("close",)]),
    ("double backtick span", "``a ` b\n/close``\n/lgtm", [("lgtm",)]),
    ("escaped backtick", "a \\` b\n/close\nc `", [("close",)]),
    ("inline code in args is kept", "/label `docs`", [("label", "`docs`")]),
    # --- headings and thematic breaks end a paragraph: no code span crosses them -----------
    ("heading's backtick pairs with nothing", "### Why `make\n`make test\n/approve now` fails", []),
    ("command after a heading with a backtick", "# Why `make\n/close `x", [("close", "`x")]),
    ("command on the line after a heading", "## Plan\n/hold", [("hold",)]),
    ("command in a heading line is not one", "## Plan\n/hold\n### /close", [("hold",)]),
    ("thematic break", "x `\n***\n/close `a\n/lgtm `", [("close", "`a")]),
    ("setext underline", "x `\n---\n/close `a\n/lgtm `", [("close", "`a")]),
    ("equals signs after a paragraph", "x `\n===\n/close `a\n/lgtm `", [("close", "`a")]),
    ("a lazy line is no setext underline", "- foo `\n=\n/lgtm `", []),
    ("setext heading text is no command", "/close\n===\n/hold", [("hold",)]),
    ("setext heading with dashes", "/close\n---", []),
    # --- a comment spanning lines joins them, as shown ----------------------------------------
    ("a comment joins the lines it spans", "/close<!--\n-->text", [("closetext",)]),
    ("a joined line keeps its spaces", "/label a <!--\n--> b\n/hold",
     [("label", "a", "b"), ("hold",)]),
    # --- HTML blocks: raw HTML, not paragraph text ------------------------------------------
    ("script block", "<script>\n/close\n</script>\n/hold", [("hold",)]),
    ("style block across blank lines", "<style>\n\n/close\n\n</style>\n/hold", [("hold",)]),
    ("textarea block", "<textarea>\n/close\n</textarea>", []),
    ("any raw end tag ends a raw block", "<textarea>\n/close\n</pre>\n/hold", [("hold",)]),
    ("pre tag alone on its line", "<pre\n/close", []),
    ("pre block in a list item", "- <pre>\n  /close\n  </pre>\n/hold", [("hold",)]),
    ("a list item's pre block ends with the item", "- <pre>\n/close", [("close",)]),
    ("div block", "<div>\n/close\n</div>", []),
    ("unclosed block tag", "<details\n/close", []),
    ("an HTML block ends at a blank line", "<div>\n/close\n\n/hold", [("hold",)]),
    ("a lone tag starts an HTML block", "<span>\n/close", []),
    ("a lone tag does not interrupt a paragraph", "text\n<span>\n/close", [("close",)]),
    ("a block tag interrupts a paragraph", "text\n<div>\n/close", []),
    ("processing instruction", "<?php\n/close\n?>\n/hold", [("hold",)]),
    ("declaration", "<!DOCTYPE\n/close\n>\n/hold", [("hold",)]),
    ("CDATA", "<![CDATA[\n/close\n]]>\n/hold", [("hold",)]),
    ("any HTML block may leave a comment open", "<div><!--\n\n/close", []),
    ("any HTML block's --> closes it", "<!-- a --> <!-- b\n/approve\n<div>-->\n\n/close",
     [("close",)]),
    # --- several list markers on one line; items ending paragraphs ---------------------------
    ("nested list markers", "- - /close\n1. - /close\n* > /close", []),
    ("quote in nested items, lazy line", "1. - > `a\n/close", []),
    ("quote after two markers, lazy line", "- - > a\n/close", []),
    ("heading in a list item", "- # `\n`\n/close\n`", []),
    ("a list item interrupts a paragraph", "-```\n/close\n1. h```", [("close",)]),
    ("item numbered 2 does not interrupt", "`a\n2. b\n/close `", []),
    ("a sibling item ends the paragraph", "1. `a\n2. b\n/close `", [("close", "`")]),
    ("an empty item does not interrupt", "`\n*\n/close `", []),
    ("markers on a continuation line start nothing", "`\n2) <!--\n/close", [("close",)]),
    # --- HTML and other blocks in block quotes -----------------------------------------------
    ("a comment opened in a quote stays open", "> <!--\n/close", []),
    ("a comment closed in the quote", "> <!--\n> x\n> -->\n/close", [("close",)]),
    ("a comment left open in a quote", "> <!-- a --> <!-- b\n\n/close", []),
    ("a quoted list item's comment", "> - <!--\n/close", []),
    ("after a quoted HTML block", "> <div>\n/close", [("close",)]),
    ("after a quoted empty item", "> -\n/close", [("close",)]),
    ("after a quoted item's fence", ">- ```\n/close", [("close",)]),
    ("tab after a quote marker", ">\t```\n/close", [("close",)]),
    ("a quoted 2. continues the paragraph", ">>t\n>>2) ~~~\n/close", []),
    ("a quote in an item is a new quote", ">```\n2) >`\n/close", []),
    ("a quote in an item's HTML ends with it", "1. ><details\n>b\n/close", []),
    ("a quote in another item is another quote", "* >~~~\n>`\n/close", []),
    # --- <pre> opened in paragraph text: what follows is preformatted, up to </pre> ---------
    ("pre opened inline", "Log: <pre>\n/close\n</pre>\n/hold", [("hold",)]),
    ("inline pre runs past the paragraph", "a <pre>\n\n/close", []),
    ("pre closed inline", "a <pre>x</pre>\n/close", [("close",)]),
    ("pre in code is text", "`<pre>`\n/close", [("close",)]),
    ("pre in an inline comment is nothing", "a <!-- <pre> -->\n/close", [("close",)]),
    ("a raw block may leave a pre open", "<pre></textarea>\n/close", []),
    ("a list item's pre ends with the item", "- a <pre>\n\n/close", [("close",)]),
    ("a sibling item ends the pre", "- a <pre>\n- b\n/close", [("close",)]),
    # --- list item columns ----------------------------------------------------------------
    ("an empty item holds no paragraph", "- a<PRE>\n-\n/close", [("close",)]),
    ("five spaces after a marker: code in the item", "1.      =\n    <!--\n/close", []),
    ("a paragraph at the margin ends the list", "+\n--\n  ~~~\n/close", []),
    ("the innermost item holding a line", "1. 1. `\n    ```\n`\n/close `", []),
    # --- link reference definitions show nothing (checked against cmark-gfm) ---------------
    ("definition with its destination on the next line", "[x]:\n/close", []),
    ("a command's arguments as a destination and title", '[x]:\n/label "good first issue"', []),
    ("a command in a definition's title", '[x]: /u "\n/close\n"', []),
    ("a title in parentheses", "[x]: /u (\n/close\n)", []),
    ("a definition complete on its line", "[x]: foo\n/close", [("close",)]),
    ("a definition ending before a title that fails", '[x]: foo\n"t\n/close', [("close",)]),
    ("several definitions", "[a]: b\n[c]:\n/close\n/hold", [("hold",)]),
    ("a definition in a list item", "- [x]:\n  /close", []),
    ("a blank label is no definition", "[ ]:\n/close", [("close",)]),
    ("a definition only at a paragraph's start", "a\n[x]:\n/close", [("close",)]),
    ("a title that does not close", '[x]: foo "t\n/close', [("close",)]),
    # --- raw HTML, links and images spanning lines hide the lines starting in them ----------
    ("in a tag's attribute value", 'x <span title="\n/close\n">y</span>', []),
    ("between a tag's attributes", "<n e=\n/close >", []),
    ("in an image tag's alt text", 'x <img alt="\n/close\n">', []),
    ("in a processing instruction", "x <?\n/close\n?>", []),
    ("in a CDATA section", "x <![CDATA[\n/close\n]]>", []),
    ("in a declaration", "x <!X\n/close\ny>", []),
    ("an unclosed tag hides nothing", "a <b\n/close", [("close",)]),
    ("after a tag on its line", "x <b>\n/close", [("close",)]),
    ("an unclosed instruction hides nothing", "x <?\n/close", [("close",)]),
    ("in an image's alt text", "![\n/close\n](u)", []),
    ("in a link's title", '[a](b "\n/close\n")', []),
    ("as a link's destination", "[a](\n/close\n)", []),
    ("in a link's text (shown, but as a link)", "[\n/close\n](u)", []),
    ("in a reference image's alt text", "![\n/close\n][x]\n\n[x]: u", []),
    ("after a link on its line", "[a](b)\n/close", [("close",)]),
    ("after a link's title on the next line", '[a](b\n"t")\n/close', [("close",)]),
    ("after a link, text with quotes", '[a](b)"x\n/close\n")', [("close",)]),
    ("a destination with parentheses, then a title", '[a](b(c) "x\n/close\n")', []),
    ("brackets on one line hide nothing after", "[WIP] a\n/close", [("close",)]),
    ("a bracket in code pairs with nothing", "`[`\n/close\n]", [("close",)]),
    # --- <code>, <tt>, <kbd>, <samp> opened as raw HTML: shown as code ---------------------
    ("code opened inline", "x <code>\n/close\n</code>\n/hold", [("hold",)]),
    ("code opened inline, past the paragraph", "x <code>\n\n/close", []),
    ("tt, kbd and samp too", "x <tt>\n/close\n</tt> <kbd>\n/hold\n</kbd> <samp>\n/lgtm", []),
    ("code closed inline", "x <code>y</code>\n/close", [("close",)]),
    ("another element's end tag does not end code", "x <code>y</pre>\n/close", []),
    ("code in a lone tag block runs past it", "<code>\n\n/close", []),
    ("code outlasts the list item holding it", "1. <tt>\n/close", []),
    ("a pre ends with the list item holding it", "1. <pre>\n/close", [("close",)]),
    ("code outlasts the quote holding it", "> <code>\n/close", []),
    ("code in quoted text outlasts the quote", "> b<code>\n\n/close", []),
    ("a processing instruction in a block hides no paragraph", "<t>\n<?\n\n/close",
     [("close",)]),
    ("an end tag in a bogus comment ends nothing", "<PRE><!</pre>\n/close", []),
    ("code in a lazy line outlasts the quote", ">x\n<tt>\n\n/close", []),
    ("code in a heading outlasts it", "# <code>\n/close", []),
    # --- containers nested past the parser's bound: hidden up to a blank line --------------
    ("a quote nested past the bound", "- " * 65 + "> a\n/close\n\n/hold", [("hold",)]),
    ("in a quote, nested past the bound", "> " + "- " * 65 + "a\n/close\n\n/hold", [("hold",)]),
    ("a comment opened past the bound stays open", "- " * 65 + "<!--\n\n/close", []),
    ("nested up to the bound", "- " * 60 + "> a\n/close\n\n/hold", [("hold",)]),
    ("past the bound, a block interrupting it is read", "- " * 64 + "a\n<!c\n\n/close", []),
    ("past the bound, a list item ends it", "- " * 64 + "a\n- b\n/close", [("close",)]),
    # --- a backslash before a line break is a hard break, not part of the name -------------
    ("backslash hard break", "/close\\\nthen", [("close",)]),
    ("a last line's backslash is shown", "/close\\", []),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in CASES], ids=[c[0] for c in CASES])
def test_parse(text, expected):
    assert [(c.name, *c.args) for c in parse_commands(text)] == expected


# Is the /close line still in the block quote (lazy continuation) or after it? As CommonMark
# has it (GitHub renders with cmark-gfm; markdown-it-py follows the same spec).
LAZY: list[tuple[str, str, bool]] = [
    ("quoted paragraph", "> some quoted text\n/close", True),
    ("quoted list item's paragraph", "> - a\n/close", True),
    ("nested quote's paragraph", "> > a\n/close", True),
    ("quoted paragraph, indented continuation", "> a\n>     b\n/close", True),
    ("quoted list item, indented paragraph", "> - a\n>\n>     b\n/close", True),
    ("indented heading continues", "> a\n    # h\n/close", True),
    ("hash without a space continues", "> a\n#foo\n/close", True),
    ("indented comment continues", "> a\n    <!-- x\n/close", True),
    ("equals signs continue", "> foo\n===\n/close", True),
    ("shallower quote line after a nested fence", "> > ```\n> a\n/close", True),
    ("quoted ATX heading", "> # a\n/close", False),
    ("quoted indented code", ">     code\n/close", False),
    ("quoted indented code, two lines", ">     code\n>     more\n/close", False),
    ("quoted thematic break", "> ---\n/close", False),
    ("quoted starred break", "> * * *\n/close", False),
    ("quoted heading then code", "> # a\n>     code\n/close", False),
    ("quoted setext heading", "> foo\n> ---\n/close", False),
    ("quoted pre block", "> <pre>\n/close", False),
    ("quoted comment", "> <!-- x -->\n/close", False),
    ("bullet item after the quote", "> foo\n- a\n  /close", False),
    ("item numbered 2 after the quote", "> foo\n2. a\n   /close", False),
    ("empty item after the quote", "> foo\n-\n/close", False),
    ("heading after the quote", "> foo\n# h\n/close", False),
    ("quoted HTML block", "> <div>\n/close", False),
    ("quoted empty item", "> -\n/close", False),
    ("quoted item's fence", ">- ```\n/close", False),
    ("quoted fence after a tab", ">\t```\n/close", False),
    ("quoted 2) continuing a paragraph", ">>t\n>>2) ~~~\n/close", True),
    ("new quote in an item", ">```\n2) >`\n/close", True),
    ("quote in nested items", "1. - > a\n/close", True),
    ("quote after two bullets", "- - > a\n/close", True),
    ("thematic break after the quote", "> a\n***\n/close", False),
    ("dashes after the quote", "> a\n---\n/close", False),
]


@pytest.mark.parametrize("text,quoted", [(t, q) for _, t, q in LAZY], ids=[c[0] for c in LAZY])
def test_lazy_continuation_follows_commonmark(text, quoted):
    from markdown_it import MarkdownIt

    close_line = next(i for i, line in enumerate(text.split("\n")) if line.strip() == "/close")
    in_quote = {line for t in MarkdownIt("commonmark").parse(text)
                if t.type == "blockquote_open" and t.map for line in range(*t.map)}
    assert (close_line in in_quote) == quoted  # the table is CommonMark's reading
    assert [c.name for c in parse_commands(text)] == ([] if quoted else ["close"])


# Cases above checked against CommonMark's HTML as a browser reads it (an unclosed comment
# or <pre> runs to the end, "<!-->" is an empty one): the commands are the paragraph lines
# still shown starting with /name. (benchmarks/commands_fuzz.py compares many more.)
RENDERED = [c for c in CASES if c[0] in {
    "heading's backtick pairs with nothing", "command after a heading with a backtick",
    "command on the line after a heading", "command in a heading line is not one", "thematic break",
    "setext underline", "equals signs after a paragraph", "comment left open on its line",
    "left open past a paragraph's -->", "left open until the next comment block",
    "reopened on a comment block's last line", "an opener inside a comment opens nothing",
    "empty comment", "a list item's comment block ends with the item",
    "an item's comment closed in the item", "empty inline comment hides nothing",
    "a lazy line is no setext underline", "setext heading text is no command",
    "setext heading with dashes", "a comment joins the lines it spans",
    "a joined line keeps its spaces", "a list item's pre block ends with the item",
    "any HTML block may leave a comment open", "any HTML block's --> closes it",
    "heading in a list item", "a list item interrupts a paragraph",
    "item numbered 2 does not interrupt", "a sibling item ends the paragraph",
    "an empty item does not interrupt", "markers on a continuation line start nothing",
    "a comment opened in a quote stays open", "a comment closed in the quote",
    "a comment left open in a quote", "a quoted list item's comment",
    "pre opened inline",
    "inline pre runs past the paragraph", "pre closed inline", "pre in code is text",
    "pre in an inline comment is nothing", "a raw block may leave a pre open",
    "an empty item holds no paragraph", "five spaces after a marker: code in the item",
    "a paragraph at the margin ends the list", "the innermost item holding a line",
    "backslash hard break", "a last line's backslash is shown"}]


@pytest.mark.parametrize("text", [t for _, t, _ in RENDERED], ids=[c[0] for c in RENDERED])
def test_hidden_text_follows_the_rendered_html(text):
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").render(text)
    html = re.sub(r"<!--(?:-?>|.*?(?:-->|\Z))", "", html, flags=re.S)
    html = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    html = re.sub(r"<pre[\s>].*?(?:</pre>|</li>|\Z)", "", html, flags=re.S | re.I)
    shown = re.findall(r"(?m)^(?:<p>)?/([a-z]+)(?=\s|<|$)", html)
    assert [c.name for c in parse_commands(text)] == shown


def test_parsed_line_is_the_visible_command_line():
    [cmd] = parse_commands("intro\r\n  /label docs <!-- x --> bug  \r\n")
    assert cmd.line == "/label docs  bug"


def test_none_text():
    assert parse_commands(None) == []


EDITS = [
    ("new command added", "LGTM", "LGTM\n/lgtm", [("lgtm",)]),
    ("same command kept", "/lgtm", "/lgtm\nthanks", []),
    ("changed arguments run", "/label a", "/label b", [("label", "b")]),
    ("repeats are counted", "/hold", "/hold\n/hold", [("hold",)]),
    ("moved out of a quote", "> /close", "/close", [("close",)]),
    ("moved into code", "/close", "```\n/close\n```", []),
    ("no previous body", None, "/close", [("close",)]),
    ("CRLF versus LF is the same", "/hold\r\n", "/hold\n", []),
]


@pytest.mark.parametrize("before,after,expected", [(b, a, e) for _, b, a, e in EDITS],
                         ids=[c[0] for c in EDITS])
def test_edits_run_only_new_commands(before, after, expected):
    assert [(c.name, *c.args) for c in new_commands(after, before)] == expected


@pytest.mark.parametrize("text,expected", [
    ("", ()),
    ("  a   b ", ("a", "b")),
    ('"a b" c', ("a b", "c")),
    ("'it''s'", ("its",)),
    ('"unterminated', ('"unterminated',)),
    (r'"back\\slash"', ("back\\slash",)),
    (r'"a\"', (r'"a\"',)),                   # its only closer is escaped: literal
    (r'"a\" b"', ('a" b',)),
    (r'x\"y" z', (r"x\y", "z")),            # outside quotes a backslash is a character
    (r'"a\\" b', ("a\\", "b")),
    (r'"a\\\" b" c', ('a\\" b', "c")),
    (r"'a\' b", ("a\\", "b")),              # no escapes in single quotes
    ('"""', ('"',)),
    ("'a' 'b", ("a", "'b")),
])
def test_split_args(text, expected):
    assert split_args(text) == expected


def _split_args_reference(text: str) -> tuple[str, ...]:
    """The quoting rules at their plainest (a scan to the closer for every quote: quadratic)."""
    def closing(start: int) -> int | None:
        i = start + 1
        while i < len(text):
            if text[start] == '"' and text[i] == "\\" and i + 1 < len(text):
                i += 2
            elif text[i] == text[start]:
                return i
            else:
                i += 1
        return None

    args, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        word, quoted = "", False
        while i < len(text) and not text[i].isspace():
            end = closing(i) if text[i] in "\"'" else None
            if end is None:
                word, i = word + text[i], i + 1
                continue
            inner = text[i + 1:end]
            word += re.sub(r'\\(["\\])', r"\1", inner) if text[i] == '"' else inner
            quoted, i = True, end + 1
        if word or quoted:
            args.append(word)
    return tuple(args)


def test_split_args_follows_the_reference_rules():
    rng = random.Random(4)
    for _ in range(20000):
        text = "".join(rng.choice('"\'\\ a\t') for _ in range(rng.randint(0, 14)))
        assert split_args(text) == _split_args_reference(text), text


def test_an_overlong_command_line_is_found_but_not_read():
    line = "/label " + '"a\\' * 400  # 1,207 characters
    [cmd] = parse_commands("intro\n" + line + "\n/hold")[:1]
    assert (cmd.name, cmd.args, cmd.line, cmd.too_long) == ("label", (), line, True)
    [fits] = parse_commands("/label " + "x" * (MAX_LINE - 7))
    assert not fits.too_long and fits.args == ("x" * (MAX_LINE - 7),)


def test_overlong_lines_are_told_apart_by_their_text_on_edits():
    a, b = "/label " + "a " * 600, "/label " + "b " * 600
    assert new_commands(a, a) == []
    assert [c.line for c in new_commands(b, a)] == [b.strip()]


# --- cost: linear in the text -------------------------------------------------------------
# Not timed (a clock measures the machine as much as the parser): the work is counted as
# lines of the parser run, which grow about 4x for 4x the text when linear and 16x when
# quadratic. Scans inside str and re methods are not lines: the huge inputs further down are
# parsed in well under a second, and would take a quadratic parser hours (the suite's own
# per-test limit stops it, so a regression fails rather than hangs).

def _lines_run(fn, text: str) -> int:
    from bot.core import commands_parser, markdown_prose

    count = 0
    files = {commands_parser.__file__, markdown_prose.__file__}

    def line(frame, event, arg):
        nonlocal count
        count += event == "line"
        return line

    def call(frame, event, arg):
        return line if frame.f_code.co_filename in files else None

    previous = sys.gettrace()
    sys.settrace(call)
    try:
        fn(text)
    finally:
        sys.settrace(previous)
    return count


@pytest.mark.parametrize("unit", ['"a\\', '\\"', '"\\', "'a"], ids=["quote-a-backslash", "escaped quotes",
                                                                  "quote-backslash", "apostrophes"])
def test_split_args_work_is_linear(unit):
    small, large = _lines_run(split_args, unit * 250), _lines_run(split_args, unit * 1000)
    assert large < 5 * small, (small, large)


SHAPES = {
    "command lines": "/label \"a b\" c\n",
    "quoted lines": "> a\n",
    "lazy lines": "> a\nb\n",
    "list markers": "- ",
    "list items": "- a\n",
    "fence lines": "```\n",
    "comment openers": "<!-- a\n",
    "inline comment openers": "a <!--",
    "comments left open": "<!-- a --> <!-- b\n",
    "headings with backticks": "# a `\n",
    "backtick lines": "a `\n",
    "backslashes": "\\",
    "nested markers and quotes": "- > 1. ",
    "nested marker lines": "- - > a\n",
    "lone tag lines": "<a b='c'>\n",
    "attributes": "<a b=c",
    "quoted comment openers": "> <!-- a\n",
    "comments joining lines": "/a <!--\n-->b\n",
    "continuation markers": "`\n2. <!--\n",
    "inline pre tags": "a <pre> b </pre>",
    "pre openers": "x<pre\n",
    "pre blocks left open": "<pre></style>\n",
    "definitions": "[a]: b\n",
    "definitions with titles": '[a]:\nb "c\nd"\n',
    "titles left open": '[a]: b "c\n',
    "tags across lines": "<a\nb='\nc'\n",
    "quotes in attributes": "<a b='<a c=\"",
    "attributes left open": "x <a b='c' d=\"",
    "instructions left open": "a <?",
    "link tails": "[a](b",
    "link titles left open": "[a](b 'c\n",
    "parentheses after brackets": "](((",
    "images": "![a](<b",
    "brackets": "[a\n",
    "code tags": "a <code> b </tt>\n",
    "nested past the bound": "- " * 70 + "> a\n",
}


@pytest.mark.parametrize("unit", SHAPES.values(), ids=SHAPES.keys())
def test_parse_work_is_linear(unit):
    small, large = _lines_run(parse_commands, unit * 500), _lines_run(parse_commands, unit * 2000)
    assert large < 5 * small, (small, large)


def _backtick_runs(size: int) -> str:
    runs, total, k = [], 0, 1
    while total < size:
        runs.append("`" * k + "a")
        total, k = total + k + 1, k + 1
    return "".join(runs)


def _commands(text: str) -> list[tuple[str, ...]]:
    return [(cmd.name, *cmd.args) for cmd in parse_commands(text)]


HUGE = {  # 16 to 64 times what GitHub takes in one comment
    # An unclosed inline comment and unmatched backtick runs are literal text: the commands on
    # the lines around them are still found, and nothing in them is taken for one.
    "unclosed comment openers": (lambda: "a <!--" * ((1 << 20) // 6),
                                 lambda huge: _commands("/hold\n" + huge + "\n/close"),
                                 lambda huge: [("hold",), ("close",)]),
    "backtick runs of every length": (lambda: _backtick_runs(1 << 22),
                                      lambda huge: _commands("/hold\n" + huge + "\n/close"),
                                      lambda huge: [("hold",), ("close",)]),
    # Unclosed attribute values, titles and instructions hide nothing, and cost no rescans.
    "attributes and titles left open": (
        lambda: "[a](b 'c <d e=\"f <?" * ((1 << 20) // 22),
        lambda huge: _commands("/hold\n" + huge + "\n\n/close"),
        lambda huge: [("hold",), ("close",)]),
    # Link tails without whitespace share where their destination ends: what follows it (a
    # title left open to the end) is read once, not once per tail.
    "link tails sharing a destination's end": (
        lambda: "[a](b" * (1 << 17) + " 'c" + "d" * (1 << 19),
        lambda huge: _commands("/hold\n" + huge + "\n\n/close"),
        lambda huge: [("hold",), ("close",)]),
    # A definition that fails after long runs of spaces and of destination: no backtracking
    # through every way of splitting the spaces.
    "a definition failing after long runs": (
        lambda: "[a]:" + " " * (1 << 19) + "b" * (1 << 19) + " x",
        lambda huge: _commands("/hold\n" + huge + "\n/close"),
        lambda huge: [("hold",), ("close",)]),
    # An unclosed quote is literal: the whole run is one argument, after the one before it.
    "escaped quotes in arguments": (lambda: '"a\\' * ((1 << 20) // 3),
                                    lambda huge: split_args('"b c" ' + huge),
                                    lambda huge: ("b c", huge)),
}


@pytest.mark.parametrize("make,parse,expected", HUGE.values(), ids=HUGE.keys())
def test_huge_adversarial_text_is_parsed(make, parse, expected):
    huge = make()
    assert parse(huge) == expected(huge)


def test_large_comments_keep_their_command():
    """GitHub allows 65,536 characters: a command after thousands of lines of inline code and
    comments is still found, with its own code span and comment handled."""
    text = "`x` and <!-- y --> z\n" * 3000 + "/close <!-- a --> b `c`\n" + "`" * 7 + " tail"
    [cmd] = parse_commands(text)
    assert (cmd.name, cmd.args) == ("close", ("b", "`c`"))
