"""Acceptance (check runs): another app's check run of the same name on the same commit
(GitHub sends ``external_id: null`` for most) neither breaks ours nor gets edited."""
from __future__ import annotations

from bot.core import actions as A

from .test_executor_e2e import REPO, run


async def test_someone_elses_same_name_check_with_null_external_id(rt, fake_github):  # noqa: F811
    sha = "b" * 40
    theirs = fake_github.add_check_run(REPO, "cla", sha, external_id=None, app_id=99999,
                                       status="completed", conclusion="failure")
    outcome = await run(rt, "d1", A.UpsertCheckRun(repo=REPO, name="cla", head_sha=sha, conclusion="success",
                                                   title="ok", summary="all signed"))
    assert not outcome.failed
    ours = [r for r in fake_github.state.check_runs.values() if r.head_sha == sha and r.id != theirs.id]
    assert len(ours) == 1 and ours[0].conclusion == "success"
    assert theirs.conclusion == "failure"
