"""The slash-command parser, table-driven: text in, (name, args) out."""
from __future__ import annotations

import pytest

from bot.core.commands_parser import new_commands, parse_commands, split_args

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
    # --- inline code ------------------------------------------------------------------------
    ("inline code", "`/close`", []),
    ("code span across lines", "run `this\n/close\n` please\n/hold", [("hold",)]),
    ("unmatched backtick is literal", "a ` here\n/close", [("close",)]),
    ("double backtick span", "``a ` b\n/close``\n/lgtm", [("lgtm",)]),
    ("escaped backtick", "a \\` b\n/close\nc `", [("close",)]),
    ("inline code in args is kept", "/label `docs`", [("label", "`docs`")]),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in CASES], ids=[c[0] for c in CASES])
def test_parse(text, expected):
    assert [(c.name, *c.args) for c in parse_commands(text)] == expected


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
])
def test_split_args(text, expected):
    assert split_args(text) == expected


def test_large_comments_parse_quickly():
    """GitHub allows 65,536 characters; many lines of inline code must not go quadratic."""
    import time

    text = "`x` and <!-- y --> z\n" * 3000 + "/close <!-- a --> b `c`\n" + "`" * 7 + " tail"
    started = time.perf_counter()
    [cmd] = parse_commands(text)
    assert time.perf_counter() - started < 2.0
    assert (cmd.name, cmd.args) == ("close", ("b", "`c`"))
