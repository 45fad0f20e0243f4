"""Reviewer selection: eligible owners, per-PR cap, reviewers' load."""
from __future__ import annotations

import pytest

from bot.core.impact import Impact
from bot.features.pr_context.reviewers import candidates, choose_reviewers


@pytest.mark.parametrize("name, owners, already, cap, loads, users, teams, skipped", [
    ("fills the cap in declared order", ["a", "b", "c"], [], 2, {}, ("a", "b"), (), {"c"}),
    ("author is never asked", ["ann", "b"], [], 2, {}, ("b",), (), {"ann"}),
    ("author compared without case", ["ANN", "b"], [], 2, {}, ("b",), (), {"ANN"}),
    ("existing requests count against the cap", ["a", "b"], ["z"], 2, {}, ("a",), (), {"b"}),
    ("no free slot", ["a"], ["y", "z"], 2, {}, (), (), {"a"}),
    ("already requested is not asked again", ["a", "b"], ["A"], 3, {}, ("b",), (), {"a"}),
    ("least loaded first", ["a", "b", "c"], [], 2, {"a": 4, "b": 1, "c": 2}, ("b", "c"), (), {"a"}),
    ("load at the limit skips", ["a", "b"], [], 2, {"a": 5}, ("b",), (), {"a"}),
    ("unknown load does not block", ["a"], [], 1, {"a": None}, ("a",), (), set()),
    ("teams of the repo owner", ["acme/core", "a"], [], 2, {}, ("a",), ("core",), set()),
    ("teams of another org are skipped", ["other/core"], [], 2, {}, (), (), {"other/core"}),
    ("e-mail and bot owners are skipped", ["x@y.org", "dependabot[bot]"], [], 2, {}, (), (),
     {"x@y.org", "dependabot[bot]"}),
    ("cap zero asks nobody", ["a"], [], 0, {}, (), (), {"a"}),
    ("one owner in two cases takes one slot", ["alice", "Alice", "bob"], [], 2, {}, ("alice", "bob"),
     (), set()),
    ("one team in two cases takes one slot", ["acme/Core", "acme/core", "a"], [], 2, {}, ("a",),
     ("Core",), set()),
])
def test_choose_reviewers(name, owners, already, cap, loads, users, teams, skipped):
    choice = choose_reviewers(owners, repo_owner="acme", author="ann", already=already, cap=cap,
                              load_cap=5, loads=loads)
    assert choice.users == users, name
    assert choice.teams == teams, name
    assert set(choice.skipped) == skipped, name


def test_candidates_are_direct_owners_once_in_order():
    impact = Impact(direct=("core", "docs"), transitive=("cli",))
    owners = {"core": ("a", "b"), "docs": ("b", "c"), "cli": ("d",), "": ("e",)}
    assert candidates(impact, owners) == ["a", "b", "c"]


def test_candidates_ignore_case():
    impact = Impact(direct=("core", "docs"), transitive=())
    owners = {"core": ("alice", "acme/Core"), "docs": ("Alice", "acme/core", "BOB")}
    assert candidates(impact, owners) == ["alice", "acme/Core", "BOB"]


def test_owners_github_refused_on_this_pr_leave_their_slot_to_others():
    choice = choose_reviewers(["gone", "a", "b"], repo_owner="acme", author="ann", already=[],
                              cap=2, load_cap=5, loads={}, refused=["Gone"])
    assert choice.users == ("a", "b")
    assert choice.skipped == {"gone": "GitHub refused an earlier request (not a collaborator?)"}
