"""Acceptance: user text echoed by the bot can neither ping nor break out of its markdown.

GitHub links a mention when ``@login`` follows anything but an ASCII word character, and it
decodes HTML entities before looking: each hostile input here pinged or injected before.
"""
import re

import pytest

from bot.core.markdown import code, mention, neutralize

_PING = re.compile(r"(?:^|[^A-Za-z0-9_\\])@[A-Za-z0-9]")


def _renders_as(text: str) -> str:
    """What GitHub shows for neutralised inline text: backslash escapes dropped, entities decoded."""
    import html
    parts = re.split(r"(\\.)", text)
    return "".join(p[1] if p.startswith("\\") and len(p) == 2 else html.unescape(p) for p in parts)


@pytest.mark.parametrize("hostile", [
    "`@octocat",            # the escaped backtick is a literal one: nothing shields the mention
    "é@octocat",            # a non-ASCII letter is not a word character to GitHub's mention filter
    "&#64;octocat",         # the entity becomes "@" before mentions are found
    "&#x40;org/team",
    "(@octocat)",
    "@org/team",
])
def test_no_mention_survives(hostile):
    shown = _renders_as(neutralize(hostile))
    assert not _PING.search(shown), shown
    # Inert, not dropped: the reader still sees what was written (zero-width spaces aside).
    assert shown.replace("\u200b", "") == hostile


def test_emails_stay_readable():
    assert neutralize("jane@example.com") == "jane@example.com"


@pytest.mark.parametrize("marker", [
    "<!-- contributor-flow:context-card -->",
    "<!--contributor-flow:cla-->",
    "x --> <!-- y",
])
def test_code_span_never_carries_an_html_comment(marker):
    # The executor finds its sticky comments by marker text in the raw body; a commit email
    # or path shown in a code span must not make a CLA comment pass for the context card.
    out = code(marker)
    assert "<!--" not in out and "-->" not in out
    # Still shown as written, in one code span (zero-width spaces aside).
    assert out.replace("\u200b", "") == f"`{marker}`"


@pytest.mark.parametrize("login", ["octocat", "jdoe_acme", "dependabot[bot]", "kubernetes/sig-node",
                                   "a" * 39])
def test_real_logins_are_mentioned(login):
    # Enterprise Managed Users' logins carry an "_shortcode": they are people to ping too.
    assert mention(login) == "@" + login


@pytest.mark.parametrize("odd", ["a" * 45, "-x", "x y", "x@y", "", "<b>x</b>"])
def test_what_is_not_a_login_is_shown_inert_never_raised(odd):
    assert mention(odd) == code(odd)


def test_escalation_mentions_keep_logins_and_teams_and_drop_the_rest():
    from bot.features.sla.policy import mentions

    assert mentions(["@alice", "org/triage", "not a login", "alice", "jdoe_acme"]) == \
        "@alice @org/triage @jdoe_acme"


def test_a_pipe_in_a_code_span_cannot_forge_table_cells():
    from markdown_it import MarkdownIt

    from bot.core.markdown import cell

    path = "patches/x| ✅ verified (keyless) | torvalds@kernel.org |.patch"
    table = f"| patch | result |\n|---|---|\n| {cell(code(path))} | ❌ unsigned |\n"
    html = MarkdownIt("commonmark").enable("table").render(table)
    body = html.split("<tbody>")[1]
    assert body.count("<td>") == 2 and "❌ unsigned" in body
    assert "patches/x| ✅ verified" in body  # the path is shown whole, as code
