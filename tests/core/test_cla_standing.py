"""A recorded CLA verdict weighed again against the signatures on record (table-driven)."""
from __future__ import annotations

import pytest

from bot.core import cla_report
from bot.core.cla import Account, weigh_again

ALICE, BOB = Account("alice", 1), Account("bob", 2)
INS = cla_report.Instructions("I sign", "")


@pytest.mark.parametrize("mode, version, signatures, unlinked, dco, conclusion, title, must_sign", [
    ("cla", "1", {1: "1", 2: "1"}, 0, 0, "success", "Everyone has signed the CLA", []),
    # the version was raised since: signing the old one no longer covers anyone
    ("cla", "2", {1: "1", 2: "2"}, 0, 0, "action_required", "1 person needs to sign the CLA", [("alice", "1")]),
    # someone recorded as missing has signed since
    ("cla", "1", {1: "1", 2: "1"}, 0, 0, "success", "Everyone has signed the CLA", []),
    ("cla", "1", {1: "1"}, 0, 0, "action_required", "1 person needs to sign the CLA", [("bob", None)]),
    # facts of the commits stand as recorded: they need new commits, not signatures
    ("cla", "1", {1: "1", 2: "1"}, 2, 0, "failure", "2 commit emails not linked to a GitHub account", []),
    ("cla", "1", {}, 1, 0, "failure",
     "2 people need to sign the CLA; 1 commit email not linked to a GitHub account", [("alice", None), ("bob", None)]),
    # DCO only: signatures do not matter, sign-offs do
    ("dco", "1", {}, 0, 0, "success", "Every commit is signed off", []),
    ("dco", "1", {}, 0, 3, "failure", "3 commits without a matching Signed-off-by", []),
    ("both", "1", {1: "1", 2: "1"}, 0, 0, "success", "CLA signed and every commit signed off", []),
    ("both", "1", {1: "1"}, 0, 1, "failure",
     "1 person needs to sign the CLA; 1 commit without a matching Signed-off-by", [("bob", None)]),
    # a DCO failure recorded in cla mode cannot be: cla mode ignores it
    ("cla", "1", {1: "1", 2: "1"}, 0, 4, "success", "Everyone has signed the CLA", []),
])
def test_weigh_again(mode, version, signatures, unlinked, dco, conclusion, title, must_sign):
    standing = weigh_again(mode=mode, version=version, people=[ALICE, BOB], signatures=signatures,
                           unlinked_emails=unlinked, dco_failures=dco)
    assert standing.conclusion == conclusion
    assert cla_report.standing_title(standing) == title
    assert [(s.account.login, s.signed_version) for s in standing.must_sign] == must_sign


def test_summary_names_who_must_sign_and_how_without_pinging():
    standing = weigh_again(mode="cla", version="2", people=[ALICE, BOB], signatures={1: "1", 2: "2"},
                           unlinked_emails=0, dco_failures=0)
    text = cla_report.standing_summary(standing, number=7, head_sha="c" * 40, decided_version="1", ins=INS)
    assert "`alice` (signed version 1)" in text and "### Covered (1)\n- `bob`" in text
    assert "CLA version 1 then, version 2 now" in text and "```text\nI sign\n```" in text
    assert "#7 at `ccccccc`" in text and "@alice" not in text


def test_summary_of_commits_that_must_change_points_to_the_pull_request():
    standing = weigh_again(mode="dco", version="1", people=[], signatures={}, unlinked_emails=0, dco_failures=2)
    text = cla_report.standing_summary(standing, number=7, head_sha="c" * 40, decided_version="1", ins=INS)
    assert "The commits of #7 must change (2 commits without a matching Signed-off-by)" in text
    assert "Needs to sign" not in text
