"""An installation token that has to be minted again in the middle of a delivery (it expired
early, or was revoked) while GitHub refuses the App's JWT for a while (clocks that disagree, a
JWT reused past its expiry): that is no fault of the action being performed. The action must
be tried again with the delivery, not recorded as failed for good and skipped by every retry."""
from __future__ import annotations

import pytest

from bot.core import actions as A
from bot.executor import Executor
from bot.github import TransientGitHubError
from bot.store import state
from tests.fakegithub.context import GitHubError

REPO = "octo/repo"
TOKENS = "/app/installations/{installation_id}/access_tokens"


def refuse_jwts(fake_github, monkeypatch) -> None:
    def refused(authorization: str) -> None:
        raise GitHubError(401, "'Issued at' claim ('iat') must be an Integer representing the time "
                               "that the assertion was issued")

    monkeypatch.setattr(fake_github.auth, "check_jwt", refused)


async def test_an_action_whose_token_cannot_be_minted_now_is_tried_again_with_the_delivery(
        rt, fake_github, monkeypatch):
    issue = fake_github.add_issue(REPO, title="A bug", user="alice")
    add = A.AddLabels(repo=REPO, number=issue.number, labels=("needs-triage",))
    ex: Executor = rt.executor
    await rt.api(1)  # the token the delivery starts with
    fake_github.auth.tokens.clear()  # ... which GitHub no longer takes
    with monkeypatch.context() as m:
        refuse_jwts(fake_github, m)
        with pytest.raises(TransientGitHubError):
            await ex.run(delivery_id="d1", installation_id=1, batches=[("classify", [add])])
    assert fake_github.calls_to("POST", TOKENS, ok_only=False)[-1].status == 401
    # The delivery's retry, once GitHub takes the App's JWT again.
    out = await ex.run(delivery_id="d1", installation_id=1, batches=[("classify", [add])], retrying=True)
    assert out.done == [add.describe()] and not out.failed
    assert fake_github.issue(REPO, issue.number).labels == ["needs-triage"]
    assert await state.bot_labels(rt.db, REPO, issue.number) == {"needs-triage"}
    assert fake_github.violations == []
