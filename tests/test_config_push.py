"""Which pushes make the bot read a repository's rules again (bot.pipeline.touches_config):
one to the default branch that changed the override file, and, when the payload is not shaped
as GitHub's, any such push rather than a failed delivery."""
from __future__ import annotations

import pytest

from bot.core.events import Event
from bot.pipeline import touches_config

CONFIG = ".github/contributor-flow.yml"


def push(commits, ref: str = "refs/heads/main") -> Event:
    return Event(name="push", payload={"ref": ref, "repository": {"default_branch": "main"}, "commits": commits})


def commit(**files) -> dict:
    return {"added": [], "modified": [], "removed": [], **files}


@pytest.mark.parametrize("commits, touched", [
    ([commit(modified=["README.md"])], False),
    ([commit(modified=["README.md"]), commit(removed=[CONFIG])], True),
    ([commit(added=[CONFIG])], True),
    ([], False),
])
def test_a_push_to_the_default_branch_touches_the_rules_when_a_commit_changes_the_file(commits, touched):
    assert touches_config(push(commits), CONFIG) is touched


def test_a_push_to_another_branch_never_does():
    assert touches_config(push([commit(modified=[CONFIG])], ref="refs/heads/go"), CONFIG) is False


@pytest.mark.parametrize("commits", [
    ["not a commit"], [commit(modified=CONFIG)], [{"added": []}], {"0": commit()}, None,
])
def test_a_malformed_commits_list_reads_the_rules_again_instead_of_failing(commits):
    assert touches_config(push(commits), CONFIG) is True
