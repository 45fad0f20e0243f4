"""Acceptance (label ledger): GitHub label names are case-insensitive, so a label a person put
as ``Bug`` is theirs even when a feature asks for ``bug``: the bot neither claims nor removes it."""
from __future__ import annotations

from bot.core import actions as A

from .test_executor_e2e import REPO, run


async def test_a_persons_label_in_another_case_is_not_claimed_nor_removed(rt, fake_github):  # noqa: F811
    issue = fake_github.add_issue(REPO, labels=["CLA: No"])
    await run(rt, "d1", A.AddLabels(repo=REPO, number=issue.number, labels=("cla: no",)))
    await run(rt, "d2", A.RemoveLabel(repo=REPO, number=issue.number, label="cla: no"))
    assert not fake_github.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
    assert not fake_github.calls_to("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}")
    assert fake_github.issue(REPO, issue.number).labels == ["CLA: No"]
    # The same two actions on an issue without it: the bot adds the label, so it is the bot's
    # to remove (the executor does act on these actions; only the person's label is spared).
    other = fake_github.add_issue(REPO)
    await run(rt, "d3", A.AddLabels(repo=REPO, number=other.number, labels=("cla: no",)))
    # (GitHub names it as the repository's label already is: "CLA: No")
    assert [name.lower() for name in fake_github.issue(REPO, other.number).labels] == ["cla: no"]
    await run(rt, "d4", A.RemoveLabel(repo=REPO, number=other.number, label="cla: no"))
    assert fake_github.issue(REPO, other.number).labels == []
