"""Merge-group decisions without I/O: which pull request a group is for, and what each check says
on the group's commit (table-driven)."""
from __future__ import annotations

import pytest

from bot.core.merge_group import (Ahead, GroupCheck, HeldCheck, Pull, QueueRef, behind, branch_of, decide,
                                  is_queue_branch, mirror, parse_queue_ref, unidentified, unusable_pull)

SHA = "929f8209d40f77f4abc622a499c93a83babdbe64"
HEAD = "a" * 40
OTHER = "b" * 40


@pytest.mark.parametrize("ref, expected", [
    (f"refs/heads/gh-readonly-queue/main/pr-104-{SHA}", QueueRef("main", 104, SHA)),
    # a base branch may hold slashes; the number and sha are read from the end
    (f"refs/heads/gh-readonly-queue/release/1.x/pr-7-{SHA}", QueueRef("release/1.x", 7, SHA)),
    (f"refs/heads/gh-readonly-queue/feature/pr-3-x/pr-12-{SHA}", QueueRef("feature/pr-3-x", 12, SHA)),
    (f"gh-readonly-queue/main/pr-104-{SHA}", None),            # not a full ref
    (f"refs/heads/main/pr-104-{SHA}", None),                   # not a merge-queue branch
    (f"refs/heads/gh-readonly-queue/main/pr-104-{SHA[:39]}", None),
    (f"refs/heads/gh-readonly-queue/main/pr-104-{SHA.upper()}", None),
    (f"refs/heads/gh-readonly-queue/main/pr-0-{SHA}", None),   # no pull request 0
    (f"refs/heads/gh-readonly-queue/pr-104-{SHA}", None),      # no base
    (f"refs/heads/gh-readonly-queue/main/pr-104-{SHA}\n", None),
    ("", None),
])
def test_parse_queue_ref(ref, expected):
    assert parse_queue_ref(ref) == expected


@pytest.mark.parametrize("ref, branch", [("refs/heads/main", "main"), ("refs/heads/a/b", "a/b"), ("main", "main")])
def test_branch_of(ref, branch):
    assert branch_of(ref) == branch


@pytest.mark.parametrize("name, expected", [
    (f"gh-readonly-queue/release/1.x/pr-7-{SHA}", True),       # a check suite's head_branch
    (f"refs/heads/gh-readonly-queue/main/pr-7-{SHA}", True),
    ("gh-readonly-queue-not/main", False), ("main", False), ("feature/gh-readonly-queue/x", False),
    ("", False), (None, False),
])
def test_is_queue_branch(name, expected):
    assert is_queue_branch(name) is expected


def test_unidentified_fails_every_check_it_could_owe():
    checks = unidentified(["cla", "patch-signature"], "refs/heads/elsewhere")
    assert [(c.name, c.status, c.conclusion) for c in checks] == [
        ("cla", "completed", "failure"), ("patch-signature", "completed", "failure")]
    assert checks[0].title == "Merge group not tied to a pull request"
    assert "`refs/heads/elsewhere`" in checks[0].summary


@pytest.mark.parametrize("pull, base, title", [
    (None, "main", "Pull request #5 not found"),
    (Pull(5, HEAD, "closed", "main"), "main", "Pull request #5 is closed"),
    (Pull(5, HEAD, "open", "develop"), "main", "Pull request #5 targets another branch"),
    (Pull(5, HEAD, "open", "main"), "main", None),
    (Pull(5, HEAD, "open", ""), "main", None),                 # nothing to compare: usable
])
def test_unusable_pull(pull, base, title):
    found = unusable_pull(["cla"], 5, pull, base)
    if title is None:
        assert found is None
    else:
        [check] = found
        assert (check.name, check.conclusion, check.title) == ("cla", "failure", title)
        assert "#5" in check.summary


PULL = Pull(5, HEAD)


@pytest.mark.parametrize("held, status, conclusion, title, says", [
    # the verdict held for the queued head is reported as it is
    (HeldCheck(HEAD, conclusion="success", title="Everyone has signed the CLA", summary="covered"),
     "completed", "success", "Everyone has signed the CLA", "covered"),
    (HeldCheck(HEAD, conclusion="action_required", title="1 person needs to sign the CLA"),
     "completed", "action_required", "1 person needs to sign the CLA", "`aaaaaaa`"),
    # a verdict for another head, or none at all: a failure, never a pass nor a wait
    (HeldCheck(OTHER, conclusion="success", title="Everyone has signed the CLA"),
     "completed", "failure", "No verdict for the queued head", "is for `bbbbbbb`, not for the queued head `aaaaaaa`"),
    (None, "completed", "failure", "No verdict for the queued head", "holds no `cla` verdict for #5"),
    # decided for the group's own commit (no head): reported as it is
    (HeldCheck(None, conclusion="failure", title="2 problem(s)"), "completed", "failure", "2 problem(s)",
     "decided again for this merge group's commit"),
    # a verdict still running stays running (the job follows it until it ends)
    (HeldCheck(HEAD, status="in_progress", title="patch-apply running"), "in_progress", None, "patch-apply running",
     "Should that verdict change"),
    (HeldCheck(HEAD, status="queued", title="Dispatched"), "queued", None, "Dispatched", ""),
    # a completed verdict without a conclusion is no pass
    (HeldCheck(HEAD, title="odd"), "completed", "failure", "odd", ""),
    (HeldCheck(HEAD, status="weird", conclusion="success"), "completed", "success", "cla", ""),
])
def test_mirror(held, status, conclusion, title, says):
    check = mirror("cla", PULL, held, followed=True)
    assert (check.name, check.status, check.conclusion, check.title) == ("cla", status, conclusion, title)
    assert says in check.summary


def test_mirror_says_it_follows_only_what_it_follows():
    held = HeldCheck(None, conclusion="success", title="valid")
    assert "Should that verdict change" not in mirror("x", PULL, held, followed=False).summary
    assert "Should that verdict change" in mirror("x", PULL, held, followed=True).summary


def test_decide_reports_only_what_was_reported_on_the_pull_request():
    found = {"cla": HeldCheck(HEAD, conclusion="success"), "patch-pipeline": None}
    checks = decide(PULL, found, frozenset({"cla", "patch-pipeline"}))
    assert [(c.name, c.conclusion) for c in checks] == [("cla", "success"), ("patch-pipeline", "failure")]
    assert decide(PULL, {}, frozenset()) == []


def test_digest_tells_a_changed_check():
    a = GroupCheck("cla", "completed", "success", "t", "s")
    assert a.digest == GroupCheck("cla", "completed", "success", "t", "s").digest
    for other in (GroupCheck("cla", "completed", "failure", "t", "s"), GroupCheck("cla", "completed", "success", "t", "s2"),
                  GroupCheck("cla", "in_progress", None, "t", "s"), GroupCheck("x", "completed", "success", "t", "s")):
        assert other.digest != a.digest


OWN_PASS = GroupCheck("cla", "completed", "success", "Everyone has signed the CLA", "own summary")
OWN_FAIL = GroupCheck("cla", "completed", "action_required", "1 person needs to sign the CLA", "own summary")
OWN_RUNNING = GroupCheck("cla", "in_progress", None, "patch-apply", "own summary")


@pytest.mark.parametrize("own, ahead, status, conclusion, title", [
    # nothing ahead (stacked on the base branch), or the group ahead passes: its own verdict
    (OWN_PASS, None, "completed", "success", OWN_PASS.title),
    (OWN_PASS, Ahead(4, "completed", "success", "ok"), "completed", "success", OWN_PASS.title),
    (OWN_PASS, Ahead(4, "completed", "neutral", "ok"), "completed", "success", OWN_PASS.title),
    (OWN_RUNNING, Ahead(4, "completed", "skipped", "ok"), "in_progress", None, "patch-apply"),
    # the group ahead fails or still runs: this one waits for it (never passes), saying for whom
    (OWN_PASS, Ahead(4, "completed", "action_required", "1 person needs to sign the CLA"), "in_progress",
     None, "Waiting for #4 ahead in this group: 1 person needs to sign the CLA"),
    (OWN_RUNNING, Ahead(4, "completed", "failure", "x"), "in_progress", None, "Waiting for #4 ahead in this group: x"),
    (OWN_PASS, Ahead(None, "completed", "failure", "x"), "in_progress", None,
     "Waiting for the pull request ahead in this group: x"),
    (OWN_PASS, Ahead(4, "in_progress", None, "patch-apply"), "in_progress", None,
     "Waiting for #4 ahead in this group: patch-apply"),
    (OWN_PASS, Ahead(4, "queued", None, "Dispatched"), "in_progress", None,
     "Waiting for #4 ahead in this group: Dispatched"),
    # its own failure stands as it is
    (OWN_FAIL, Ahead(4, "completed", "failure", "x"), "completed", "action_required", OWN_FAIL.title),
    (OWN_FAIL, Ahead(4, "in_progress", None, "x"), "completed", "action_required", OWN_FAIL.title),
])
def test_behind(own, ahead, status, conclusion, title):
    check = behind(own, ahead, 5)
    assert (check.name, check.status, check.conclusion, check.title) == ("cla", status, conclusion, title)
    assert check.summary.endswith("own summary")
    if check != own:
        assert "ahead of #5 in the queue" in check.summary and "`cla` check" in check.summary
        assert ("fails on its own group" in check.summary) is (ahead.status == "completed")


def test_behind_neutralizes_the_title_ahead_in_its_summary():
    check = behind(OWN_PASS, Ahead(4, "completed", "failure", "@team <b>#12</b>"), 5)
    assert "@team" not in check.summary and "<b>" not in check.summary
