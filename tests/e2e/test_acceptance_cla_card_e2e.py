"""Acceptance (issues 5 and 6), end to end: a commit identity written to look like the context
card's marker (anyone can put anything in a commit's name and email) is shown inertly in the
CLA comment, and the card made later is a comment of its own: the CLA comment is not taken
for the card and overwritten."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.features import all_features
from bot.rules.registry import sections_of
from bot.settings import BUNDLED_RULES

from .harness import BotHarness
from .test_cla_e2e import REPO, pr_event

CARD = "<!-- contributor-flow:context-card -->"
CLA = "<!-- contributor-flow:cla -->"


@pytest.fixture
async def bot(fake_github, database_url, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    for name in ("core", "cla", "components"):
        shutil.copy(Path(BUNDLED_RULES) / f"{name}.yml", rules / f"{name}.yml")
    for section in sections_of(all_features()):
        if section.name not in ("core", "cla", "components"):
            (rules / f"{section.name}.yml").write_text("enabled: false\n")
    fake_github.add_repo(REPO)
    fake_github.add_user("alice")
    async with BotHarness(fake_github, database_url=database_url, rules_dir=str(rules)) as harness:
        yield harness


async def test_a_marker_in_a_commit_email_does_not_make_the_cla_comment_the_card(bot):
    fake = bot.fake
    pr = fake.add_pull(REPO, user="alice", draft=True, files=["docs/index.md"], commits=[
        {"message": "Hello", "author": "alice", "author_name": "@org/team </details>",
         "author_email": f"{CARD}@evil.example"}])
    await bot.deliver("pull_request", pr_event(fake, pr.number))          # draft: CLA only, no card
    [cla] = [c for c in fake.issue(REPO, pr.number).comments if CLA in c.body]
    assert CARD not in cla.body and "</details>" not in re.sub(r"`[^`]*`", "", cla.body)
    assert "@org/team" not in cla.body

    fake.issue(REPO, pr.number).pull.draft = False
    await bot.deliver("pull_request", pr_event(fake, pr.number, "ready_for_review"))
    comments = fake.issue(REPO, pr.number).comments
    assert [c.id for c in comments if c.body.startswith(CARD)] != [cla.id]
    assert CLA in next(c for c in comments if c.id == cla.id).body      # the CLA comment is intact
    assert len([c for c in comments if c.body.startswith(CARD)]) == 1
