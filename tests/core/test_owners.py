"""OWNERS / OWNERS_ALIASES / CODEOWNERS parsing."""
from __future__ import annotations

import pytest

from bot.core.owners import parse_aliases, parse_codeowners, parse_owners


def test_owners_top_level_and_filters_with_aliases():
    aliases, problems = parse_aliases("aliases:\n  sig-docs: [Dora, ed]\n")
    assert problems == []
    owners = parse_owners(
        "approvers:\n- Alice\n- sig-docs\nreviewers: [bob]\n"
        "filters:\n  '\\.md$':\n    approvers: [carol]\n    reviewers: [dan]\n", aliases)
    assert owners.approvers == {"alice", "dora", "ed", "carol"}
    assert owners.reviewers == {"bob", "dan"}


@pytest.mark.parametrize("text", ["approvers: [", "- just\n- a list\n", "", None])
def test_broken_or_empty_owners_grant_nothing(text):
    owners = parse_owners(text)
    assert owners.approvers == frozenset() and owners.reviewers == frozenset()


def test_codeowners_users_and_teams_but_not_emails_or_comments():
    owners = parse_codeowners(
        "# top comment\n*       @Alice @octo/Core-Team\n/docs/  docs@example.com @bob # @mallory\n"
        "\\#odd   @carol\n")
    assert owners.approvers == {"alice", "bob", "carol"}
    assert owners.approver_teams == {"octo/core-team"}


def test_enterprise_managed_users_are_owners_in_both_files():
    # EMU logins end in "_SHORTCODE"; a trailing or leading underscore is no login.
    owners = parse_owners("approvers: [jdoe_acme, _acme, jdoe_]\nreviewers: [Ann-Lee_acme]\n")
    assert owners.approvers == {"jdoe_acme"} and owners.reviewers == {"ann-lee_acme"}
    codeowners = parse_codeowners("*  @jdoe_acme @octo/core_team\n/docs/ @jdoe_\n")
    assert codeowners.approvers == {"jdoe_acme"} and codeowners.approver_teams == {"octo/core_team"}
