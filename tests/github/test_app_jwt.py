"""The App's JWT against the fake GitHub: GitHub judges it by its own clock, the bot reuses it by
the process's monotonic clock. When the two part (the host was suspended, a VM paused, the wall
clock stepped), GitHub refuses a JWT the bot still takes for fresh: it is signed again at once,
rather than refused until the reuse period runs out by the monotonic clock."""
from __future__ import annotations

import time
import types

import gidgethub.apps

from bot.github import GitHub
from tests.fakegithub.server import FakeGitHub

from .conftest import REPO

REPO_VARS = {"owner": "octo", "repo": "widgets"}
TOKENS = "/app/installations/{installation_id}/access_tokens"


async def test_a_jwt_github_refuses_as_expired_is_signed_again(fake: FakeGitHub, github: GitHub,
                                                               monkeypatch):
    # Signed, then the host slept for 15 minutes: the monotonic clock did not move (Linux's
    # CLOCK_MONOTONIC stops during a suspend), the wall clock and GitHub's did.
    with monkeypatch.context() as m:
        m.setattr(gidgethub.apps, "time", types.SimpleNamespace(time=lambda: time.time() - 900))
        github._jwt.header()  # the JWT in use before the suspend
    # It is 15 minutes old for GitHub, and fresh by the monotonic clock. A token mint:
    api = await github.installation(1)
    assert (await api.getitem("/repos/{owner}/{repo}", REPO_VARS))["full_name"] == REPO
    assert [c.status for c in fake.calls_to("POST", TOKENS, ok_only=False)] == [401, 201]
    assert fake.violations == []


async def test_a_jwt_refused_for_another_reason_is_not_sent_again_and_again(fake: FakeGitHub,
                                                                            github: GitHub, monkeypatch):
    from tests.fakegithub.context import GitHubError

    def refused(authorization: str) -> None:
        raise GitHubError(401, "A JSON web token could not be decoded")

    monkeypatch.setattr(fake.auth, "check_jwt", refused)
    try:
        await github.installation(1)
    except Exception as exc:  # the caller's retry decides what happens next
        assert getattr(exc, "status", None) == 401
    else:  # pragma: no cover
        raise AssertionError("a refused JWT minted a token")
    assert len(fake.calls_to("POST", TOKENS, ok_only=False)) == 2  # the first, and one signed again
