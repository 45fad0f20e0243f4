"""The config check judges the file as the bot reads it.

The bot refuses an override it cannot read as UTF-8 text, one too large for the contents API to
inline (over 1 MB), and a path that is not a file; it keeps the last good rules then. The check
run on the commit that changed the file must say so: reading it more leniently (bad bytes
replaced, an empty "content") told the repository "Configuration is valid" while the bot went on
ignoring the file, and a directory made the handler raise, so nobody was told anything.
"""
from __future__ import annotations

import base64

import pytest

from bot.features.config_check import CHECK_NAME, on_push
from bot.rules.repo import RepoRules, MemoryLastGoodStore
from tests.helpers import RecordingReader, bundled_rules, make_context

PATH = ".github/contributor-flow.yml"
SHA = "c" * 40
CONTENTS = "/repos/{owner}/{repo}/contents/{+path}{?ref}"


def _file(raw: bytes) -> dict:
    return {"type": "file", "encoding": "base64", "sha": "b" * 40, "path": PATH,
            "content": base64.encodebytes(raw).decode()}


LATIN1 = _file("# Mainteneur : Jos\u00e9\ncore:\n  max_attempts: 3\n".encode("latin-1"))
TOO_LARGE = {"type": "file", "encoding": "none", "content": "", "sha": "b" * 40, "path": PATH,
             "size": 2_000_000}
DIRECTORY = [{"type": "file", "name": "a.yml", "path": f"{PATH}/a.yml"}]


def _push() -> dict:
    return {"ref": "refs/heads/main", "after": SHA,
            "repository": {"full_name": "o/r", "default_branch": "main"},
            "commits": [{"added": [], "modified": [PATH], "removed": []}]}


async def _bot_reading(answer) -> tuple[bool, str]:
    """Whether the bot itself applies the file, and why not."""

    class Contents:
        async def getitem(self, url, url_vars=None):
            return answer

    rules = bundled_rules()
    from bot.features import all_features
    from bot.rules.registry import sections_of

    result = await RepoRules(rules, sections_of(all_features()), MemoryLastGoodStore()).get("o/r", Contents())
    return not result.problems, "; ".join(p.message for p in result.problems)


@pytest.mark.parametrize("answer, why", [(LATIN1, "not UTF-8 text"), (TOO_LARGE, "too large"),
                                         (DIRECTORY, "directory")], ids=["latin1", "too-large", "directory"])
async def test_a_file_the_bot_will_not_apply_fails_its_check_with_the_bots_reason(answer, why):
    applied, reason = await _bot_reading(answer)
    assert not applied  # the bot keeps the last good rules for this file...
    event, ctx = make_context("push", _push(), db=None, reader=RecordingReader({CONTENTS: answer}))
    [check] = await on_push(event, ctx)
    # ...and the check on the commit that changed it says so, with the same reason.
    assert (check.name, check.head_sha, check.conclusion) == (CHECK_NAME, SHA, "failure")
    assert reason.split(" (")[0].split(",")[0] in check.summary
    assert why in check.summary


async def test_a_readable_file_is_still_judged_on_its_content():
    good = _file(b"core:\n  max_attempts: 3\n")
    event, ctx = make_context("push", _push(), db=None, reader=RecordingReader({CONTENTS: good}))
    [check] = await on_push(event, ctx)
    assert check.conclusion == "success"
    broken = _file(b"core:\n  max_attempts: lots\n")
    event, ctx = make_context("push", _push(), db=None, reader=RecordingReader({CONTENTS: broken}))
    [check] = await on_push(event, ctx)
    assert check.conclusion == "failure" and "max_attempts" in check.summary
